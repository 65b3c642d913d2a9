"""A damaged compile cache never fails a user's call: every file of an entry (library,
checksum, lock) x every kind of damage is detected, reported once and rebuilt.
Also the eager-compile flag ``c_lazy=False``."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import backends.c as c
import core.tensor as T
from backends.c import compiler
from core import function
from core.config import config

from c_helpers import needs_cc

pytestmark = needs_cc
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SOURCE = """
static int lg_answer(void) { return %d; }
static void *lg_table[] = {(void *)lg_answer};
void *lg_get(int i) { return lg_table[i]; }
"""


def _rewrite(path, data: bytes):
    # a new file, as another process would leave it: this process may still have the
    # old library mapped, and cutting a mapped file in place kills it (SIGBUS)
    os.unlink(path)
    with open(path, "wb") as f:
        f.write(data)


def _truncate(path):
    with open(path, "rb") as f:
        data = f.read()
    _rewrite(path, data[: max(len(data) // 2, 1)])


def _empty(path):
    _rewrite(path, b"")


def _random_bytes(path):
    _rewrite(path, np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _invalid_utf8(path):
    _rewrite(path, b"\xff\xfe\xc3\x28" * 16 + b"\x80abc")


def _unreadable(path):
    # a link to itself: unreadable for every user, root included (chmod 000 is not, for root)
    os.unlink(path)
    os.symlink(os.path.basename(path), path)


def _folder(path):
    os.unlink(path)
    os.makedirs(os.path.join(path, "inner"))


DAMAGE = {"truncated": _truncate, "empty": _empty, "random_bytes": _random_bytes,
          "invalid_utf8": _invalid_utf8, "unreadable": _unreadable, "folder": _folder}
FILES = {"library": ".so", "checksum": ".sha256", "lock": ".lock"}


@pytest.fixture
def fresh_process_state(monkeypatch, tmp_path):
    """A compiledir of its own, no module loaded yet, no warning given yet."""
    monkeypatch.setattr(compiler, "_loaded", {})
    monkeypatch.setattr(compiler, "_warned", set())
    with config.change_flags(compiledir=str(tmp_path)):
        yield tmp_path


def _load(answer: int) -> int:
    (pointer,) = compiler.load_module(SOURCE % answer, 1)
    return compiler.ffi.cast("int (*)(void)", pointer)()


def _entry(tmp_path, suffix: str) -> str:
    found = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs + _ if
             f.endswith(suffix)]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("which", list(FILES))
def test_a_damaged_entry_is_reported_once_and_rebuilt(fresh_process_state, which, damage):
    tmp_path = fresh_process_state
    answer = 1000 + list(FILES).index(which) * 10 + list(DAMAGE).index(damage)
    assert _load(answer) == answer
    path = _entry(tmp_path, FILES[which])
    DAMAGE[damage](path)
    if which == "lock":
        # the lock is taken only to build: make the entry need one (a cold cache)
        os.unlink(_entry(tmp_path, ".so"))
        os.unlink(_entry(tmp_path, ".sha256"))
    compiler._loaded.clear()  # as a new process would
    builds = []
    real_build = compiler._build
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiler._build = lambda *a: (builds.append(1), real_build(*a))[1]
        try:
            assert _load(answer) == answer
            compiler._loaded.clear()
            assert _load(answer) == answer  # the rebuilt entry is valid: found, not rebuilt
        finally:
            compiler._build = real_build
    assert builds == [1]
    reports = [w for w in caught if "damaged" in str(w.message)]
    # a lock's content is never read, so only a lock that cannot be opened is damage
    lock_content_only = which == "lock" and damage not in ("unreadable", "folder")
    assert len(reports) == (0 if lock_content_only else 1), [str(w.message) for w in caught]
    assert all(issubclass(w.category, RuntimeWarning) for w in reports)
    assert os.path.isfile(_entry(tmp_path, ".so")) and not os.path.islink(
        _entry(tmp_path, FILES[which]))


@pytest.mark.parametrize("level", ["c", "entry_folder"])
def test_a_file_in_place_of_a_cache_folder_is_replaced(fresh_process_state, level):
    tmp_path = fresh_process_state
    assert _load(3) == 3
    folder = os.path.dirname(_entry(tmp_path, ".so"))
    target = os.path.join(tmp_path, "c") if level == "c" else folder
    shutil.rmtree(target)
    with open(target, "wb") as f:
        f.write(b"not a folder")
    compiler._loaded.clear()
    with pytest.warns(RuntimeWarning, match="is not a folder"):
        assert _load(3) == 3
    assert os.path.isdir(folder) and os.path.isfile(_entry(tmp_path, ".so"))


def test_the_warning_is_given_once_per_process(fresh_process_state):
    tmp_path = fresh_process_state
    for answer in (1, 2):
        _load(answer)
    sums = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs
            if f.endswith(".sha256")]
    for path in sums:
        _random_bytes(path)
    compiler._loaded.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [_load(1), _load(2)] == [1, 2]
    assert len([w for w in caught if "damaged" in str(w.message)]) == 1


def test_a_library_that_passes_its_checksum_but_will_not_load_is_rebuilt(fresh_process_state):
    tmp_path = fresh_process_state
    assert _load(7) == 7
    lib, sums = _entry(tmp_path, ".so"), _entry(tmp_path, ".sha256")
    _rewrite(lib, b"not a shared library")
    _rewrite(sums, compiler._digest(lib).encode())
    # a new process: this one would find the library already loaded under that path
    code = ("import warnings; warnings.simplefilter('always')\n"
            "from backends.c import compiler\n"
            f"(p,) = compiler.load_module({SOURCE % 7!r}, 1)\n"
            "print(compiler.ffi.cast('int (*)(void)', p)())\n")
    env = dict(os.environ, PYTHONPATH=ROOT, LAYERS_ON_GRAPH_FLAGS=f"compiledir={tmp_path}")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.split() == ["7"], out.stderr
    assert "loader rejects it" in out.stderr and out.stderr.count("damaged") == 1


def test_random_bytes_in_a_checksum_do_not_fail_a_compiled_function(fresh_process_state):
    """The issue's case: a UnicodeDecodeError used to escape from the user's call."""
    tmp_path = fresh_process_state
    x = T.dvector("x")
    data = np.linspace(0, 1, 1000)
    with config.change_flags(backend="c", c_lazy=False):
        f = function([x], T.exp(x) * 3.25 - 1)
        want = f(data)
        _random_bytes(_entry(tmp_path, ".sha256"))
        compiler._loaded.clear()
        with pytest.warns(RuntimeWarning, match="damaged"):
            g = function([x], T.exp(x) * 3.25 - 1)
    np.testing.assert_array_equal(g(data), want)
    assert all(k.runs == "c" and k.bind_slot is None for k in g.program.kernels)  # compiled C


def test_c_lazy_false_builds_the_module_when_the_function_is_compiled(fresh_process_state,
                                                                      monkeypatch):
    calls = []
    real = c.load_module
    monkeypatch.setattr(c, "load_module", lambda *a: (calls.append(1), real(*a))[1])
    x = T.dvector("x")
    with config.change_flags(backend="c"):
        lazy = function([x], T.tanh(x) * 5 + 1)
        assert calls == []  # lazy (the default): nothing built before enough work
        with config.change_flags(c_lazy=False):
            eager = function([x], T.tanh(x) * 6 + 1)
        assert calls == [1]
    small = np.ones(4)
    np.testing.assert_allclose(eager(small), np.tanh(small) * 6 + 1)
    np.testing.assert_allclose(lazy(small), np.tanh(small) * 5 + 1)
    assert calls == [1]


def test_c_lazy_from_the_environment():
    code = "from core import config; print(config.c_lazy, type(config.c_lazy).__name__)"
    env = dict(os.environ, PYTHONPATH=ROOT, LAYERS_ON_GRAPH_FLAGS="c_lazy=False")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.stdout.split() == ["False", "bool"], out.stderr
