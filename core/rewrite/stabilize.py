"""Stabilize: replace expressions that overflow or lose precision by stable equivalents."""
from __future__ import annotations

from ..graph.basic import Constant
from ..tensor import math as tm
from ..tensor import scalar_ops as ps
from ..tensor.elemwise import DimShuffle
from ..tensor.math import CAReduce
from ..tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                           LogSoftmax, Softmax, SoftmaxGrad)
from ..tensor.rewritten_ops import (CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx,
                                    LogSumExp)
from ..tensor.join import ARange
from ..tensor.shape_ops import Shape_i
from ..tensor.subtensor import AdvancedSubtensor
from .engine import register
from .utils import fit, is_const, is_op, owner_op, single_client


def _split_one(var):
    """If ``var`` is ``1 + rest`` (an add with a constant 1 term), return ``rest``, else None."""
    if not owner_op(var, ps.Add):
        return None
    terms = var.owner.inputs
    ones = [t for t in terms if isinstance(t, Constant) and is_const(t, 1)]
    if not ones:
        return None
    rest = list(terms)
    rest.remove(ones[0])
    return rest[0] if len(rest) == 1 else tm.add(*rest)


@register("stabilize", ps.Log, tags=("log1p",))
def local_log1p(fgraph, node):
    """log(1 + x) -> log1p(x);  log(1 + exp(x)) -> softplus(x)."""
    rest = _split_one(node.inputs[0])
    if rest is None:
        return None
    out = node.outputs[0]
    if owner_op(rest, ps.Exp):
        return [fit(tm.softplus(rest.owner.inputs[0]), out, shape_ref=node.inputs[0])]
    return [fit(tm.log1p(rest), out, shape_ref=node.inputs[0])]


@register("stabilize", ps.Log1p, tags=("softplus",))
def local_log1p_exp(fgraph, node):
    """log1p(exp(x)) -> softplus(x)."""
    (x,) = node.inputs
    if owner_op(x, ps.Exp):
        return [fit(tm.softplus(x.owner.inputs[0]), node.outputs[0])]
    return None


@register("stabilize", ps.Sub, tags=("expm1",))
def local_expm1(fgraph, node):
    """exp(x) - 1 -> expm1(x);  1 - sigmoid(x) -> sigmoid(-x)."""
    a, b = node.inputs
    out = node.outputs[0]
    if owner_op(a, ps.Exp) and isinstance(b, Constant) and is_const(b, 1):
        return [fit(tm.expm1(a.owner.inputs[0]), out, shape_ref=b)]
    if owner_op(b, ps.Sigmoid) and isinstance(a, Constant) and is_const(a, 1):
        return [fit(tm.sigmoid(-b.owner.inputs[0]), out, shape_ref=a)]
    return None


def _one_over_one_plus_exp(denominator):
    """If ``denominator`` is ``1 + exp(e)``, return ``sigmoid(-e)`` (= 1 / (1 + exp(e)))."""
    rest = _split_one(denominator)
    if rest is not None and owner_op(rest, ps.Exp):
        e = rest.owner.inputs[0]
        return tm.sigmoid(e.owner.inputs[0] if owner_op(e, ps.Neg) else -e)
    return None


@register("stabilize", ps.TrueDiv, tags=("sigmoid",))
def local_sigmoid_from_div(fgraph, node):
    """1 / (1 + exp(-x)) -> sigmoid(x);  a / (1 + exp(x)) -> a * sigmoid(-x)."""
    a, b = node.inputs
    s = _one_over_one_plus_exp(b)
    if s is None:
        return None
    out = node.outputs[0]
    if isinstance(a, Constant) and is_const(a, 1):
        return [fit(s, out, shape_ref=a)]
    return [fit(a * s, out)]


@register("stabilize", ps.Reciprocal, tags=("sigmoid",))
def local_sigmoid_from_reciprocal(fgraph, node):
    """reciprocal(1 + exp(-x)) -> sigmoid(x)."""
    s = _one_over_one_plus_exp(node.inputs[0])
    return None if s is None else [fit(s, node.outputs[0], shape_ref=node.inputs[0])]


@register("stabilize", ps.Log, tags=("softplus",))
def local_log_sigmoid(fgraph, node):
    """log(sigmoid(x)) -> -softplus(-x)."""
    (x,) = node.inputs
    if owner_op(x, ps.Sigmoid):
        return [fit(-tm.softplus(-x.owner.inputs[0]), node.outputs[0])]
    return None


@register("stabilize", ps.Log, tags=("log_softmax",))
def local_log_softmax(fgraph, node):
    """log(softmax(x)) -> log_softmax(x)."""
    (x,) = node.inputs
    if is_op(x, Softmax):
        return [LogSoftmax(x.owner.op.axis)(x.owner.inputs[0])]
    sub = x.owner
    if sub is not None and type(sub.op).__name__ == "AdvancedSubtensor" and is_op(sub.inputs[0], Softmax):
        # log(softmax(z)[idx]) -> log_softmax(z)[idx]  (the hand-written crossentropy)
        sm = sub.inputs[0]
        return [sub.op(LogSoftmax(sm.owner.op.axis)(sm.owner.inputs[0]), *sub.inputs[1:])]
    return None


@register("stabilize", SoftmaxGrad, tags=("log_softmax",))
def local_softmax_grad_to_log_softmax_grad(fgraph, node):
    """softmax_grad(g / sm, sm) -> g - sm * sum(g): the gradient of log_softmax, finite at sm = 0.

    Also for ``g`` scattered into zeros by advanced indexing (the gradient of
    ``log(softmax(z)[idx])``).
    """
    dy, sm = node.inputs
    axis = node.op.axis
    g = None
    if owner_op(dy, ps.TrueDiv) and dy.owner.inputs[1] is sm:
        g = dy.owner.inputs[0]
    elif dy.owner is not None and type(dy.owner.op).__name__ == "AdvancedIncSubtensor":
        op = dy.owner.op
        zeros, vals, *idx = dy.owner.inputs
        if (not op.set_instead_of_inc and is_const(zeros, 0) and owner_op(vals, ps.TrueDiv)):
            num, den = vals.owner.inputs
            if (den.owner is not None and type(den.owner.op).__name__ == "AdvancedSubtensor"
                    and den.owner.inputs[0] is sm and den.owner.op.idx_list == op.idx_list
                    and list(den.owner.inputs[1:]) == idx):
                g = op(zeros, num, *idx)
    if g is None:
        return None
    return [fit(g - sm * tm.sum(g, axis=axis, keepdims=True), node.outputs[0])]


@register("stabilize", ps.Log, tags=("logsumexp",))
def local_logsumexp(fgraph, node):
    """log(sum(exp(x), axis)) -> logsumexp(x, axis) (also through a keepdims dimshuffle)."""
    (s,) = node.inputs
    expand = None
    if is_op(s, DimShuffle) and not s.owner.op.drop and sorted(
            d for d in s.owner.op.new_order if d != "x") == list(range(s.owner.inputs[0].ndim)):
        expand, s = s.owner.op, s.owner.inputs[0]
    if not (is_op(s, CAReduce) and isinstance(s.owner.op.scalar_op, ps.Add)):
        return None
    e = s.owner.inputs[0]
    if not owner_op(e, ps.Exp) or s.dtype != e.dtype:
        return None
    new = LogSumExp(s.owner.op.axis)(e.owner.inputs[0])
    if expand is not None:
        new = expand(new)
    return [fit(new, node.outputs[0])]


@register("stabilize", CrossentropyCategorical1Hot, tags=("softmax_crossentropy",))
def local_crossentropy_softmax(fgraph, node):
    """crossentropy(softmax(z), y) -> crossentropy_softmax(z, y), one stable op."""
    sm, y = node.inputs
    if is_op(sm, Softmax) and sm.owner.op.axis == 1:
        return [CrossentropySoftmax1Hot()(sm.owner.inputs[0], y)]
    return None


@register("stabilize", SoftmaxGrad, tags=("softmax_crossentropy",))
def local_crossentropy_softmax_grad(fgraph, node):
    """softmax_grad(crossentropy_grad(g, sm, y), sm) -> (sm - onehot(y)) * g."""
    dy, sm = node.inputs
    if (is_op(dy, CrossentropyCategorical1HotGrad) and dy.owner.inputs[1] is sm
            and node.op.axis == 1):
        g, _, y = dy.owner.inputs
        return [CrossentropySoftmax1HotDx()(g, sm, y)]
    return None


def _negates(b, a) -> bool:
    """True if ``b`` is ``-a`` (or ``a`` is ``-b``)."""
    return (owner_op(b, ps.Neg) and b.owner.inputs[0] is a) or (
        owner_op(a, ps.Neg) and a.owner.inputs[0] is b)


@register("stabilize", ps.Mul, tags=("sigmoid",))
def local_mul_sigmoid_exp(fgraph, node):
    """sigmoid(a) * exp(-a) -> sigmoid(-a);  (x / d) * d -> x.

    Both appear in gradients of sigmoids written by hand, where the left side
    is 0 * inf for large |a|.
    """
    terms = list(node.inputs)
    for i, t in enumerate(terms):
        if owner_op(t, ps.Sigmoid):
            a = t.owner.inputs[0]
            for j, u in enumerate(terms):
                if j != i and owner_op(u, ps.Exp) and _negates(u.owner.inputs[0], a):
                    rest = [v for k, v in enumerate(terms) if k not in (i, j)]
                    new = tm.sigmoid(u.owner.inputs[0])
                    return [fit(tm.mul(new, *rest) if rest else new, node.outputs[0])]
    for i, t in enumerate(terms):
        if owner_op(t, ps.TrueDiv) and single_client(fgraph, t):
            x, d = t.owner.inputs
            for j, u in enumerate(terms):
                if j != i and u is d:
                    rest = [v for k, v in enumerate(terms) if k not in (i, j)]
                    new = tm.mul(x, *rest) if rest else x
                    return [fit(new, node.outputs[0], shape_ref=d)]
    return None


def _sum_exp_of(ds, s):
    """If ``ds(s)`` is ``sum(exp(x), axis=[k])`` with axis k re-inserted, return (x, k)."""
    if not (is_op(s, CAReduce) and isinstance(s.owner.op.scalar_op, ps.Add)
            and len(s.owner.op.axis) == 1 and owner_op(s.owner.inputs[0], ps.Exp)):
        return None
    k = s.owner.op.axis[0]
    x = s.owner.inputs[0].owner.inputs[0]
    expected = tuple(range(k)) + ("x",) + tuple(range(k, x.ndim - 1))
    return (x, k) if ds.new_order == expected else None


@register("stabilize", ps.TrueDiv, tags=("softmax",))
def local_softmax_from_div(fgraph, node):
    """exp(x) / sum(exp(x), axis=k, keepdims) -> softmax(x, k)."""
    a, b = node.inputs
    found = _sum_exp_of(b.owner.op, b.owner.inputs[0]) if is_op(b, DimShuffle) else None
    if found and owner_op(a, ps.Exp) and a.owner.inputs[0] is found[0]:
        return [fit(Softmax(found[1])(found[0]), node.outputs[0])]
    return None


@register("stabilize", ps.Mul, tags=("softmax",))
def local_softmax_from_mul(fgraph, node):
    """exp(x) * (c / sum(exp(x), axis=k))[keepdims] -> c * softmax(x, k) (as in logsumexp's gradient)."""
    terms = list(node.inputs)
    for i, t in enumerate(terms):
        if not (is_op(t, DimShuffle) and owner_op(t.owner.inputs[0], ps.TrueDiv)):
            continue
        c, s = t.owner.inputs[0].owner.inputs
        found = _sum_exp_of(t.owner.op, s)
        if not found:
            continue
        for j, u in enumerate(terms):
            if j != i and owner_op(u, ps.Exp) and u.owner.inputs[0] is found[0]:
                rest = [v for k, v in enumerate(terms) if k not in (i, j)]
                new = Softmax(found[1])(found[0]) * t.owner.op(c)
                return [fit(tm.mul(new, *rest) if rest else new, node.outputs[0])]
    return None


@register("stabilize", AdvancedSubtensor, tags=("softmax_crossentropy",))
def local_hand_written_crossentropy(fgraph, node):
    """log_softmax(z)[arange(n), y] -> -crossentropy_softmax(z[:n], y), n = rows of z or len(y)."""
    if node.op.idx_list != ("a", "a") or type(node.op) is not AdvancedSubtensor:
        return None
    lsm, rows, y = node.inputs
    if not (is_op(lsm, LogSoftmax) and lsm.owner.op.axis == 1 and is_op(rows, ARange)
            and y.ndim == 1 and y.dtype[0] in "iu"):
        return None
    start, stop, step = rows.owner.inputs
    if not (isinstance(start, Constant) and is_const(start, 0)
            and isinstance(step, Constant) and is_const(step, 1)):
        return None
    if not (is_op(stop, Shape_i) and stop.owner.op.i == 0):
        return None
    z, of = lsm.owner.inputs[0], stop.owner.inputs[0]
    if of is z or of is lsm:
        logits = z
    elif of is y:
        logits = z[:stop]  # the rows the indexing reads; a view
    else:
        return None
    return [fit(-CrossentropySoftmax1Hot()(logits, y), node.outputs[0])]


@register("stabilize", ps.Mul, tags=("sigmoid",))
def local_mul_distribute_cancel(fgraph, node):
    """d1 * (a / d1 + b / d2) * d2 -> a * d2 + b * d1: each denominator cancels a factor.

    The gradient of a hand-written logistic loss has this shape with
    d = sigmoid(z), where the left side is 0 * inf at large |z|.
    """
    terms = list(node.inputs)
    for i, t in enumerate(terms):
        if not (owner_op(t, ps.Add) and single_client(fgraph, t)):
            continue
        others = terms[:i] + terms[i + 1:]
        summands = []
        for s in t.owner.inputs:
            if not owner_op(s, ps.TrueDiv):
                break
            num, den = s.owner.inputs
            k = next((k for k, o in enumerate(others) if o is den), None)
            if k is None:
                break
            rest = others[:k] + others[k + 1:]
            summands.append(tm.mul(num, *rest) if rest else num)
        else:
            return [fit(tm.add(*summands), node.outputs[0])]
    return None
