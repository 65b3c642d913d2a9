"""One process: the distribution API answers as Keras's, and fit runs exactly as without it."""
from __future__ import annotations

import numpy as np
import pytest

from layers_on_graph import Input, Sequential, distribution, layers, utils
from layers_on_graph.distribution import host


@pytest.fixture(autouse=True)
def no_distribution():
    yield
    distribution.set_distribution(None)


def test_one_process_api():
    distribution.initialize()
    distribution.initialize(num_processes=1, process_id=0)
    with pytest.raises(ValueError, match="num_processes=4"):
        distribution.initialize(num_processes=4)
    assert distribution.process_index() == 0 and distribution.num_processes() == 1
    assert distribution.list_devices() == ["cpu:0"]
    assert distribution.distribution() is None
    dp = distribution.DataParallel()
    distribution.set_distribution(dp)
    assert distribution.distribution() is dp and not distribution.active()
    distribution.barrier()


def test_bad_arguments():
    with pytest.raises(ValueError, match="MPI processes"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(TypeError, match="DataParallel"):
        distribution.set_distribution("data")


def _trained(parallel: bool):
    distribution.set_distribution(distribution.DataParallel() if parallel else None)
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(4,)), layers.Dense(5, activation="relu"),
                        layers.BatchNormalization(synchronized=True), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(50, 4)), rng.normal(size=50), batch_size=16, epochs=2, verbose=0)
    return model.get_weights()


def test_fit_is_unchanged_on_one_process():
    for a, b in zip(_trained(False), _trained(True)):
        np.testing.assert_array_equal(a, b)


class Comm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


@pytest.mark.parametrize("lo,hi,size", [(0, 32, 2), (96, 101, 2), (96, 97, 2), (0, 10, 3),
                                        (3, 4, 4)])
def test_local_slices_split_the_batch(monkeypatch, lo, hi, size):
    rows = []
    for rank in range(size):
        monkeypatch.setattr(host, "_comm", lambda: Comm(rank, size))
        part = host.local_slice(lo, hi)
        rows.extend(range(part.start, part.stop))
        assert part.stop - part.start in ((hi - lo) // size, -(-(hi - lo) // size))
    assert rows == list(range(lo, hi))


def test_file_writers_run_on_process_zero_only(monkeypatch):
    from layers_on_graph.callbacks import CSVLogger, EarlyStopping

    cbs = [CSVLogger("log.csv"), EarlyStopping()]
    monkeypatch.setattr(host, "_comm", lambda: Comm(1, 2))
    monkeypatch.setattr(host.runtime, "process_index", lambda: 1)
    assert host.local_callbacks(cbs) == cbs[1:] and host.local_verbose(1) == 0
    monkeypatch.setattr(host.runtime, "process_index", lambda: 0)
    assert host.local_callbacks(cbs) == cbs and host.local_verbose(1) == 1
