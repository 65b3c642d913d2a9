"""Data-parallel training under ``mpiexec -n 2``: each scenario of mpi_worker.py runs as a
subprocess with a timeout; skipped where mpiexec or mpi4py cannot start two processes."""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi_worker.py")
FAULT_WORKER = os.path.join(os.path.dirname(WORKER), "mpi_fault_worker.py")
SPLIT_WORKER = os.path.join(os.path.dirname(WORKER), "mpi_split_worker.py")
TIMEOUT = 120  # far above the few seconds a scenario takes: a hang fails, never blocks CI


def _mpiexec() -> str | None:
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside_python if os.access(beside_python, os.X_OK) else shutil.which("mpiexec")


def _env() -> dict:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


@functools.lru_cache(maxsize=None)
def _launcher() -> str:
    """mpiexec if it starts two mpi4py processes here; the reason to skip otherwise."""
    mpiexec = _mpiexec()
    if mpiexec is None:
        return "skip: no mpiexec (pip install mpich mpi4py)"
    probe = "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2"
    try:
        done = subprocess.run([mpiexec, "-n", "2", sys.executable, "-c", probe], env=_env(),
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"skip: mpiexec cannot start ({exc})"
    if done.returncode:
        return f"skip: mpiexec -n 2 with mpi4py failed: {done.stderr[-300:]}"
    return mpiexec


def run_worker(*args: str, script: str = WORKER, cwd: str | None = None):
    launcher = _launcher()
    if launcher.startswith("skip:"):
        pytest.skip(launcher[6:])
    before = _mpich_segments()
    done = subprocess.run([launcher, "-n", "2", sys.executable, script, *args], env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)
    if done.returncode:  # a process that died never unlinked MPICH's shared memory
        for name in _mpich_segments() - before:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(SHM, name))
    return done


SHM = "/dev/shm"


def _mpich_segments() -> set[str]:
    """MPICH's shared-memory files (each run's own; an aborted run leaves its behind)."""
    try:
        return {n for n in os.listdir(SHM) if n.startswith("mpich_shm_")}
    except OSError:
        return set()


@pytest.mark.parametrize("scenario", ["mlp", "uneven", "lstm", "stateful", "cnn_sync_bn",
                                      "default_bn",
                                      "core_loop", "gather_rows", "debug_nan", "array_metrics",
                                      "stream",
                                      "no_shared_memory", "no_room_for_weights",
                                      "windows_freed"])
def test_same_weights_as_one_process(scenario):
    done = run_worker(scenario)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"OK {scenario}" in done.stdout


def test_split_pair_same_weights_as_one_process():
    done = run_worker("split_pair", script=SPLIT_WORKER)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "OK split_pair" in done.stdout


def test_files_written_once_and_load_back(tmp_path):
    done = run_worker("save", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = sorted(os.listdir(tmp_path))
    assert names == ["ckpt.weights.h5", "final.weights.h5", "log.csv", "model.keras"]
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss" and len(rows) == 3
    assert done.stdout.count("saving model to") == 2  # ModelCheckpoint(verbose=1): process 0


def test_backup_and_tensorboard_under_two_processes(tmp_path):
    done = run_worker("backup_tensorboard", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for run in ("train",):  # one event file: process 0 alone wrote the logs
        assert len(os.listdir(tmp_path / "logs" / run)) == 1


def _aborted(scenario: str, *args: str) -> str:
    """The stderr of a scenario of mpi_fault_worker.py, which must end every process with
    an error (a hang would hit TIMEOUT)."""
    done = run_worker(scenario, *args, script=FAULT_WORKER)
    assert done.returncode != 0, done.stdout[-3000:]
    return done.stderr


def _line_of(text: str, stderr: str) -> str:
    """``FAULT_WORKER:N`` of the line of mpi_fault_worker.py that holds ``text``."""
    with open(FAULT_WORKER) as f:
        number = next(k for k, line in enumerate(f, 1) if text in line)
    assert f"{FAULT_WORKER}:{number}" in stderr, stderr[-3000:]
    return f"{FAULT_WORKER}:{number}"


def test_error_on_one_process_ends_all_with_its_message():
    stderr = _aborted("error")  # process 0 would train 1000 epochs
    assert "RuntimeError: boom on process 1" in stderr, stderr[-3000:]
    assert "[process 1]" in stderr, stderr[-3000:]


def test_collective_on_one_process_ends_all_with_the_line():
    stderr = _aborted("evaluate_on_one_process")
    line = _line_of("model.evaluate(x, y, verbose=0)  # waits", stderr)
    assert f"[process 0] waits for ever at {line} (in " in stderr
    assert "(agree), a collective) for process 1, whose script has ended" in stderr


def test_other_calls_on_other_processes_raise_naming_both():
    stderr = _aborted("evaluate_while_other_fits")
    evaluate = _line_of("model.evaluate(x, y, verbose=0)  # process 0", stderr)
    fit = _line_of("verbose=0)  # process 1, the second time", stderr)
    assert (f"RuntimeError: evaluate at {evaluate} on process 0, fit at {fit} on process 1: "
            f"under data parallel, fit, evaluate and predict are collectives") in stderr


def test_each_process_its_own_data_raises():
    stderr = _aborted("own_data")
    assert "ValueError: fit at " in stderr, stderr[-3000:]
    assert "samples: 32 on process 0, 24 on process 1" in stderr


def test_processes_waiting_in_different_collectives_end_all():
    stderr = _aborted("barrier_against_predict")
    barrier = _line_of("distribution.barrier()  # process 0", stderr)
    predict = _line_of("model.predict(x, verbose=0)  # process 1", stderr)
    assert (f"[process 0] waits for ever at {barrier} (in " in stderr
            and f"for process 1, waiting at {predict} (in " in stderr) or (
        f"[process 1] waits for ever at {predict} (in " in stderr
        and f"for process 0, waiting at {barrier} (in " in stderr), stderr[-3000:]


def test_killed_process_ends_all_and_checkpoint_stays_good(tmp_path):
    _aborted("kill", str(tmp_path))
    with h5py.File(tmp_path / "ckpt.weights.h5", "r") as f:  # the last complete checkpoint
        arrays = []
        f.visititems(lambda name, obj: arrays.append(obj[()]) if isinstance(obj, h5py.Dataset)
                     else None)
    assert len(arrays) == 4 and all(np.isfinite(a).all() for a in arrays)


def test_distributed_digits_example(tmp_path):
    example = os.path.join(os.path.dirname(WORKER), "..", "..", "..", "examples",
                           "distributed_digits.py")
    done = run_worker(str(tmp_path / "w.weights.h5"), script=example, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("2 processes: test loss"), last
    assert float(last.split("test accuracy ")[1].split(";")[0]) >= 0.97
    assert done.stdout.count("Epoch 1/15") == 1  # one progress bar, from process 0
    assert os.listdir(tmp_path) == ["w.weights.h5"]
