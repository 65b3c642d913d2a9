"""Specialize: cheaper forms of canonical expressions, for the backends."""
from __future__ import annotations

import functools

import numpy as np

from ..graph.basic import Constant
from ..tensor import math as tm
from ..tensor import scalar_ops as ps
from ..tensor.blas import Gemm
from ..tensor.elemwise import DimShuffle, Elemwise
from ..tensor.variable import constant
from .engine import register
from .utils import fit, is_const, scalar_value, single_client


@register("specialize", ps.Mul, tags=("algebra",))
def local_mul_neg_one(fgraph, node):
    """mul(-1, x) -> -x."""
    consts = [i for i in node.inputs if isinstance(i, Constant)]
    if len(node.inputs) != 2 or len(consts) != 1 or not is_const(consts[0], -1):
        return None
    x = node.inputs[1] if node.inputs[0] is consts[0] else node.inputs[0]
    out = node.outputs[0]
    # Negate in the product's dtype: the other factor may be a bool mask (-True is an error).
    return [fit(-tm.cast(x, out.dtype), out, shape_ref=consts[0])]


@register("specialize", ps.TrueDiv, tags=("algebra",))
def local_div_by_constant(fgraph, node):
    """x / c -> x * (1/c) for a float constant c (a multiply is cheaper than a divide)."""
    x, c = node.inputs
    out = node.outputs[0]
    if not isinstance(c, Constant) or np.dtype(out.dtype).kind != "f" or c.dtype != out.dtype:
        return None
    v = scalar_value(c)
    if v is None or v == 0 or not np.isfinite(v):
        return None
    inv = np.asarray(1 / np.asarray(c.data, dtype=out.dtype), dtype=out.dtype)
    from ..tensor.variable import constant

    return [fit(tm.mul(x, constant(inv)), out)]


@register("specialize", ps.Mul, tags=("algebra",))
def local_mul_self(fgraph, node):
    """x * x -> sqr(x)."""
    if len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]:
        return [fit(tm.sqr(node.inputs[0]), node.outputs[0])]
    return None


_MIRROR = {ps.GT: ps.LT, ps.LT: ps.GT, ps.GE: ps.LE, ps.LE: ps.GE}


@register("specialize", ps.GT, ps.LT, ps.GE, ps.LE, tags=("algebra",))
def local_sigmoid_threshold(fgraph, node):
    """sigmoid(x) > 0.5 -> x > 0 (and <, >=, <=, either side): no sigmoid for a prediction."""
    a, b = node.inputs
    cls = type(node.op.scalar_op)
    if is_const(a, 0.5):  # 0.5 < sigmoid(x) is sigmoid(x) > 0.5
        a, b, cls = b, a, _MIRROR[cls]
    if (not is_const(b, 0.5) or a.owner is None
            or not isinstance(getattr(a.owner.op, "scalar_op", None), ps.Sigmoid)):
        return None
    x = a.owner.inputs[0]
    zero = np.asarray(0, dtype=x.dtype).reshape((1,) * x.ndim)
    from ..tensor.elemwise import Elemwise
    from ..tensor.variable import constant

    return [fit(Elemwise(cls())(x, constant(zero)), node.outputs[0], shape_ref=b)]


def _scaled(var):
    """(factor, term) with ``var = factor * term``: the factor a constant number or a 0-d
    variable (a product of broadcast scalars: a learning rate over a sample count), else
    (1, var)."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise):
        op = node.op.scalar_op
        if isinstance(op, ps.Neg):
            return -1.0, node.inputs[0]
        if isinstance(op, ps.Mul):
            number, scalars, terms = 1.0, [], []
            for c in node.inputs:
                value = scalar_value(c)
                if value is not None and np.ndim(value) == 0:
                    number *= float(value)
                elif (c.owner is not None and isinstance(c.owner.op, DimShuffle)
                        and c.owner.inputs[0].ndim == 0 and c.ndim == var.ndim):
                    scalars.append(c.owner.inputs[0])
                else:
                    terms.append(c)
            if len(terms) == 1 and terms[0].ndim == var.ndim:
                if not scalars:
                    return number, terms[0]
                factor = functools.reduce(tm.mul, scalars)
                return (factor if number == 1.0 else factor * number), terms[0]
    return 1.0, var


def _coefficient(factor, sign: float, dtype: str):
    if isinstance(factor, float):
        return constant(np.asarray(sign * factor, dtype=dtype))
    factor = tm.cast(factor, dtype) if factor.dtype != dtype else factor
    return -factor if sign < 0 else factor


@register("specialize", ps.Add, ps.Sub, tags=("gemm",))
def local_gemm(fgraph, node):
    """b*z + a*dot(x, y) -> Gemm(z, a, x, y, b) for matrices (z - a*dot(x, y) too): one BLAS
    call that adds the product into z, instead of the product then a pass over memory."""
    out = node.outputs[0]
    if len(node.inputs) != 2 or out.ndim != 2 or out.dtype not in ("float32", "float64"):
        return None
    signs = (1.0, -1.0 if isinstance(node.op.scalar_op, ps.Sub) else 1.0)
    terms = [(sign, *_scaled(v)) for sign, v in zip(signs, node.inputs)]
    for k in (0, 1):
        (s_dot, f_dot, d), (s_z, f_z, z) = terms[k], terms[1 - k]
        if not (d.owner is not None and isinstance(d.owner.op, tm.Dot) and d.ndim == 2
                and single_client(fgraph, d)):
            continue
        x, y = d.owner.inputs
        if (x.ndim != 2 or y.ndim != 2 or z.ndim != 2 or {x.dtype, y.dtype, z.dtype} != {out.dtype}
                or z.type.broadcastable != (False, False)):
            continue
        new = Gemm()(z, _coefficient(f_dot, s_dot, out.dtype), x, y,
                     _coefficient(f_z, s_z, out.dtype))
        return [new] if new.type == out.type else None
    return None


@register("specialize", Gemm, tags=("gemm",))
def local_gemm_unit_beta(fgraph, node):
    """Gemm(z, a, x, y, b) -> b * Gemm(z, a / b, x, y, 1) for a constant b other than 0 and 1,
    when an elementwise node reads the result.

    BLAS scales z by b in a pass of its own before the product (OpenBLAS's beta kernel),
    while the multiply by b fuses into the elementwise reader: a momentum step
    ``v = 0.9 * v - lr * g; w = w + v`` becomes one product accumulating into v and one
    pass that writes both w and v.
    """
    z, a, x, y, b = node.inputs
    beta = scalar_value(b)
    out = node.outputs[0]
    if (node.op.inplace or beta is None or beta in (0, 1) or not np.isfinite(beta)
            or not any(client != "output" and isinstance(client.op, Elemwise)
                       for client, _ in fgraph.clients.get(out, []))):
        return None
    b_const = constant(np.asarray(beta, dtype=out.dtype))
    alpha = scalar_value(a)
    a_new = a / b_const if alpha is None else constant(np.asarray(alpha / beta, dtype=out.dtype))
    scaled = Gemm()(z, a_new, x, y, constant(np.asarray(1, dtype=out.dtype)))
    return [fit(b_const * scaled, out)]
