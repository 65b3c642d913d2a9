"""The CUDA backend's cupy kernels (all but the generated elementwise ones) run with numpy
standing in for cupy's array API (cupy mirrors numpy's), against the numpy reference
kernels: their math, shapes and errors are checked on any machine; that cupy itself
runs them the same way is ``benchmarks/gpu_check.py``'s part, on a GPU."""
import numpy as np
import pytest

import core.tensor as T
from backends.numpy import registry as numpy_registry
from core.tensor.conv import (Conv2d, Conv2dBiasAct, Conv2dGradInputs, Conv2dGradWeights,
                              ReluBiasGrad)
from core.tensor.signal.pool import (AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad,
                                     MaxPoolReluBiasGrad, Pool)
from core.tensor.type import TensorType

from conv_pool_cases import CONV_CONFIGS, POOL_CONFIGS
from numpy_as_cupy import numpy_as_cupy


@pytest.fixture(scope="module")
def cuda_registry():
    """``backends.cuda.kernels``' registry, imported with numpy as its ``cupy``."""
    with numpy_as_cupy():
        from backends.cuda.kernels import registry

        yield registry


def _same(cuda_registry, node, *values, rtol=1e-10):
    got = cuda_registry.make_kernel(node)(*values)
    want = numpy_registry.make_kernel(node)(*values)
    got, want = (r if isinstance(r, tuple) else (r,) for r in (got, want))
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


RNG = np.random.default_rng(0)
T4 = TensorType("float64", (None,) * 4)


def _conv_and_gradients(cuda_registry, ops, cfg, x, w):
    """The forward op and both gradients of ``ops`` (forward, weights, inputs classes)."""
    forward, grad_weights, grad_inputs = ops
    fwd = forward(**cfg).make_node(T4(), T4())
    g = RNG.normal(size=numpy_registry.make_kernel(fwd)(x, w).shape)
    vec = TensorType("int64", (2,))
    _same(cuda_registry, fwd, x, w)
    _same(cuda_registry, grad_weights(**cfg).make_node(T4(), T4(), vec()), x, g,
          np.array(w.shape[2:]))
    _same(cuda_registry, grad_inputs(**cfg).make_node(T4(), T4(), vec()), w, g,
          np.array(x.shape[2:]))


@pytest.mark.parametrize("cfg", CONV_CONFIGS)
def test_conv2d_and_both_gradients(cuda_registry, cfg):
    x, w = RNG.normal(size=(2, 3, 9, 8)), RNG.normal(size=(4, 3, 3, 2))
    _conv_and_gradients(cuda_registry, (Conv2d, Conv2dGradWeights, Conv2dGradInputs), cfg, x, w)
    b, vector = RNG.normal(size=4), TensorType("float64", (None,))
    for act in Conv2dBiasAct.ACTIVATIONS:
        _same(cuda_registry, Conv2dBiasAct(activation=act, **cfg).make_node(T4(), T4(), vector()),
              x, w, b)
    y = numpy_registry.make_kernel(Conv2d(**cfg).make_node(T4(), T4()))(x, w)
    _same(cuda_registry, ReluBiasGrad().make_node(T4(), T4()), y, RNG.normal(size=y.shape))


@pytest.mark.parametrize("groups,cg", [(2, 3), (6, 1)])  # grouped, depthwise
def test_grouped_conv2d_and_both_gradients(cuda_registry, groups, cg):
    from core.tensor.grouped_conv import (GroupedConv2d, GroupedConv2dBiasAct,
                                          GroupedConv2dGradInputs, GroupedConv2dGradWeights)

    _conv_and_gradients(cuda_registry, (GroupedConv2d, GroupedConv2dGradWeights,
                                        GroupedConv2dGradInputs),
                        dict(border_mode="half", subsample=(2, 1), num_groups=groups),
                        RNG.normal(size=(2, groups * cg, 7, 6)),
                        RNG.normal(size=(2 * groups, cg, 3, 3)))
    vector = TensorType("float64", (None,))
    for act in GroupedConv2dBiasAct.ACTIVATIONS:
        node = GroupedConv2dBiasAct(activation=act, border_mode="half", num_groups=groups)
        _same(cuda_registry, node.make_node(T4(), T4(), vector()),
              RNG.normal(size=(2, groups * cg, 7, 6)), RNG.normal(size=(2 * groups, cg, 3, 3)),
              RNG.normal(size=2 * groups))


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_pooling_and_gradients(cuda_registry, cfg, mode):
    x = RNG.normal(size=(2, 3, 7, 8))
    x[0, 0, :2, :2] = 1.0  # ties: every maximal element gets the gradient, as in numpy
    fwd = Pool(mode=mode, **cfg).make_node(T4())
    out = numpy_registry.make_kernel(fwd)(x)
    gz = RNG.normal(size=out.shape)
    _same(cuda_registry, fwd, x)
    if mode == "max":
        _same(cuda_registry, MaxPoolGrad(mode=mode, **cfg).make_node(T4(), T4(), T4()), x, out, gz)
        _same(cuda_registry, MaxPoolGradGrad(mode=mode, **cfg).make_node(T4(), T4(), T4()), x, out,
              RNG.normal(size=x.shape))
        _same(cuda_registry, MaxPoolReluBiasGrad(**cfg).make_node(T4(), T4(), T4()), x, out, gz)
    else:
        _same(cuda_registry, AveragePoolGrad(mode=mode, **cfg).make_node(T4(), T4()), x, gz)


def _check_graph(cuda_registry, out, given: dict):
    """The node computing ``out``, its inputs taken from ``given`` (variable -> value) or
    from the constants in the graph."""
    node = out.owner
    _same(cuda_registry, node, *[given[v] if v in given else v.data for v in node.inputs])


def test_softmax_family_reductions_and_products(cuda_registry):
    from core.tensor.nnet import CrossentropyCategorical1HotGrad

    x, y, labels, g = T.dmatrix(), T.dmatrix(), T.lvector(), T.dvector()
    a, b = RNG.normal(size=(5, 7)), RNG.normal(size=(7, 5))
    big = a.copy()
    big[0, 0] = 800.0  # stable: no overflow
    for out in (T.nnet.softmax(x), T.nnet.log_softmax(x), T.sum(x, axis=0), T.max(x, axis=1),
                T.prod(x), T.argmax(x, axis=1)):
        _check_graph(cuda_registry, out, {x: big})
    _check_graph(cuda_registry, T.dot(x, y), {x: a, y: b})
    sm = numpy_registry.make_kernel(T.nnet.softmax(x).owner)(a)
    lab = RNG.integers(0, 7, size=5)
    _check_graph(cuda_registry, T.nnet.categorical_crossentropy(x, labels), {x: sm, labels: lab})
    grad = CrossentropyCategorical1HotGrad()(g, x, labels)
    _check_graph(cuda_registry, grad, {g: RNG.normal(size=5), x: sm, labels: lab})
    with pytest.raises(ValueError, match="labels must lie in"):
        cuda_registry.make_kernel(T.nnet.categorical_crossentropy(x, labels).owner)(sm, lab + 7)


def test_indexing_and_inc_subtensor(cuda_registry):
    x, y, idx = T.dmatrix(), T.dmatrix(), T.lvector()
    a, i = RNG.normal(size=(6, 4)), np.array([0, 2, 2, 5])
    for out in (x[1:5:2], x[2], x[:, 1:], x[idx]):
        _check_graph(cuda_registry, out, {x: a, idx: i})
    _check_graph(cuda_registry, T.inc_subtensor(x[idx], y), {x: a, y: RNG.normal(size=(4, 4)),
                                                             idx: i})  # repeated index adds up
    _check_graph(cuda_registry, T.set_subtensor(x[1:3], y), {x: a, y: RNG.normal(size=(2, 4))})


@pytest.mark.parametrize("inplace", [False, True])
def test_gemm_batched_dot_joins_and_reshapes(cuda_registry, inplace):
    from core.tensor.blas import Gemm

    x, y, z, s = T.dmatrix(), T.dmatrix(), T.dmatrix(), T.dscalar()
    a, b, c = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5)), RNG.normal(size=(3, 5))
    node = Gemm(inplace=inplace).make_node(z, s, x, y, s)
    want = numpy_registry.make_kernel(node)(c.copy(), np.array(0.5), a, b, np.array(0.5))
    np.testing.assert_allclose(cuda_registry.make_kernel(node)(c.copy(), np.array(0.5), a, b,
                                                               np.array(0.5)), want, rtol=1e-12)
    from backends.cuda.kernels import make_kernels

    half = T.constant(np.array(0.5))  # float constants: uploaded once, passed in their place
    (gemm,) = make_kernels([Gemm(inplace=inplace).make_node(z, half, x, y, half)])
    np.testing.assert_allclose(gemm(c.copy(), np.array(0.5), a, b, np.array(0.5)), want,
                               rtol=1e-12)
    x3, y3 = T.dtensor3(), T.dtensor3()
    _check_graph(cuda_registry, T.batched_dot(x3, y3), {x3: RNG.normal(size=(2, 3, 4)),
                                                        y3: RNG.normal(size=(2, 4, 5))})
    _check_graph(cuda_registry, T.concatenate([x, z], axis=1), {x: a, z: c})
    _check_graph(cuda_registry, T.reshape(x, (2, 6)), {x: a})


def test_ranges_and_every_op_but_the_listed_ones_have_a_kernel(cuda_registry):
    start, stop = T.lscalar(), T.lscalar()
    _check_graph(cuda_registry, T.arange(start, stop, 3), {start: np.array(2), stop: np.array(17)})
    _check_graph(cuda_registry, T.eye(start, stop, 1), {start: np.array(3), stop: np.array(4)})
    missing = sorted(cls.__name__ for cls in numpy_registry._factories
                     if cuda_registry.lookup_class(cls) is None)
    assert missing == []  # (float16 elementwise nodes are refused by the CUDA codegen)


def test_gradient_identities_and_host_staged_allreduce(cuda_registry):
    from core.gradient import zero_grad
    from core.tensor.collective import allreduce, allreduce_packed

    x, y = T.dvector(), T.dmatrix()
    a, b = np.arange(3.0), np.arange(4.0).reshape(2, 2)
    _same(cuda_registry, zero_grad(x).owner, a)
    _same(cuda_registry, allreduce(x).owner, a)  # one process: the sum is the value
    _same(cuda_registry, allreduce_packed([x, y]).owner, a, b)


def test_print_shows_what_the_numpy_backend_shows_and_passes_the_value_on(cuda_registry,
                                                                           capsys):
    from core.print_op import Print

    x, seen = T.dmatrix(), []
    a = np.arange(6.0).reshape(2, 3)
    node = Print("x is", attrs=("__str__", "shape", "sum"))(x).owner
    numpy_registry.make_kernel(node)(a)
    want = capsys.readouterr().out
    assert cuda_registry.make_kernel(node)(a) is a  # the same (device) array, not a copy
    assert capsys.readouterr().out == want and "x is shape = (2, 3)" in want
    hooked = Print("x", global_fn=lambda op, v: seen.append(v.sum()))(x).owner
    cuda_registry.make_kernel(hooked)(a)
    assert seen == [15.0]


def test_ops_without_a_cuda_kernel_fail_at_compile_time_naming_them(cuda_registry):
    from backends.cuda.kernels import make_kernels
    from core.graph.basic import Apply, Op

    class Unknown(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

    x, h = T.dvector(), T.TensorType("float16", (None,))()
    with pytest.raises(NotImplementedError, match="cuda backend has no kernel for Unknown"):
        make_kernels([Unknown()(x).owner, T.exp(x).owner])
    with pytest.raises(NotImplementedError, match=r"no kernel for .*exp.*float16"):
        make_kernels([T.exp(h).owner])
