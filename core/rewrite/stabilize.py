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
from ..tensor.subtensor import AdvancedSubtensor, Subtensor
from .engine import register
from .cancel import same_var, times_denominator
from .utils import covers, fit, is_const, is_op, owner_op


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
    if sub is not None and isinstance(sub.op, Subtensor) and is_op(sub.inputs[0], Softmax):
        # log(softmax(z)[idx]) -> log_softmax(z)[idx]  (the hand-written crossentropy), for
        # any indexing: log works elementwise
        sm = sub.inputs[0]
        return [sub.op(LogSoftmax(sm.owner.op.axis)(sm.owner.inputs[0]), *sub.inputs[1:])]
    return None


@register("stabilize", SoftmaxGrad, tags=("log_softmax",))
def local_softmax_grad_to_log_softmax_grad(fgraph, node):
    """softmax_grad(h / sm, sm) -> h - sm * sum(h): the gradient of log_softmax, finite at sm = 0.

    ``h / sm`` may hide under signs, products and sums, or be scattered into zeros by
    indexing (``log(softmax(z)[idx])``, the hand-written crossentropy): see ``cancel.py``.
    """
    dy, sm = node.inputs
    h = times_denominator(dy, same_var(sm))
    if h is None:
        return None
    new = fit(h - sm * tm.sum(h, axis=node.op.axis, keepdims=True), node.outputs[0])
    return None if new is None else [new]


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
    """sigmoid(a) * exp(-a) -> sigmoid(-a).

    It appears in gradients of sigmoids written by hand, where the left side is
    0 * inf for large |a|.
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
    return None


def _sum_exp_of(ds, s):
    """If ``ds(s)`` is ``sum(exp(x), axes)`` with the axes re-inserted, return (x, axes)."""
    if not (is_op(s, CAReduce) and isinstance(s.owner.op.scalar_op, ps.Add)
            and owner_op(s.owner.inputs[0], ps.Exp)):
        return None
    axes = tuple(sorted(s.owner.op.axis))
    x = s.owner.inputs[0].owner.inputs[0]
    kept = iter(range(x.ndim - len(axes)))
    expected = tuple("x" if d in axes else next(kept) for d in range(x.ndim))
    if ds.new_order != expected or s.dtype != x.dtype or _shifted_by_max(x, axes):
        return None
    return x, axes


def _shifted_by_max(x, axes: tuple) -> bool:
    """True if ``x`` is ``x0 - max(x0, axes)[keepdims]`` (what ``_normalized_exp`` builds)."""
    if not owner_op(x, ps.Sub):
        return False
    x0, m = x.owner.inputs
    if is_op(m, DimShuffle):
        m = m.owner.inputs[0]
    return (is_op(m, CAReduce) and isinstance(m.owner.op.scalar_op, ps.Maximum)
            and tuple(sorted(m.owner.op.axis)) == axes and m.owner.inputs[0] is x0)


def _normalized_exp(x, axes: tuple, ds: DimShuffle):
    """exp(x) / sum(exp(x), axes), stably: softmax along one axis, else shifted by the max
    over the axes (exact for the largest terms, as softmax; ``ds`` re-inserts the axes)."""
    if len(axes) == 1:
        return Softmax(axes[0])(x)
    e = tm.exp(x - ds(tm.max(x, axis=axes)))
    return e / ds(tm.sum(e, axis=axes))


@register("stabilize", ps.TrueDiv, tags=("softmax",))
def local_softmax_from_div(fgraph, node):
    """exp(x) / sum(exp(x), axes, keepdims) -> softmax(x, k) (one axis k), else exp(x - logsumexp)."""
    a, b = node.inputs
    found = _sum_exp_of(b.owner.op, b.owner.inputs[0]) if is_op(b, DimShuffle) else None
    if found and owner_op(a, ps.Exp) and a.owner.inputs[0] is found[0]:
        return [fit(_normalized_exp(*found, b.owner.op), node.outputs[0])]
    return None


@register("stabilize", ps.Mul, tags=("softmax",))
def local_softmax_from_mul(fgraph, node):
    """exp(x) * (c / sum(exp(x), axes))[keepdims] -> c * softmax(x) (as in logsumexp's gradient)."""
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
                new = _normalized_exp(*found, t.owner.op) * t.owner.op(c)
                return [fit(tm.mul(new, *rest) if rest else new, node.outputs[0])]
    return None


def _sum_exp_divisors(fgraph, u, x):
    """``(sum(exp(x), axes)[keepdims], axes)`` for each sum of ``u = exp(x)`` in the graph;
    the keepdims dimshuffle is built here when the graph has none."""
    found = []
    for client, _ in fgraph.clients.get(u, ()):
        if client == "output" or not (isinstance(client.op, CAReduce)
                                      and isinstance(client.op.scalar_op, ps.Add)):
            continue
        v = client.outputs[0]
        if v.dtype != x.dtype:
            continue
        axes = tuple(sorted(client.op.axis))
        kept = iter(range(x.ndim - len(axes)))
        order = tuple("x" if d in axes else next(kept) for d in range(x.ndim))
        found.append((DimShuffle(v.ndim, order)(v), axes))
    return found


def _may_divide_by(fgraph, d) -> bool:
    """False when no node divides by ``d`` (or indexes or dimshuffles it): nothing cancels."""
    clients = fgraph.clients.get(d)
    if clients is None:
        return True
    for node, i in clients:
        if node == "output":
            continue
        if isinstance(node.op, (Subtensor, DimShuffle)) or (
                i == 1 and isinstance(getattr(node.op, "scalar_op", None), ps.TrueDiv)):
            return True
    return False


@register("stabilize", ps.Mul, tags=("softmax",))
def local_exp_over_sum_exp(fgraph, node):
    """exp(x) * t -> softmax(x) * (t * d) where ``t`` divides by d = sum(exp(x), k)[keepdims]
    (``cancel.py``): the gradient of a softmax written as ``exp(x) / sum(exp(x))``, where
    exp(x) and the sum overflow to inf."""
    terms, out = list(node.inputs), node.outputs[0]
    for i, u in enumerate(terms):
        if not owner_op(u, ps.Exp):
            continue
        x = u.owner.inputs[0]
        divisors = _sum_exp_divisors(fgraph, u, x)
        for j, t in enumerate(terms):
            if j == i:
                continue
            for d, axes in divisors:
                h = times_denominator(t, same_var(d))
                if h is None:
                    continue
                rest = [v for k, v in enumerate(terms) if k not in (i, j)]
                new = fit(tm.mul(_normalized_exp(x, axes, d.owner.op), h, *rest), out)
                if new is not None:
                    return [new]
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


@register("stabilize", ps.Mul, tags=("sigmoid", "log_softmax"))
def local_mul_cancel_division(fgraph, node):
    """(x / d) * d -> x;  d1 * (a / d1 - b / d2) * d2 -> a * d2 - b * d1;  d * (a / d + b) ->
    a + b * d.

    Each division cancels against a factor of the product, also under signs and
    products (``cancel.py``). The gradient of a logistic loss (hand-written, or
    ``binary_crossentropy(sigmoid(z), t)``) has the second shape with
    ``d = sigmoid(+-z)``, where the left side is 0 * inf at large |z|.
    """
    terms, out = list(node.inputs), node.outputs[0]
    if not any(_may_divide_by(fgraph, d) for d in terms):
        return None
    for i, t in enumerate(terms):
        others = terms[:i] + terms[i + 1:]
        for k, d in enumerate(others):
            if not _may_divide_by(fgraph, d):
                continue
            h = times_denominator(t, same_var(d))
            if h is not None:
                rest = others[:k] + others[k + 1:]
                ref = next((v for v in terms if covers(v, out)), d)
                new = fit(tm.mul(h, *rest) if rest else h, out, shape_ref=ref)
                if new is not None:
                    return [new]
    for i, t in enumerate(terms):
        if not owner_op(t, (ps.Add, ps.Sub)):
            continue
        others = terms[:i] + terms[i + 1:]
        summands, cancelled = [], 0
        for s in t.owner.inputs:
            for k, d in enumerate(others):
                h = times_denominator(s, same_var(d)) if _may_divide_by(fgraph, d) else None
                if h is not None:
                    rest = others[:k] + others[k + 1:]
                    summands.append(tm.mul(h, *rest) if rest else h)
                    cancelled += 1
                    break
            else:
                summands.append(tm.mul(s, *others))
        if cancelled:
            ref = next((v for v in terms if covers(v, out)), t)
            new = fit(t.owner.op(*summands), out, shape_ref=ref)
            if new is not None:
                return [new]
    return None
