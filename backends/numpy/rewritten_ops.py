"""Kernels of the ops the optimizer introduces (core/tensor/rewritten_ops.py).

Written against the array module ``xp`` (numpy here; the CUDA backend registers the same
factories with ``xp=cupy``)."""
from __future__ import annotations

import numpy as np

from core.tensor.rewritten_ops import (CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx,
                                       DotElemwiseDot, LogSumExp)

from . import registry
from .nnet import check_labels


def _logsumexp(x, axis, keepdims=False, xp=np):
    m = xp.amax(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) rows: let exp/log give the answer
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


@registry.register(LogSumExp)
def logsumexp_kernel(node, xp=np):
    axis = node.op.axis
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x):
        return xp.asarray(_logsumexp(xp.asarray(x), axis, xp=xp), dtype=dtype)

    return kernel


@registry.register(CrossentropySoftmax1Hot)
def xent_softmax_kernel(node, xp=np):
    def kernel(z, y):
        y = xp.asarray(y)
        check_labels(node.op, z, y, rows="logits")
        lse = _logsumexp(z, 1, xp=xp)
        return (lse - z[xp.arange(z.shape[0]), y]).astype(z.dtype, copy=False)

    return kernel


@registry.register(CrossentropySoftmax1HotDx)
def xent_softmax_dx_kernel(node, xp=np):
    def kernel(g, sm, y):
        y, g = xp.asarray(y), xp.asarray(g)
        check_labels(node.op, sm, y, rows="logits")
        dx = xp.array(sm, copy=True)
        dx[xp.arange(sm.shape[0]), y] -= 1
        dx *= g.reshape(-1, 1) if g.ndim else g
        return dx

    return kernel


@registry.register(DotElemwiseDot)
def dot_elemwise_dot_kernel(node, xp=np, kernels=registry):
    """The reference: the product, the elementwise node's kernel (from ``kernels``, the
    registry of ``xp``'s backend), the product back."""
    op = node.op
    elemwise = kernels.make_kernel(op.inner_node(node))
    k = op.grad_output

    def kernel(x, v, *others):
        x, v = xp.asarray(x), xp.asarray(v)
        if x.shape[1] != v.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {v.shape} are not aligned "
                             f"(dim 1 ({x.shape[1]}) != dim 0 ({v.shape[0]}))")
        z = xp.dot(x, v)
        outs = elemwise(*op.elemwise_inputs(z, list(others)))
        outs = outs if isinstance(outs, tuple) else (outs,)
        if outs[k].shape[0] != x.shape[0]:
            raise ValueError(f"dot: shapes {x.T.shape} and {outs[k].shape} are not aligned")
        return (z, *outs, xp.dot(x.T, outs[k]))

    return kernel
