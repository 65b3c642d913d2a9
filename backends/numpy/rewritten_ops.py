"""Kernels of the ops the optimizer introduces (core/tensor/rewritten_ops.py)."""
from __future__ import annotations

import numpy as np

from core.tensor.rewritten_ops import (CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx,
                                       DotElemwiseDot, LogSumExp)

from . import registry
from .nnet import check_labels


def _logsumexp(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) rows: let exp/log give the answer
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@registry.register(LogSumExp)
def logsumexp_kernel(node):
    axis = node.op.axis
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x):
        return np.asarray(_logsumexp(x, axis), dtype=dtype)

    return kernel


@registry.register(CrossentropySoftmax1Hot)
def xent_softmax_kernel(node):
    def kernel(z, y):
        check_labels(node.op, z, y, rows="logits")
        lse = _logsumexp(z, 1)
        return (lse - z[np.arange(z.shape[0]), y]).astype(z.dtype, copy=False)

    return kernel


@registry.register(CrossentropySoftmax1HotDx)
def xent_softmax_dx_kernel(node):
    def kernel(g, sm, y):
        check_labels(node.op, sm, y, rows="logits")
        dx = np.array(sm, copy=True)
        dx[np.arange(sm.shape[0]), y] -= 1
        dx *= np.reshape(g, (-1, 1)) if np.ndim(g) else g
        return dx

    return kernel


@registry.register(DotElemwiseDot)
def dot_elemwise_dot_kernel(node):
    """The reference: the product, the elementwise node's numpy kernel, the product back."""
    op = node.op
    elemwise = registry.make_kernel(op.inner_node(node))
    k = op.grad_output

    def kernel(x, v, *others):
        if x.shape[1] != v.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {v.shape} are not aligned "
                             f"(dim 1 ({x.shape[1]}) != dim 0 ({v.shape[0]}))")
        z = np.dot(x, v)
        outs = elemwise(*op.elemwise_inputs(z, list(others)))
        outs = outs if isinstance(outs, tuple) else (outs,)
        if outs[k].shape[0] != x.shape[0]:
            raise ValueError(f"dot: shapes {x.T.shape} and {outs[k].shape} are not aligned")
        return (z, *outs, np.dot(x.T, outs[k]))

    return kernel
