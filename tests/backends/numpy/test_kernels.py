"""The numpy backend: registry lookup and the kernel contract (ndarrays in, ndarrays out)."""
import numpy as np
import pytest

import core.tensor as T
from backends import get_registry, make_kernel
from backends.registry import KernelRegistry
from core.graph.basic import Apply, Constant, Op
from core.tensor import scalar_ops as ps

registry = get_registry("numpy")


def _kernel(out):
    return make_kernel(out.owner, "numpy").fn


def _run(out, *values):
    """Run ``out``'s node kernel, with its constant inputs filled in."""
    it = iter(values)
    args = [i.data if isinstance(i, Constant) else next(it) for i in out.owner.inputs]
    return _kernel(out)(*args)


def test_registry_register_lookup_and_inheritance():
    reg = KernelRegistry("test")

    class Base(Op):
        pass

    class Child(Base):
        pass

    @reg.register(Base)
    def factory(node):
        return lambda x: x

    assert reg.lookup(Child()) is factory and Child in reg and Op not in reg
    with pytest.raises(NotImplementedError, match="test backend has no kernel for Op"):
        reg.make_kernel(Apply(Op(), [], []))


@pytest.mark.parametrize("op_class", [T.Elemwise, T.DimShuffle, T.CAReduce, T.Argmax, T.Dot,
                                      T.Shape, T.Shape_i, T.Reshape, T.Alloc, T.MakeVector,
                                      T.Rebroadcast, T.nnet.Softmax, T.nnet.LogSoftmax,
                                      T.nnet.SoftmaxGrad, T.nnet.CrossentropyCategorical1Hot,
                                      T.nnet.CrossentropyCategorical1HotGrad])
def test_every_core_op_has_a_numpy_kernel(op_class):
    assert op_class in registry


def test_every_scalar_op_has_a_numpy_implementation():
    from backends.numpy.scalar import scalar_impl

    ops = [v for v in vars(ps).values() if isinstance(v, ps.ScalarOp)] + [ps.Cast("float32")]
    for op in ops:
        assert callable(scalar_impl(op)), op


def test_zero_d_outputs_are_ndarrays():
    x = T.dscalar("x")
    v = T.dvector("v")
    for out, args in [(x + 1, [np.array(2.0)]), (T.exp(x), [np.array(0.0)]),
                      (v.sum(), [np.ones(3)]), (v.max(), [np.ones(3)]),
                      (T.argmax(v), [np.arange(3.0)]), (T.dot(v, v), [np.ones(3), np.ones(3)]),
                      (v.shape[0], [np.ones(3)])]:
        res = _run(out, *args)
        assert type(res) is np.ndarray and res.shape == (), out


def test_elemwise_kernel_is_the_bare_ufunc_when_nothing_needs_checking():
    x = T.dvector("x")
    assert _kernel(x + 1.0) is np.add
    m, n = T.dmatrix("m"), T.dmatrix("n")
    assert _kernel(m + n) is not np.add  # two unknown shapes: checked at run time


def test_elemwise_inplace_kernel_writes_into_its_input():
    x, y = T.dvector("x"), T.dvector("y")
    node = T.Elemwise(ps.add, {0: 0}).make_node(x, y)
    k = make_kernel(node, "numpy")
    a = np.ones(3)
    out = k(a, np.full(3, 2.0))
    assert out is a and np.all(a == 3.0)
    ro = np.ones(3)
    ro.setflags(write=False)
    assert k(ro, np.ones(3)) is not ro  # read-only buffers are never overwritten


def test_dimshuffle_kernel_returns_views():
    m = T.dmatrix("m")
    a = np.arange(6.0).reshape(2, 3)
    for out in (m.T, m.dimshuffle("x", 0, 1), m.dimshuffle(1, "x", 0)):
        res = _kernel(out)(a)
        assert np.shares_memory(res, a)
    r = T.drow("r")
    res = _kernel(r.dimshuffle(1))(np.arange(3.0).reshape(1, 3))
    np.testing.assert_array_equal(res, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError):  # a dropped axis must really have size 1
        _kernel(r.dimshuffle(1))(np.ones((2, 3)))


def test_reduction_kernels():
    v = T.dvector("v")
    with pytest.raises(ValueError, match="cannot reduce an empty array"):
        _kernel(v.max())(np.zeros(0))
    assert _kernel(v.sum())(np.zeros(0)) == 0.0
    b = T.TensorType("bool", (None,))("b")
    assert _kernel(T.any(b))(np.array([False, True])) == np.True_


def test_alloc_and_make_vector_kernels():
    n = T.lscalar("n")
    out = T.alloc(T.constant(1.5), n, 2)
    k = _kernel(out)
    res = k(np.array(1.5), np.array(3), np.array(2))
    np.testing.assert_array_equal(res, np.full((3, 2), 1.5))
    mv = T.MakeVector("int64")(n, n)
    np.testing.assert_array_equal(_kernel(mv)(np.array(2), np.array(5)), [2, 5])


def test_crossentropy_grad_kernel():
    p, y = T.dmatrix("p"), T.lvector("y")
    g = T.dvector("g")
    node = T.nnet.CrossentropyCategorical1HotGrad().make_node(g, p, y)
    pv = np.full((2, 3), 0.25)
    out = make_kernel(node, "numpy")(np.array([1.0, 2.0]), pv, np.array([2, 0]))
    expected = np.zeros((2, 3))
    expected[0, 2], expected[1, 0] = -4.0, -8.0
    np.testing.assert_array_equal(out, expected)
