"""The disk cache (second process, corruption, concurrency), fallbacks, laziness and profiling."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import backends
import core.tensor as T
from backends.c import compiler
from core import function
from core.config import config

from c_helpers import backend, needs_cc

pytestmark = needs_cc
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Compiles one function eagerly; prints how many modules it had to build and a checksum.
SCRIPT = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import backends, core.tensor as T
    from backends.c import compiler
    builds = []
    real_build = compiler._build
    compiler._build = lambda *a: (builds.append(1), real_build(*a))[1]
    from core import function
    from core.config import config
    config.backend = "c"
    x = T.dvector("x")
    f = function([x], T.exp(x) * {salt} + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = f(np.arange(300000.0) / 300000)  # large: the module compiles now
    print("builds", len(builds), "warnings", sum("corrupt" in str(w.message) for w in caught),
          "sum", float(out.sum()))
""")


def _run(compiledir, salt="2.0"):
    # one thread: the worker pool's module (built where several are wanted) stays out
    env = dict(os.environ, LAYERS_ON_GRAPH_FLAGS=f"compiledir={compiledir}", PYTHONPATH=ROOT,
               OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", SCRIPT.format(salt=salt)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _result(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    words = out.split()
    return int(words[1]), int(words[3]), float(words[5])


def test_second_process_finds_the_module_and_a_corrupt_entry_is_rebuilt(tmp_path):
    builds, corrupt, total = _result(_run(tmp_path))
    assert (builds, corrupt) == (1, 0)
    builds2, corrupt2, total2 = _result(_run(tmp_path))
    assert (builds2, corrupt2, total2) == (0, 0, total)
    libs = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path) for f in fs if f.endswith(".so")]
    assert len(libs) == 1
    with open(libs[0], "r+b") as f:  # truncate the library: a crash during a copy, a full disk
        f.truncate(os.path.getsize(libs[0]) // 2)
    builds3, corrupt3, total3 = _result(_run(tmp_path))
    assert (builds3, corrupt3, total3) == (1, 1, total)
    assert _result(_run(tmp_path)) == (0, 0, total)


def test_concurrent_compiles_from_several_processes_agree(tmp_path):
    procs = [_run(tmp_path, salt="3.0") for _ in range(3)]
    results = [_result(p) for p in procs]
    assert sum(r[0] for r in results) == 1  # the lock: one process builds, the others wait
    assert len({r[2] for r in results}) == 1 and all(r[1] == 0 for r in results)


def test_no_compiler_falls_back_to_numpy_with_one_warning(monkeypatch):
    monkeypatch.setattr(compiler, "_warned", set())
    monkeypatch.setattr(compiler, "_compiler_cache", [None])
    x = T.dvector("x")
    with backend("auto"), pytest.warns(RuntimeWarning, match="no C compiler") as record:
        f = function([x], T.exp(x) + 1)
        g = function([x], T.exp(x) * 2)
    assert len([w for w in record if "no C compiler" in str(w.message)]) == 1
    np.testing.assert_allclose(f(np.zeros(5000)), np.full(5000, 2.0))
    np.testing.assert_allclose(g(np.zeros(3)), np.full(3, 2.0))


def test_compile_error_falls_back_to_numpy_with_one_warning(monkeypatch):
    monkeypatch.setattr(compiler, "_warned", set())

    def broken(*args, **kwargs):
        raise compiler.CompileError("C backend: cc failed (exit 1) on a generated module")

    monkeypatch.setattr(compiler, "load_module", broken)
    import backends.c as c

    monkeypatch.setattr(c, "load_module", broken)
    x = T.dvector("x")
    with pytest.warns(RuntimeWarning, match="numpy kernels run instead"):
        (k,) = backends.make_kernels([T.sin(x).owner], "c", lazy=False)
    np.testing.assert_allclose(k(np.zeros(5000)), np.zeros(5000))


def test_lazy_module_compiles_once_enough_work_was_done(monkeypatch):
    import backends.c as c

    calls = []
    real = c.load_module
    monkeypatch.setattr(c, "load_module", lambda *a: (calls.append(1), real(*a))[1])
    x = T.dvector("x")
    with backend("c", eager=False):
        f = function([x], T.tanh(x) * 3 + T.exp(-x))
    np.testing.assert_allclose(f(np.ones(10)), np.tanh(1) * 3 + np.exp(-1))
    assert calls == []
    big = np.linspace(-1, 1, c.LAZY_WORK)
    np.testing.assert_allclose(f(big), np.tanh(big) * 3 + np.exp(-big), rtol=1e-12)
    np.testing.assert_allclose(f(np.ones(10)), np.tanh(1) * 3 + np.exp(-1))
    assert calls == [1]
    with backend("c", eager=False):
        g = function([x], T.tanh(x) * 4 + T.exp(-x))
    for _ in range(c.LAZY_WORK // 1000 + 1):  # many calls on small data compile too
        g(np.ones(1000))
    assert calls == [1, 1]


def test_lazy_kernels_give_way_to_the_compiled_ones():
    import backends.c as c

    x = T.dvector("x")
    with backend("c", eager=False):
        f = function([x], [T.tanh(x) * 3, T.exp(-x).sum()])
    ns = f.program.namespace
    lazy = {f"k{i}": k.fn for i, k in enumerate(f.program.kernels) if k.bind_slot is not None}
    assert lazy and all(k.runs == "c" for k in f.program.kernels if k.bind_slot is not None)
    before = {name: ns[name] for name in lazy}  # the lazy kernel, or a guarded Composite
    big = np.linspace(-1, 1, c.LAZY_WORK)
    for _ in range(2):  # the call that compiles, then one on the compiled kernels only
        a, s = f(big)
        np.testing.assert_allclose(a, np.tanh(big) * 3, rtol=1e-12)
        assert s == pytest.approx(np.exp(-big).sum(), rel=1e-12)
    assert all(ns[name] is not before[name] and ns[name] is not fn for name, fn in lazy.items())
    a, s = f(np.ones(3))
    np.testing.assert_allclose(a, np.tanh(np.ones(3)) * 3)


def test_mlp_training_function_matches_numpy_backend():
    rng = np.random.default_rng(5)
    x, y = T.fmatrix("x"), T.ivector("y")
    params = []
    h = x
    for n_in, n_out in ((30, 20), (20, 10)):
        from core import shared

        w = shared(rng.normal(size=(n_in, n_out)).astype("float32") * 0.1)
        b = shared(np.zeros(n_out, "float32"))
        params += [w, b]
        h = T.dot(h, w) + b
        h = T.nnet.relu(h) if n_out != 10 else T.nnet.softmax(h)
    cost = T.nnet.categorical_crossentropy(h, y).mean()
    grads = T.grad(cost, params)
    outs = [cost] + grads
    with backend("c"):
        fc = function([x, y], outs)
    with backend("numpy"):
        fn = function([x, y], outs)
    xv = rng.normal(size=(500, 30)).astype("float32")
    yv = rng.integers(0, 10, size=500).astype("int32")
    for got, want in zip(fc(xv, yv), fn(xv, yv)):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6)


def test_profile_reports_per_node_and_per_op_type():
    x = T.dmatrix("x")
    with backend("c"):
        f = function([x], T.nnet.softmax(T.exp(x) * 2).sum(), profile=True, name="prof")
    for _ in range(3):
        f(np.ones((100, 100)))
    text = str(f.profile)  # what f.profile.summary() prints (Theano's layout)
    assert "Message: prof" in text and "Time in 3 calls to Function.__call__" in text
    assert "Softmax" in text and "core.tensor.math.CAReduce" in text
    rows = [r for r in f.profile.op_times() if r[0] == "Softmax"]
    assert rows and rows[0][2] == 3 and rows[0][1] > 0
    old = config.profile
    config.profile = True
    try:
        g = function([x], x + 1)
    finally:
        config.profile = old
    g(np.ones((2, 2)))
    assert g.profile is not None and g.profile.calls == 1
    assert function([x], x + 2).profile is None


def test_profile_leaves_a_lazy_compile_out_of_the_node_times(monkeypatch, tmp_path):
    import backends.c.compiler as compiler

    monkeypatch.setattr(config, "compiledir", str(tmp_path))  # a cold cache: a real build
    monkeypatch.setattr(compiler, "_loaded", {})
    x = T.dvector("x")
    with backend("c"):
        f = function([x], T.tanh(x) * 3.25 + 0.125, profile=True)
    f(np.linspace(-1, 1, 5000))
    stats = f.profile
    assert stats.compile_time > 0  # the call compiled the module
    assert sum(stats.node_time) < stats.compile_time  # and the kernels' time is not it
    assert "left out of these times" in str(stats)
