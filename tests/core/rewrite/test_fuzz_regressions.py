"""Faults the differential fuzzer (tests/fuzz) found, each pinned by a small graph.

The fuzzer's graphs run on every backend; these run where the fault showed (the C
kernels, compiled at once) and check the graph the optimizer built, so that they fail
on any machine if the rewrite comes back.
"""
import numpy as np
import pytest

import core.tensor as T
from backends.c import compiler
from core import function, shared
from core.config import config

needs_cc = pytest.mark.skipif(compiler.compiler() is None, reason="no C compiler")


@pytest.fixture(autouse=True)
def private_compiledir(tmp_path):
    with config.change_flags(compiledir=str(tmp_path)):
        yield


def _compile_c_now(f) -> None:
    for kernel in f.program.kernels or ():
        if kernel.native is not None:
            kernel.native()
            return


def _update_once(update_of, backend, mode="FAST_RUN"):
    """``w``'s value after one call of a function updating it with ``update_of(w, y)``."""
    rng = np.random.default_rng(0)
    w = shared(rng.normal(size=(5, 5)), name="w")
    y = T.dmatrix("y")
    with config.change_flags(backend=backend):
        f = function([y], [], updates=[(w, update_of(w, y))], mode=mode)
        _compile_c_now(f)
        f(rng.normal(size=(5, 5)))
    return w.get_value(), f.maker.fgraph


ALIASED_UPDATES = {
    # the update's loop reads w and, through a broadcast view, w's first row
    "row view": lambda w, y: (w + w[0]) * 0.5 + y,
    "reversed view": lambda w, y: (w + w[::-1]) * 0.5 + y,
    "transposed view": lambda w, y: (w + w.T) * 0.5 + y,
    # Gemm(w, -0.1, y, w, 1): BLAS may not accumulate into an operand of the product
    "product reads z": lambda w, y: w - 0.1 * T.dot(y, w),
    "product reads z first": lambda w, y: w - 0.1 * T.dot(w, y),
}


@pytest.mark.parametrize("name", sorted(ALIASED_UPDATES))
def test_an_update_reading_its_variable_through_an_alias_is_not_computed_in_place(name):
    """Found as: ``s_kk`` after ``(s + s[::-1]) * 0.5 - 0.1 * g`` differed on C (fuzzer graph
    with steps softmax, reverse, dense_relu...). The in-place pass let an update overwrite
    the shared value that the same node still read through a view (or as a product's
    operand); the C loop then read rows it had already written."""
    update_of = ALIASED_UPDATES[name]
    want, _ = _update_once(update_of, "numpy", "FAST_COMPILE")
    got, fgraph = _update_once(update_of, "numpy")
    np.testing.assert_allclose(got, want, rtol=1e-12)
    w = next(v for v in fgraph.inputs if v.name == "w")
    for node in fgraph.apply_nodes:
        destroyed = {node.inputs[i] for ins in node.op.destroy_map.values() for i in ins}
        assert w not in destroyed, f"{node.op} overwrites w while it reads w through an alias"


@needs_cc
@pytest.mark.parametrize("name", sorted(ALIASED_UPDATES))
def test_an_aliased_update_gives_the_same_values_on_c(name):
    update_of = ALIASED_UPDATES[name]
    want, _ = _update_once(update_of, "numpy", "FAST_COMPILE")
    got, _ = _update_once(update_of, "c")
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_an_update_read_once_is_still_computed_in_place():
    """The fix keeps the in-place update where it is safe: an elementwise loop that reads
    the variable it overwrites, at its own position."""
    _, fgraph = _update_once(lambda w, y: w * 0.9 + y, "numpy")
    (node,) = [n for n in fgraph.apply_nodes if n.op.destroy_map]
    w = next(v for v in fgraph.inputs if v.name == "w")
    assert node.inputs[node.op.destroy_map[0][0]] is w


@pytest.mark.parametrize("backend", ["numpy", pytest.param("c", marks=needs_cc)])
@pytest.mark.parametrize("view", ["transpose", "reversed"])
def test_a_returned_view_of_an_update_is_not_overwritten_by_the_next_call(backend, view):
    """Found while reading the in-place pass for the fuzzer (which now checks that returned
    arrays stay as returned): with ``function([x], view_of(w + x), updates=[(w, w + x)])``
    the update was written in place into w's buffer, so the array the first call returned
    (a view of that buffer) changed during the second call."""
    w = shared(np.zeros((2, 3)), name="w")
    x = T.dmatrix("x")
    new = w + x
    out = new.T if view == "transpose" else new[::-1]
    with config.change_flags(backend=backend):
        f = function([x], out, updates=[(w, new)])
        _compile_c_now(f)
        first = f(np.ones((2, 3)))
        kept = first.copy()
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(w.get_value(), np.full((2, 3), 2.0))
