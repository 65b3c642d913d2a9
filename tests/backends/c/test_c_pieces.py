"""A module compiled as several translation units at once gives the same kernels as one."""
from __future__ import annotations

import ctypes
import os
import re

import numpy as np
import pytest

import backends
import core.tensor as T
from backends.c import compiler, module_source, pieces
from core.config import config

from c_helpers import needs_cc

pytestmark = needs_cc
REAL_SPLIT = pieces.split


def _network_gradient():
    """A small ReLU network's gradient function (a dozen fused C kernels)."""
    from core import function

    x, w1, w2 = T.fmatrix("x"), T.fmatrix("w1"), T.fmatrix("w2")
    h = T.nnet.relu(T.dot(x, w1))
    out = T.nnet.softmax(T.tanh(T.dot(h, w2)) * 2)
    cost = (out ** 2).sum() + T.exp(h).mean()
    f = function([x, w1, w2], T.grad(cost, [w1, w2]))
    return f


def _compile_and_run(monkeypatch, idle: int, compiledir) -> tuple[list[list[str]], list]:
    """(the translation units of each module the C backend compiled for the network with
    ``idle`` cores, the gradients it computed)."""
    import backends.c as c

    units = []
    monkeypatch.setattr(pieces, "idle_cores", lambda: idle)
    monkeypatch.setattr(pieces, "split", lambda s, n: units.append(REAL_SPLIT(s, n)) or
                        units[-1])
    monkeypatch.setattr(c, "LAZY_WORK", 0)
    monkeypatch.setattr(pieces, "MIN_PIECE_CHARS", 500)  # split even this small module
    # one thread: no worker pool module in the cache folders compared below
    with config.change_flags(compiledir=str(compiledir), backend="c", threads=1):
        f = _network_gradient()
        rng = np.random.default_rng(0)
        args = [rng.standard_normal(s).astype("float32") for s in [(64, 32), (32, 48), (48, 16)]]
        result = f(*args)
    return units, result


def test_split_module_gives_the_same_results_as_one_module(monkeypatch, tmp_path):
    one, want = _compile_and_run(monkeypatch, 1, tmp_path / "one")
    several, got = _compile_and_run(monkeypatch, 3, tmp_path / "several")
    assert max(map(len, one)) == 1 and max(map(len, several)) == 3
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # the same cache entry however it was built: one library each, under the same name
    names = [sorted(f for _, _, fs in os.walk(tmp_path / d) for f in fs if f.endswith(".so"))
             for d in ("one", "several")]
    assert names[0] == names[1] and len(names[0]) == 1
    # the pieces share one pointer to the worker pool (weak symbols): the library links
    # and takes the pool like a module built in one piece
    path = next(os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "several") for f in fs
                if f.endswith(".so"))
    assert hasattr(ctypes.CDLL(path), "lg_set_pool")


def test_split_keeps_every_kernel_once_and_the_table_once():
    x, y = T.dvector("x"), T.dvector("y")
    nodes = [T.exp(x * k + y).owner for k in range(1, 9)] + [T.tanh(x).owner]
    specs = [backends.c.generators.lookup(n.op)(n) for n in nodes]
    source, table, _ = module_source(specs)
    for n in (2, 3, 4):
        units = pieces.split(source, n)
        assert 1 <= len(units) <= n
        body = "".join(u.split(pieces.KERNEL, 1)[1] for u in units)
        for sym, _ in table:  # defined once; declared at most once, where the table is
            assert len(re.findall(rf"^int {sym}\((?!\))", body, re.M)) == 1
            assert body.count(f"int {sym}();") <= 1
        assert body.count("lg_table[]") == 1
    assert pieces.split(source, 1) == [source]
    assert pieces.split(source, 4) == pieces.split(source, 4)  # deterministic


def test_split_leaves_sources_without_markers_whole():
    source = "int f(void) { return 1; }\nvoid *lg_get(int i) { return (void *)f; }\n"
    assert pieces.split(source, 4) == [source]


def test_a_failing_piece_reports_the_compiler_error(monkeypatch, tmp_path):
    monkeypatch.setattr(pieces, "idle_cores", lambda: 2)
    monkeypatch.setattr(pieces, "MIN_PIECE_CHARS", 1)
    head = "#include <stdint.h>\n"
    source = (head + pieces.KERNEL + "int ka_c(intptr_t n) { return n; }\n" + pieces.KERNEL
              + "int kb_c(intptr_t n) { return not_declared; }\n" + pieces.TABLE
              + "static void *lg_table[] = {(void *)ka_c, (void *)kb_c};\n"
              "void *lg_get(int i) { return lg_table[i]; }\n")
    assert len(pieces.split(source, 2)) == 2
    with config.change_flags(compiledir=str(tmp_path)):
        with pytest.raises(compiler.CompileError, match="not_declared"):
            compiler.load_module(source, 2)


def test_idle_cores_is_between_one_and_the_usable_cores():
    assert 1 <= pieces.idle_cores() <= pieces.usable_cores()
