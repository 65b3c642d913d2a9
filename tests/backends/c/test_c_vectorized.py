"""Every generated elementwise loop vectorizes (gcc's vectorization report), selects included.

A loop left scalar runs one element, and for a select one branch, at a time: ReLU's
backward mask ``g * (z >= 0)`` took 12x numpy's time that way. Loops with no vector
instruction to use (integer division and modulo, integer powers, float floor_divide/mod
through fmod) are the documented exceptions.
"""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

import core.tensor as T
from backends.c import compiler, module_source
from backends.c.elemwise import elemwise_spec
from backends.c.scalar import Unsupported
from backends.c.vector_report import scalar_loops
from core import function
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from core.tensor.type import TensorType

from c_helpers import backend, needs_cc

pytestmark = [needs_cc, pytest.mark.skipif(
    compiler.compiler() is None or "clang" in os.path.basename(compiler.compiler() or ""),
    reason="the report is gcc's -fopt-info-vec")]

# No SIMD instruction exists for these (x86 has no vector integer divide; fmod is a libm call).
SCALAR_BY_NATURE = {("intdiv", "i"), ("mod", "i"), ("pow", "i"), ("intdiv", "f"), ("mod", "f")}


def _table():
    """(label, output variable) for every scalar op and the selects/masks ReLU networks
    generate, on each dtype the op takes."""
    out = []

    def add(label, build):
        try:
            out.append((label, build()))
        except (TypeError, ValueError, NotImplementedError):
            pass  # an op the dtype does not support

    unary = [ps.neg, ps.abs_, ps.sqr, ps.sign, ps.floor, ps.ceil, ps.round_half_to_even,
             ps.exp, ps.log, ps.tanh, ps.sigmoid, ps.softplus, ps.sqrt]
    binary = [ps.add, ps.mul, ps.sub, ps.true_div, ps.int_div, ps.mod, ps.pow, ps.maximum,
              ps.minimum, ps.lt, ps.gt, ps.le, ps.ge, ps.eq, ps.neq]
    for dt in ("float32", "float64", "int32", "int64", "uint8", "bool"):
        x, y, z = (TensorType(dt, (None, None))(n) for n in "xyz")
        b = TensorType("bool", (None, None))("b")
        f = TensorType("float32" if dt == "float32" else "float64", (None, None))("f")
        for op in unary:
            add(f"{op} {dt}", lambda: Elemwise(op)(x))
        for op in binary:
            add(f"{op} {dt}", lambda: Elemwise(op)(x, y))
        add(f"switch {dt}", lambda: T.switch(b, x, y))
        add(f"clip {dt}", lambda: T.clip(x, y, z))
        add(f"relu mask {dt}", lambda: f * (x >= 0))
        add(f"mask times {dt}", lambda: (x > 0) * f)
        add(f"cast {dt}", lambda: T.cast(x, "float32") * 2)
    fx, fy = T.fmatrices("fx", "fy")
    add("maximum grad", lambda: T.grad((T.maximum(fx, fy) * fy).sum(), fx))
    add("minimum grad", lambda: T.grad((T.minimum(fx, 0.5) * fy).sum(), fx))
    add("clip grad", lambda: T.grad((T.clip(fx, -1, 1) * fy).sum(), fx))
    add("relu grad", lambda: T.grad((T.nnet.relu(fx) * fy).sum(), fx))
    return out


def _expected_scalar(label: str) -> bool:
    op, dt = label.split(" ")[0], label.split(" ")[-1]
    kind = "f" if dt.startswith("float") else "i"
    return (op, kind) in SCALAR_BY_NATURE


def test_every_elementwise_loop_of_the_table_vectorizes():
    specs, labels = [], []
    for label, v in _table():
        nodes = [v.owner] if v.owner is not None and isinstance(v.owner.op, Elemwise) else []
        for node in nodes:
            try:
                specs.append(elemwise_spec(node))
                labels.append(label)
            except Unsupported:
                pass
    assert len(specs) > 60
    checked = [(label, spec) for label, spec in zip(labels, specs) if not _expected_scalar(label)]
    # one module, one compiler call; the report names functions k<hash of the spec's source>
    names = {"k" + hashlib.sha1(spec.source.encode()).hexdigest()[:16]: label
             for label, spec in checked}
    left = scalar_loops(module_source([spec for _, spec in checked])[0])
    left = [f"{names.get(bad.split('_')[0], '?')}: {bad}" for bad in left]
    assert not left, "loops left scalar:\n" + "\n".join(left)


def test_loops_of_a_compiled_relu_network_gradient_vectorize():
    """The fused loops of an MLP's gradient graph (masks, maximum, clip) after optimization."""
    sources = []
    import backends.c as c

    real = c.module_source

    def spy(specs):
        result = real(specs)
        sources.append(result[0])
        return result

    x, w1, w2 = T.fmatrix("x"), T.fmatrix("w1"), T.fmatrix("w2")
    h = T.nnet.relu(T.dot(x, w1))
    out = T.clip(T.maximum(T.dot(h, w2), -3.0), -2.0, 2.0)
    cost = (out ** 2).sum()
    grads = T.grad(cost, [w1, w2])
    c.module_source = spy
    try:
        with backend("c"):
            f = function([x, w1, w2], grads)
            rng = np.random.default_rng(0)
            f(*(rng.standard_normal(s).astype("float32") for s in [(32, 16), (16, 24), (24, 16)]))
    finally:
        c.module_source = real
    assert sources and "? " in sources[0]  # the selects are there
    assert scalar_loops(sources[0]) == []


def test_selects_keep_numpy_semantics_nan_inf_and_subnormals():
    z, g = T.fmatrices("z", "g")
    with backend("c"):
        f = function([z, g], [(z >= 0) * g, T.maximum(z, g), T.clip(z, -1.0, 1.0),
                              T.switch(z > 0, g, z)])
    tiny = np.float32(1e-40)  # subnormal: must pass through, not flush to zero
    zv = np.array([[np.nan, -1, 0, 2, np.inf, -np.inf, tiny, -tiny]] * 3, np.float32)
    gv = np.array([[1, np.nan, np.inf, tiny, 3, -2, tiny, 5]] * 3, np.float32)
    got = f(zv, gv)
    want = [(zv >= 0) * gv, np.maximum(zv, gv), np.clip(zv, -1, 1), np.where(zv > 0, gv, zv)]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
