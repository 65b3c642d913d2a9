"""Canonicalize: bring graphs to one normal form, so that merge and later rules see equals.

Each rule reads like the algebra it applies; the docstring states it.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Constant
from ..gradient_ops import GradientOp
from ..tensor import math as tm
from ..tensor import scalar_ops as ps
from ..tensor.elemwise import DimShuffle, Elemwise
from ..tensor.math import CAReduce
from ..tensor.shape_ops import Alloc, Reshape, Shape_i, shape_i
from .engine import register
from .utils import const_like, covers, fit, is_const, is_op, owner_op, scalar_value, single_client


@register("canonicalize", ps.Second, tags=("fill",))
def local_useless_fill(fgraph, node):
    """fill(a, b) -> b when b already has the output's shape."""
    a, b = node.inputs
    out = node.outputs[0]
    if b.type.shape == out.type.shape:
        return [fit(b, out)]
    return None


@register("canonicalize", Alloc, tags=("fill",))
def local_useless_alloc(fgraph, node):
    """alloc(v, *shape) -> v when v already has the output's static shape."""
    v, out = node.inputs[0], node.outputs[0]
    if v.type.shape == out.type.shape and None not in out.type.shape:
        return [fit(v, out)]
    return None


@register("canonicalize", Elemwise, tags=("fill",))
def local_fill_sink(fgraph, node):
    """op(fill(a, b), c) -> fill(a, op(b, c)): fills move up to where they may vanish."""
    sop = node.op.scalar_op
    if isinstance(sop, ps.Second) or len(node.outputs) != 1:
        return None
    new_inputs, shape_refs, changed = [], [], False
    for i in node.inputs:
        if owner_op(i, ps.Second) and single_client(fgraph, i):
            shape_refs.append(i.owner.inputs[0])
            new_inputs.append(i.owner.inputs[1])
            changed = True
        else:
            new_inputs.append(i)
    if not changed:
        return None
    out = node.outputs[0]
    new = node.op(*new_inputs)
    for ref in shape_refs:
        if any(o != 1 and n == 1 for o, n in zip(out.type.shape, new.type.shape)):
            new = tm.fill(ref, new)
    return [fit(new, out)]


def _flatten_and_fold(fgraph, node, cls, ufunc, neutral):
    """Shared logic of add/mul: flatten nested chains, fold their constants."""
    terms, changed = [], False
    for i in node.inputs:
        if owner_op(i, cls) and single_client(fgraph, i):
            terms.extend(i.owner.inputs)
            changed = True
        else:
            terms.append(i)
    consts = [t for t in terms if isinstance(t, Constant)]
    others = [t for t in terms if not isinstance(t, Constant)]
    out = node.outputs[0]
    folded = None
    if consts:
        folded = consts[0].data
        for c in consts[1:]:
            folded = ufunc(folded, c.data)
        dtype = np.result_type(*[c.data.dtype for c in consts])
        folded = np.asarray(folded, dtype=dtype)
        if len(consts) > 1 or terms.index(consts[0]) != 0:
            changed = True
        if others and folded.size and np.all(folded == neutral):
            folded = None  # x * 1, x + 0
            changed = True
    if not changed:
        return None
    from ..tensor.variable import constant

    new_terms = ([constant(folded)] if folded is not None else []) + others
    if not new_terms:
        return None
    new = new_terms[0] if len(new_terms) == 1 else Elemwise(node.op.scalar_op)(*new_terms)
    return [fit(new, out, shape_ref=others[0] if others else None)]


@register("canonicalize", ps.Add, tags=("algebra",))
def local_add_canonical(fgraph, node):
    """add(add(a, b), c) -> add(a, b, c); constants folded into one, first; x + 0 -> x."""
    return _flatten_and_fold(fgraph, node, ps.Add, np.add, 0)


@register("canonicalize", ps.Mul, tags=("algebra",))
def local_mul_canonical(fgraph, node):
    """mul(mul(a, 2), 3) -> mul(6, a); x * 1 -> x."""
    return _flatten_and_fold(fgraph, node, ps.Mul, np.multiply, 1)


@register("canonicalize", ps.Mul, tags=("algebra",))
def local_mul_neg_out(fgraph, node):
    """mul(-a, b) -> -mul(a, b): signs move out of products (and cancel there)."""
    negs = [i for i in node.inputs if owner_op(i, ps.Neg) and single_client(fgraph, i)]
    if not negs or np.dtype(node.outputs[0].dtype).kind not in "fc":
        return None
    terms = [i.owner.inputs[0] if i in negs else i for i in node.inputs]
    new = tm.mul(*terms)
    if len(negs) % 2:
        new = -new
    return [fit(new, node.outputs[0])]


@register("canonicalize", ps.TrueDiv, tags=("algebra",))
def local_div_neg_out(fgraph, node):
    """(-a) / b -> -(a / b);  a / (-b) -> -(a / b)."""
    a, b = node.inputs
    flips = 0
    if owner_op(a, ps.Neg) and single_client(fgraph, a):
        a, flips = a.owner.inputs[0], flips + 1
    if owner_op(b, ps.Neg) and single_client(fgraph, b):
        b, flips = b.owner.inputs[0], flips + 1
    if not flips:
        return None
    new = tm.true_div(a, b)
    return [fit(-new if flips % 2 else new, node.outputs[0])]


@register("canonicalize", ps.Neg, tags=("algebra",))
def local_neg_neg(fgraph, node):
    """--x -> x;  -(a - b) -> b - a;  -(c * x) -> (-c) * x for a constant c."""
    (x,) = node.inputs
    if owner_op(x, ps.Neg):
        return [fit(x.owner.inputs[0], node.outputs[0])]
    if owner_op(x, ps.Sub) and single_client(fgraph, x):
        a, b = x.owner.inputs
        return [fit(tm.sub(b, a), node.outputs[0])]
    if owner_op(x, ps.Mul) and single_client(fgraph, x) and isinstance(x.owner.inputs[0], Constant):
        c, *rest = x.owner.inputs
        if np.dtype(c.dtype).kind in "fc":
            from ..tensor.variable import constant

            return [fit(tm.mul(constant(-np.asarray(c.data)), *rest), node.outputs[0])]
    return None


def _shape_source(v, out):
    """A variable of ``v``'s shape that is cheap to reach: an elementwise node's output has
    the shape of each input that covers it (broadcasting is static), so go down to one."""
    while v.owner is not None and isinstance(v.owner.op, Elemwise):
        inner = next((i for i in v.owner.inputs if covers(i, v)), None)
        if inner is None:
            break
        v = inner
    return v


def zeros_of(out, terms):
    """Zeros of ``out``'s dtype and shape, where ``out`` is an elementwise result of ``terms``:
    a fill of 0 to the shape of one term that spans it (several when none does)."""
    zero = const_like(0, out)
    spanning = [t for t in terms if covers(t, out)]
    spanning.sort(key=lambda t: isinstance(t, Constant))  # a variable's shape: no big constant
    refs = spanning[:1] or [t for t in terms if t.ndim]
    new = zero
    for t in refs:
        new = tm.fill(_shape_source(t, out), new)
    return fit(new, out)


@register("canonicalize", ps.Mul, tags=("algebra",))
def local_mul_zero(fgraph, node):
    """x * 0 -> zeros of the product's shape and dtype (as Theano: 0 * inf counts as 0)."""
    if not any(isinstance(i, Constant) and is_const(i, 0) for i in node.inputs):
        return None
    return [zeros_of(node.outputs[0], node.inputs)]


@register("canonicalize", ps.Sub, tags=("algebra",))
def local_sub_canonical(fgraph, node):
    """x - x -> zeros;  x - 0 -> x;  0 - x -> -x;  a - (-b) -> a + b."""
    a, b = node.inputs
    out = node.outputs[0]
    if a is b:
        return [zeros_of(out, [a])]
    if is_const(b, 0) and isinstance(b, Constant):
        return [fit(a, out, shape_ref=b)]
    if is_const(a, 0) and isinstance(a, Constant):
        return [fit(-b, out, shape_ref=a)]
    if owner_op(b, ps.Neg):
        return [fit(tm.add(a, b.owner.inputs[0]), out)]
    return None


_POW_SPECIAL = {
    2: tm.sqr,
    0.5: tm.sqrt,
    -1: tm.reciprocal,
    1: lambda x: x,
}


@register("canonicalize", ps.Pow, tags=("algebra",))
def local_pow_specialize(fgraph, node):
    """x**2 -> sqr(x);  x**0.5 -> sqrt(x);  x**-1 -> reciprocal(x);  x**1 -> x;  x**0 -> 1."""
    x, y = node.inputs
    if not isinstance(y, Constant) and not owner_op(y, ps.Second):
        return None
    v = scalar_value(y)
    if v is None:
        return None
    out = node.outputs[0]
    if v == 0:
        return [fit(tm.ones_like(x, dtype=out.dtype), out, shape_ref=y)]
    for k, f in _POW_SPECIAL.items():
        if v == k and (k in (1, 2) or np.dtype(out.dtype).kind == "f"):
            xx = tm.cast(x, out.dtype) if x.dtype != out.dtype else x
            return [fit(f(xx), out, shape_ref=y)]
    return None


@register("canonicalize", ps.TrueDiv, tags=("algebra",))
def local_div_canonical(fgraph, node):
    """x / x -> 1 (floats, assuming x != 0 as Theano does);  x / 1 -> x."""
    a, b = node.inputs
    out = node.outputs[0]
    if a is b and np.dtype(out.dtype).kind == "f":
        return [fit(tm.ones_like(a, dtype=out.dtype), out)]
    if isinstance(b, Constant) and is_const(b, 1):
        return [fit(a, out, shape_ref=b)]
    return None


@register("canonicalize", ps.Cast, tags=("algebra",))
def local_cast_cast(fgraph, node):
    """cast(cast(x, wider), d) -> cast(x, d) when the inner cast loses nothing."""
    (x,) = node.inputs
    if owner_op(x, ps.Cast):
        inner = x.owner.inputs[0]
        if np.can_cast(inner.dtype, x.dtype, "safe"):
            return [fit(tm.cast(inner, node.outputs[0].dtype), node.outputs[0])]
    return None


@register("canonicalize", DimShuffle, tags=("shape",))
def local_dimshuffle_chain(fgraph, node):
    """dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p o q); identity dimshuffle -> x."""
    op = node.op
    (x,) = node.inputs
    order = op.new_order
    if x.owner is not None and isinstance(x.owner.op, DimShuffle):
        inner = x.owner.op.new_order
        composed = tuple("x" if d == "x" else inner[d] for d in order)
        base = x.owner.inputs[0]
        if composed == tuple(range(base.ndim)):
            return [fit(base, node.outputs[0])]
        return [fit(DimShuffle(base.ndim, composed)(base), node.outputs[0])]
    if order == tuple(range(x.ndim)):
        return [x]
    return None


@register("canonicalize", Reshape, tags=("shape",))
def local_reshape_chain(fgraph, node):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2)."""
    x, shp = node.inputs
    if x.owner is not None and isinstance(x.owner.op, Reshape):
        new = Reshape(node.op.ndim)(x.owner.inputs[0], shp)
        return [fit(new, node.outputs[0])] if new.type == node.outputs[0].type else None
    return None


@register("canonicalize", CAReduce, tags=("algebra",))
def local_sum_of_fill(fgraph, node):
    """sum(fill(x, c), axis) or sum(alloc(c, *shape), axis) -> c * (the sizes along axis)."""
    if not isinstance(node.op.scalar_op, ps.Add):
        return None
    (x,) = node.inputs
    out = node.outputs[0]
    if owner_op(x, ps.Second):
        ref, c = x.owner.inputs
        if ref.ndim != x.ndim:
            return None
        sizes = [shape_i(ref, a) for a in node.op.axis]
    elif is_op(x, Alloc):
        c, *dims = x.owner.inputs
        sizes = [dims[a] for a in node.op.axis]
    else:
        return None
    if not isinstance(c, Constant) or not all(c.type.broadcastable) or not all(out.type.broadcastable):
        return None
    count = None
    for size in sizes:
        n = tm.cast(size, out.dtype)
        count = n if count is None else count * n
    value = const_like(np.asarray(c.data).reshape(()), out)
    new = value if count is None else value * count
    return [fit(new, out)]


@register("canonicalize", CAReduce, tags=("algebra",))
def local_sum_neg(fgraph, node):
    """sum(-x) -> -sum(x) (the sign then meets other signs and cancels)."""
    (x,) = node.inputs
    if (isinstance(node.op.scalar_op, ps.Add) and owner_op(x, ps.Neg) and single_client(fgraph, x)
            and np.dtype(node.outputs[0].dtype).kind in "fc"):
        return [fit(-node.op(x.owner.inputs[0]), node.outputs[0])]
    return None


@register("canonicalize", Shape_i, tags=("shape",))
def local_shape_i_lift(fgraph, node):
    """shape_i(x) -> its static size when known; shape_i(elemwise(a, ...)) -> shape_i(a).

    The second form reads an input whose axis is not broadcastable: with static
    broadcasting its size is the output's, and the elementwise node need not be
    kept alive just for its shape.
    """
    (x,) = node.inputs
    i = node.op.i
    out = node.outputs[0]
    if x.type.shape[i] is not None:
        return [fit(const_like(x.type.shape[i], out), out)]
    if x.owner is not None and isinstance(x.owner.op, Elemwise):
        for inp in x.owner.inputs:
            if inp.ndim == x.ndim and inp.type.shape[i] != 1:
                return [Shape_i(i)(inp)]
    return None


@register("canonicalize", Elemwise, tags=("fill", "alloc"))
def local_elemwise_alloc(fgraph, node):
    """op(alloc(v, *shape), c) -> op(v, c) when c already gives the output its shape.

    Elemwise broadcasts by itself, so an alloc feeding it is useless whenever
    the output's static broadcast pattern is unchanged without it.
    """
    if not any(is_op(i, Alloc) for i in node.inputs):
        return None
    new_inputs = [i.owner.inputs[0] if is_op(i, Alloc) else i for i in node.inputs]
    new = node.op.make_node(*new_inputs)
    for o, n in zip(node.outputs, new.outputs):
        if o.dtype != n.dtype or any(a != 1 and b == 1 for a, b in zip(o.type.shape, n.type.shape)):
            return None
    return list(new.outputs)


@register("canonicalize", DimShuffle, tags=("fill",))
def local_dimshuffle_alloc(fgraph, node):
    """alloc(v, *dims).dimshuffle(order) -> alloc(v', *dims in that order), v a scalar (0-d
    or all axes of size 1): the array is filled in its final layout (a reader that wants
    contiguous rows, such as a scan over a transposed cotangent, copies no strided view)."""
    x = node.inputs[0]
    # a pure transposition only (a new broadcast axis in front of alloc's value exposed a
    # wrong value elsewhere in the softmax gradient's rewrites: tests/core/rewrite/test_property)
    if (node.op.drop or node.op.augment or not is_op(x, Alloc)
            or not single_client(fgraph, x)):
        return None
    value, dims = x.owner.inputs[0], x.owner.inputs[1:]
    if value.ndim == len(dims) and all(s == 1 for s in value.type.shape):
        value = value.dimshuffle(*node.op.new_order)
    elif value.ndim != 0:
        return None
    new = Alloc()(value, *[dims[d] for d in node.op.new_order])
    return [fit(new, node.outputs[0])]


@register("canonicalize", GradientOp, tags=("gradient_ops",))
def local_remove_gradient_ops(fgraph, node):
    """zero_grad(x), disconnected_grad(x), grad_clip(x, ...), grad_scale(x, ...) -> x:
    identities on values, needed by ``grad`` only (also run in FAST_COMPILE)."""
    return [node.inputs[0]]


@register("canonicalize", CAReduce, tags=("algebra",))
def local_sum_div_dimshuffle(fgraph, node):
    """sum(a / b, axes) -> sum(a, axes) / b' where ``b`` has size 1 along the axes (a
    per-row divisor; ``b'`` drops those axes): as Theano's local_sum_div_dimshuffle."""
    (x,) = node.inputs
    if not (isinstance(node.op.scalar_op, ps.Add) and owner_op(x, ps.TrueDiv)):
        return None
    a, b = x.owner.inputs
    axes = sorted(node.op.axis)
    if b.ndim != x.ndim or any(b.type.shape[k] != 1 for k in axes):
        return None
    kept = [k for k in range(b.ndim) if k not in axes]
    b_rows = DimShuffle(b.ndim, tuple(kept))(b)
    out = node.outputs[0]
    return [fit(tm.true_div(node.op(a), b_rows), out)]
