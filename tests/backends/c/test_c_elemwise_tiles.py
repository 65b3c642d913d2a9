"""The strided elementwise entry: operands transposed against each other go through tiles."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from core.tensor.type import TensorType

from c_helpers import assert_same, backend, c_and_numpy_kernels, needs_cc

pytestmark = needs_cc


def _values(rng, dtype, shape):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(1, 50, size=shape).astype(dtype)
    return rng.uniform(-2, 2, size=shape).astype(dtype)


# Shapes around the tile size (16 rows x 128 columns): partial tiles on both axes,
# a single row or column, and a rank-3 stack whose last two axes are transposed.
SHAPES = [(37, 300), (16, 128), (1, 200), (200, 1), (129, 17), (3, 21, 140)]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "int64", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_c_ordered_next_to_transposed_operands_match_numpy(dtype, shape):
    rng = np.random.default_rng(0)
    nd = len(shape)
    x, y = TensorType(dtype, (None,) * nd)("x"), TensorType(dtype, (None,) * nd)("y")
    (kc,), (kn,) = c_and_numpy_kernels([Elemwise(ps.mul).make_node(x, y)])
    a, b = _values(rng, dtype, shape), _values(rng, dtype, shape)
    swap = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    b_t = np.ascontiguousarray(b.transpose(swap)).transpose(swap)  # last two axes swapped in memory
    sliced = np.empty(shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]
    sliced[...] = a
    with np.errstate(all="ignore"):
        want = kn(a, b)
        assert_same(kc(a, b_t), want, dtype, "C x transposed")
        assert_same(kc(b_t, a), kn(b, a), dtype, "transposed x C")
        assert_same(kc(sliced, b_t), want, dtype, "sliced x transposed")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_mask_with_transposed_operands_and_broadcast_rows_and_columns(dtype):
    rng = np.random.default_rng(1)
    z, g = TensorType(dtype, (None, None))("z"), TensorType(dtype, (None, None))("g")
    b, c = TensorType(dtype, (None,))("b"), TensorType(dtype, (None, 1))("c")
    # a ReLU mask next to a bias (as in a dense layer's gradient), plus a column
    with backend("c"):
        f = function([z, b, g, c], g * ((z + b) >= 0) + c)
    assert any("Composite" in str(n.op) for n in f.maker.fgraph.toposort())
    zv, gv = _values(rng, dtype, (130, 300)), _values(rng, dtype, (130, 300))
    bv, cv = _values(rng, dtype, (300,)), _values(rng, dtype, (130, 1))
    want = gv * ((zv + bv) >= 0) + cv
    for zl in (zv, np.asfortranarray(zv)):
        for gl in (gv, np.asfortranarray(gv)):
            assert_same(f(zl, bv, gl, cv), want, dtype, f"z F: {zl.flags.f_contiguous}, "
                        f"g F: {gl.flags.f_contiguous}")


def test_large_loops_split_across_threads_give_the_same_values():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    (kc,), (kn,) = c_and_numpy_kernels([(x * y).owner])
    rng = np.random.default_rng(3)
    a, b = (rng.normal(size=(300, 1000)).astype("float32") for _ in range(2))
    assert_same(kc(a, np.asfortranarray(b)), kn(a, b), "float32")  # above the thread threshold


def test_inplace_pattern_on_a_transposed_input_still_gives_the_values():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    (kc,), _ = c_and_numpy_kernels([Elemwise(ps.add, {0: 0}).make_node(x, y)])
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 300)), rng.normal(size=(40, 300))
    np.testing.assert_allclose(kc(np.asfortranarray(a), b), a + b)


def test_errors_raised_inside_a_tile_are_reported():
    x, y = T.lmatrix("x"), T.lmatrix("y")
    (kc,), _ = c_and_numpy_kernels([(x ** y).owner])
    base = np.full((40, 300), 2, "int64")
    exps = np.full((40, 300), 3, "int64")
    np.testing.assert_array_equal(kc(base, np.asfortranarray(exps)), base ** exps)
    exps[33, 250] = -1  # in the last, partial row tile
    with pytest.raises(ValueError, match="negative integer powers"):
        kc(base, np.asfortranarray(exps))


def test_without_the_shared_runner_numpy_computes_strided_calls(monkeypatch):
    from backends.c import strided

    x, y = T.dmatrix("x"), T.dmatrix("y")
    (kc,), (kn,) = c_and_numpy_kernels([Elemwise(ps.mul).make_node(x, y)])
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(40, 300)), rng.normal(size=(40, 300))
    monkeypatch.setattr(strided, "_address", [None])  # as when it could not be compiled
    assert_same(kc(a, np.asfortranarray(b)), kn(a, b), "float64")
