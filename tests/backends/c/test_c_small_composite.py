"""Small fused elementwise calls run straight-line numpy code: same values and dtypes as the
numpy reference, and large inputs still reach the C module."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from backends.c.small_composite import straight_line
from core import function
from core.tensor.type import TensorType

from c_helpers import backend, needs_cc

pytestmark = needs_cc


def _composite(build, *types, shape=(7,)):
    inputs = [TensorType(dt, shape)(f"x{k}") for k, dt in enumerate(types)]
    with backend("c", eager=False):
        f = function(inputs, build(*inputs))
    nodes = f.maker.fgraph.toposort()
    assert len(nodes) == 1 and hasattr(nodes[0].op.scalar_op, "fgraph")
    return f, nodes[0]


CASES = [
    (lambda v: 2 * v + 1, ("float64",)),
    (lambda v: T.exp(-v) * T.tanh(v) + v ** 3, ("float32",)),
    (lambda a, b: T.switch(a > 0, a * b, b - 1), ("float32", "float32")),
    (lambda a, b: T.cast(a, "float32") * b + 0.5, ("int32", "float32")),
    (lambda a, b: (a >= 0) * b, ("float64", "float64")),
    (lambda a, b: a // 3 + b % 2, ("int64", "int8")),
]


@pytest.mark.parametrize("build,types", CASES)
def test_straight_line_matches_the_numpy_reference(build, types):
    from backends.numpy import registry

    _, node = _composite(build, *types)
    fast, ref = straight_line(node).run, registry.make_kernel(node)
    rng = np.random.default_rng(0)
    args = [(rng.normal(size=7) * 4).astype(dt) for dt in types]
    got, want = fast(*args), ref(*args)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_inputs_that_need_a_broadcast_check_keep_the_reference():
    _, node = _composite(lambda a, b: a * b + 1, "float64", "float64", shape=(None,))
    assert straight_line(node) is None  # the reference checks run-time broadcasting


def test_small_calls_skip_the_wrapper_and_large_ones_compile():
    import backends.c as c

    v = T.dvector("v")
    with backend("c", eager=False):
        f = function([v], 2 * v + 1, trust_input=True)
    slot = f.program.namespace["k0"]
    assert slot.__code__.co_filename == "<c small composite>"
    np.testing.assert_array_equal(f(np.arange(10.0)), 2 * np.arange(10.0) + 1)
    big = np.arange(float(c.LAZY_WORK))
    np.testing.assert_array_equal(f(big), 2 * big + 1)
    assert f.program.namespace["k0"].__module__ != "backends.c.small_composite"  # the C kernel
    assert f.program.namespace["k0"] is not slot
