"""``allreduce``: an identity on one process; with a communicator, its sum and gradient."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor import collective
from core.tensor.collective import allreduce


class ReplicatedComm:
    """Stands in for ``size`` processes that all hold the same value (mpi4py's interface)."""

    def __init__(self, size: int):
        self.size, self.calls = size, 0

    def Get_size(self) -> int:
        return self.size

    def Allreduce(self, send, recv) -> None:
        self.calls += 1
        recv[...] = send * self.size


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
