"""``allreduce``: an identity on one process; with a communicator, its sum and gradient."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor import collective
from core.tensor.collective import allreduce, allreduce_packed


class ReplicatedComm:
    """Stands in for ``size`` processes that all hold the same value (mpi4py's interface)."""

    def __init__(self, size: int):
        self.size, self.calls = size, 0

    def Get_size(self) -> int:
        return self.size

    def Allreduce(self, send, recv) -> None:
        self.calls += 1
        if isinstance(send, np.ndarray):
            recv[...] = send * self.size
        else:  # MPI.IN_PLACE
            recv *= self.size


@pytest.fixture
def comm():
    fake = ReplicatedComm(3)
    collective.set_communicator(fake)
    yield fake
    collective.set_communicator(None)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_identity_without_communicator(backend):
    from core.config import config

    x = T.dmatrix("x")
    with config.change_flags(backend=backend):
        f = function([x], allreduce(x) * 2)
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(value), value * 2)


def test_sums_over_processes_once_per_call(comm):
    x = T.fvector("x")
    f = function([x], allreduce(x))
    out = f(np.array([1, 2], dtype="float32"))
    assert out.dtype == np.float32 and comm.calls == 1
    np.testing.assert_array_equal(out, [3, 6])


def test_gradient_is_the_sum_of_output_gradients(comm):
    x, c = T.dvector("x"), T.dvector("c")
    g = T.grad(T.sum(allreduce(x) * c), x)
    np.testing.assert_array_equal(function([x, c], g)(np.ones(2), np.array([1.0, 2.0])), [3, 6])


def test_never_folded_at_compile_time(comm):
    f = function([], allreduce(T.constant(np.array([1.0, 2.0]))))
    assert comm.calls == 0
    np.testing.assert_array_equal(f(), [3, 6])
    assert comm.calls == 1


def test_packed_sums_tensors_in_one_call(comm):
    pytest.importorskip("mpi4py")
    a, b = T.dmatrix("a"), T.dvector("b")
    f = function([a, b], allreduce_packed([a, b, T.sum(b)]))
    for _ in range(2):  # the second call reuses the kernel's buffer
        out = f(np.arange(4.0).reshape(2, 2), np.array([5.0, 6.0]))
        np.testing.assert_array_equal(out, 3 * np.array([0, 1, 2, 3, 5, 6, 11.0]))
    assert comm.calls == 2


def test_packed_outputs_and_their_views_survive_later_calls(comm):
    pytest.importorskip("mpi4py")
    a = T.dvector("a")
    flat = allreduce_packed([a])
    f = function([a], [flat, flat[1:], flat[0] * 1])
    first = f(np.array([1.0, 2.0]))
    for k in range(3):  # the kernel's buffers are reused
        f(np.array([10.0 + k, 20.0]))
    np.testing.assert_array_equal(first[0], [3, 6])
    np.testing.assert_array_equal(first[1], [6])
    assert first[2] == 3


def test_packed_gradient_slices_the_summed_output_gradient(comm):
    pytest.importorskip("mpi4py")
    a, b, c = T.dmatrix("a"), T.dvector("b"), T.dvector("c")
    cost = T.sum(allreduce_packed([a, b]) * c)
    ga, gb = function([a, b, c], T.grad(cost, [a, b]))(np.ones((2, 2)), np.ones(1),
                                                        np.arange(5.0))
    np.testing.assert_array_equal(ga, 3 * np.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(gb, [12.0])


def test_packed_needs_one_dtype():
    with pytest.raises(TypeError, match="one dtype"):
        allreduce_packed([T.dvector("a"), T.fvector("b")])


def test_without_communicator_packed_is_a_concatenation():
    a, b = T.dvector("a"), T.dscalar("b")
    out = function([a, b], allreduce_packed([a, b]))(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(out, [1, 2, 3])


def test_products_are_computed_into_the_packed_buffer(comm):
    """The optimizer has BLAS write ``dot(a, b)`` parts straight into the buffer (a product
    that something else reads too stays a part of its own)."""
    pytest.importorskip("mpi4py")
    from core.tensor.collective import PackedProductsAllReduce

    a, b, c = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("c")
    shared_product = T.dot(c, b)
    f = function([a, b, c], [allreduce_packed([T.dot(a.T, b), T.sum(c, axis=0),
                                               shared_product]), shared_product])
    (node,) = [n for n in f.maker.fgraph.toposort() if "AllReduce" in type(n.op).__name__]
    assert isinstance(node.op, PackedProductsAllReduce) and node.op.products == (
        True, False, False)
    rng = np.random.default_rng(0)
    av, bv, cv = rng.normal(size=(4, 3)), rng.normal(size=(4, 2)), rng.normal(size=(5, 4))
    for _ in range(2):  # the second call reuses the kernel's buffer
        out, product = f(av, bv, cv)
        expected = np.concatenate([(av.T @ bv).ravel(), cv.sum(0), (cv @ bv).ravel()])
        np.testing.assert_allclose(out, 3 * expected, rtol=1e-12)
        np.testing.assert_allclose(product, cv @ bv, rtol=1e-12)


def test_products_op_checks_its_inputs():
    from core.tensor.collective import PackedProductsAllReduce

    with pytest.raises(TypeError, match="3 inputs"):
        PackedProductsAllReduce((True, True))(T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("c"))
    with pytest.raises(TypeError, match="two matrices"):
        PackedProductsAllReduce((True,))(T.dvector("a"), T.dmatrix("b"))
    with pytest.raises(TypeError, match="one dtype"):
        PackedProductsAllReduce((True,))(T.fmatrix("a"), T.dmatrix("b"))


def test_exchange_alone_gives_this_process_vector_and_checks_the_process_count():
    pytest.importorskip("mpi4py")
    from core.tensor.collective import exchange_packed

    a, b = T.dmatrix("a"), T.dmatrix("b")
    (alone,) = exchange_packed([T.dot(a, b), T.sum(a, axis=1)], 1)
    f = function([a, b], alone * 1)
    av, bv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    for _ in range(3):  # buffers taken in turn
        np.testing.assert_array_equal(f(av, bv), np.concatenate([(av @ bv).ravel(),
                                                                  av.sum(1)]))
    pair = exchange_packed([a], 2)
    g = function([a], pair[0] + pair[1])
    with pytest.raises(RuntimeError, match="built for 2 processes on one machine, run by 1"):
        g(av)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_exchange_product_alone_is_the_product_with_its_gradient(backend):
    from core.config import config
    from core.gradient import verify_grad
    from core.tensor.collective import exchange_product

    a, w = T.dmatrix("a"), T.dmatrix("w")
    (alone,) = exchange_product(a, w, 1, 0)
    assert alone.type.shape == (None, None)
    with config.change_flags(backend=backend):
        f = function([a, w], T.maximum(alone + 1, 0))
    rng = np.random.default_rng(0)
    av, wv = rng.normal(size=(5, 3)), rng.normal(size=(3, 4))
    for _ in range(3):  # buffers taken in turn
        np.testing.assert_allclose(f(av, wv), np.maximum(av @ wv + 1, 0))
    verify_grad(lambda a, w: T.tanh(exchange_product(a, w, 1, 0)[0]), [av, wv], rng=rng)


def test_exchange_product_gradient_is_this_process_product_s():
    # output q is process q's product: only this process's (rank 1 of 2) carries a gradient
    from core.tensor.collective import exchange_product

    a, w = T.dmatrix("a"), T.dmatrix("w")
    outputs = exchange_product(a, w, 2, 1)
    g = T.dmatrix("g")
    ga, gw = T.grad(None, [a, w], known_grads={outputs[0]: g * 100, outputs[1]: g})
    f = function([a, w, g], [ga, gw])
    rng = np.random.default_rng(1)
    av, wv, gv = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    got_a, got_w = f(av, wv, gv)
    np.testing.assert_allclose(got_a, gv @ wv.T)
    np.testing.assert_allclose(got_w, av.T @ gv)
    with pytest.raises(TypeError, match="ExchangeProduct: expected two matrices of one dtype"):
        exchange_product(a, T.fmatrix("w"), 2, 0)


def test_exchange_checks_its_parts():
    from core.tensor.collective import exchange_packed

    with pytest.raises(TypeError, match="one dtype"):
        exchange_packed([T.dvector("a"), T.fvector("b")], 2)


def test_unpack_gives_reshaped_views_of_consecutive_pieces():
    from core.tensor.collective import Unpack

    flat = T.dvector("flat")
    a, b, c = Unpack([(2, 3), (), (2,)]).make_node(flat).outputs
    assert (a.type.shape, b.ndim, c.type.shape) == ((2, 3), 0, (2,))
    f = function([flat], [a * 1, b * 1, c * 1, a.shape])
    value = np.arange(9.0)
    got = f(value)
    np.testing.assert_array_equal(got[0], value[:6].reshape(2, 3))
    assert got[1] == 6.0
    np.testing.assert_array_equal(got[2], value[7:])
    np.testing.assert_array_equal(got[3], [2, 3])
    alone = function([flat], Unpack([(3,)])(flat))  # one output: a view, copied out
    given = value[:3].copy()
    out = alone(given)
    np.testing.assert_array_equal(out, [0, 1, 2])
    assert not np.shares_memory(out, given)  # view_map: the function copies it out
    with pytest.raises(TypeError, match="expected a vector"):
        Unpack([(1,)])(T.dmatrix("m"))


def test_shared_memory_fits_asks_every_process():
    pytest.importorskip("mpi4py")
    from core.tensor.collective import shared_memory_fits

    class Agreeing:  # every process answers as this one
        def allreduce(self, value, op):
            return value

    assert shared_memory_fits(Agreeing(), 0)
    assert not shared_memory_fits(Agreeing(), 1 << 62)
