"""C reductions, argmax and softmax/crossentropy kernels against the numpy reference."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core.tensor import scalar_ops as ps
from core.tensor.math import Argmax, Argmin, CAReduce
from core.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              LogSoftmax, Softmax, SoftmaxGrad)
from core.tensor.rewritten_ops import CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx
from core.tensor.type import TensorType

from c_helpers import assert_same, c_and_numpy_kernels, layouts, needs_cc

pytestmark = needs_cc

AXES = [None, (0,), (1,), (2,), (0, 2), (1, 2), (0, 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8", "bool"])
def test_careduce_every_op_and_axes_on_every_layout(dtype):
    rng = np.random.default_rng(0)
    x = TensorType(dtype, (None, None, None))("x")
    nodes = []
    for scalar in (ps.add, ps.mul, ps.maximum, ps.minimum, ps.and_, ps.or_):
        if dtype != "bool" and scalar in (ps.and_, ps.or_):
            continue
        if dtype == "bool" and scalar in (ps.add, ps.mul):
            acc = "int64"
        else:
            acc = {"int32": "int64", "uint8": "uint64"}.get(dtype, dtype) if scalar in (ps.add, ps.mul) else None
        for axes in AXES:
            ax = tuple(range(3)) if axes is None else axes
            nodes.append(CAReduce(scalar, ax, acc).make_node(x))
    ck, nk = c_and_numpy_kernels(nodes)
    if dtype == "bool":
        data = rng.random((6, 5, 7)) > 0.3
    elif dtype[0] in "iu":
        data = rng.integers(1, 4, size=(6, 5, 7)).astype(dtype)
    else:
        data = rng.uniform(0.5, 1.5, size=(6, 5, 7)).astype(dtype)
    for node, kc, kn in zip(nodes, ck, nk):
        want = kn(data)
        for name, lay in layouts(data):
            assert_same(kc(lay), want, dtype, f"{node.op} {name}")


def test_careduce_nan_empty_and_large_float32_sum():
    x = T.fmatrix("x")
    nodes = [CAReduce(ps.maximum, (1,)).make_node(x), CAReduce(ps.add, (0, 1), "float32").make_node(x),
             CAReduce(ps.add, (0,), "float32").make_node(x)]
    (kmax, ksum, ksum0), _ = c_and_numpy_kernels(nodes)
    a = np.ones((3, 4), np.float32)
    a[1, 2] = np.nan
    assert np.isnan(kmax(a)[1]) and kmax(a)[0] == 1
    with pytest.raises(ValueError, match="empty"):
        kmax(np.ones((3, 0), np.float32))
    np.testing.assert_array_equal(ksum0(np.ones((0, 3), np.float32)), np.zeros(3, np.float32))
    big = np.random.default_rng(1).random((1000, 1000)).astype(np.float32)
    np.testing.assert_allclose(ksum(big), big.astype(np.float64).sum(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_argmax_argmin_axes_layouts_and_nan(dtype):
    rng = np.random.default_rng(2)
    x = TensorType(dtype, (None, None, None))("x")
    nodes = [cls(axis).make_node(x) for cls in (Argmax, Argmin) for axis in (None, 0, 1, 2)]
    ck, nk = c_and_numpy_kernels(nodes)
    data = rng.integers(0, 5, size=(4, 6, 5)).astype(dtype)  # ties: the first index wins
    if dtype != "int64":
        data[1, 2, 3] = np.nan
    for node, kc, kn in zip(nodes, ck, nk):
        for name, lay in layouts(data):
            assert_same(kc(lay), kn(data), "int64", f"{node.op} {name}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family_both_axes_and_layouts(dtype):
    rng = np.random.default_rng(3)
    x, dy = T.matrix("x", dtype=dtype), T.matrix("dy", dtype=dtype)
    nodes = [Softmax(1).make_node(x), Softmax(0).make_node(x), LogSoftmax(1).make_node(x),
             LogSoftmax(0).make_node(x), SoftmaxGrad(1).make_node(dy, x), SoftmaxGrad(0).make_node(dy, x)]
    ck, nk = c_and_numpy_kernels(nodes)
    data = (rng.normal(size=(300, 17)) * 30).astype(dtype)  # large logits: stability matters
    g = rng.normal(size=(300, 17)).astype(dtype)
    for node, kc, kn in zip(nodes, ck, nk):
        args = [data] if len(node.inputs) == 1 else [g, np.abs(data) / 100]
        want = kn(*args)
        for name, lay in layouts(args[-1]):
            got = kc(*(args[:-1] + [lay]))
            assert_same(got, want, dtype, f"{node.op} {name}")
            assert np.all(np.isfinite(got))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropy_ops_and_label_errors(dtype):
    rng = np.random.default_rng(4)
    p, z, g = T.matrix("p", dtype=dtype), T.matrix("z", dtype=dtype), T.vector("g", dtype=dtype)
    y = T.ivector("y")
    nodes = [CrossentropyCategorical1Hot().make_node(p, y),
             CrossentropyCategorical1HotGrad().make_node(g, p, y),
             CrossentropySoftmax1Hot().make_node(z, y), CrossentropySoftmax1HotDx().make_node(g, p, y)]
    ck, nk = c_and_numpy_kernels(nodes)
    logits = (rng.normal(size=(64, 10)) * 100).astype(dtype)
    probs = rng.uniform(0.05, 1, size=(64, 10)).astype(dtype)
    labels = rng.integers(0, 10, size=64).astype("int32")
    gv = rng.normal(size=64).astype(dtype)
    argsets = [[probs, labels], [gv, probs, labels], [logits, labels], [gv, probs, labels]]
    for node, kc, kn, args in zip(nodes, ck, nk, argsets):
        assert_same(kc(*args), kn(*args), dtype, str(node.op))
    bad = labels.copy()
    bad[3] = 10
    for kc, args in zip(ck, argsets):
        with pytest.raises(ValueError, match="labels"):
            kc(*(args[:-1] + [bad]))
    with pytest.raises(ValueError, match="rows"):
        ck[0](probs, labels[:5])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(200, 10), (130, 31), (3, 40), (1, 1), (0, 10)])
def test_short_and_long_rows_of_the_softmax_family(dtype, shape):
    # rows shorter than nnet.SHORT take the flat-exponential path, in blocks of 64 rows
    rng = np.random.default_rng(5)
    z, y = T.matrix("z", dtype=dtype), T.ivector("y")
    nodes = [Softmax(1).make_node(z), LogSoftmax(1).make_node(z),
             CrossentropySoftmax1Hot().make_node(z, y)]
    ck, nk = c_and_numpy_kernels(nodes)
    logits = (rng.normal(size=shape) * 30).astype(dtype)
    labels = rng.integers(0, shape[1], size=shape[0]).astype("int32")
    for node, kc, kn in zip(nodes, ck, nk):
        args = [logits] + ([labels] if len(node.inputs) == 2 else [])
        assert_same(kc(*args), kn(*args), dtype, str(node.op))
    if shape[0] > 64:
        bad = labels.copy()
        bad[-1] = shape[1]  # in the second block
        with pytest.raises(ValueError, match="labels"):
            ck[2](logits, bad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_over_the_last_axis_matches_numpy(dtype):
    from core.tensor.rewritten_ops import LogSumExp

    rng = np.random.default_rng(6)
    x = T.tensor3("x", dtype=dtype)
    ck, nk = c_and_numpy_kernels([LogSumExp((2,)).make_node(x)])
    data = (rng.normal(size=(4, 5, 37)) * 50).astype(dtype)
    data[0, 0] = -np.inf  # a row of -inf: -inf
    data[0, 1, 3] = np.inf
    data[1, 2, 4] = np.nan
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf rows, in numpy
        for layout, a in layouts(data):
            assert_same(ck[0](a), nk[0](a), dtype, layout)
    empty = np.zeros((3, 0), dtype)
    m = T.matrix("m", dtype=dtype)
    ck2, nk2 = c_and_numpy_kernels([LogSumExp((1,)).make_node(m)])
    for kernel in (ck2[0], nk2[0]):  # empty rows: the same error from both
        with pytest.raises(ValueError, match="zero-size"):
            kernel(empty)
    assert_same(ck2[0](np.zeros((0, 4), dtype)), nk2[0](np.zeros((0, 4), dtype)), dtype, "no rows")
