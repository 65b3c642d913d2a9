"""Softmax-family and crossentropy kernels.

Written against the array module ``xp`` (numpy here; the CUDA backend registers the same
factories with ``xp=cupy``): one implementation for both.
"""
from __future__ import annotations

import numpy as np

from core.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              LogSoftmax, Softmax, SoftmaxGrad)

from . import registry


@registry.register(Softmax)
def softmax_kernel(node, xp=np):
    axis = node.op.axis

    def kernel(x):
        e = xp.exp(x - xp.amax(x, axis=axis, keepdims=True))
        e /= xp.sum(e, axis=axis, keepdims=True)
        return e

    return kernel


@registry.register(SoftmaxGrad)
def softmax_grad_kernel(node, xp=np):
    axis = node.op.axis
    return lambda dy, sm: sm * (dy - xp.sum(dy * sm, axis=axis, keepdims=True))


@registry.register(LogSoftmax)
def log_softmax_kernel(node, xp=np):
    axis = node.op.axis

    def kernel(x):
        shifted = x - xp.amax(x, axis=axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))

    return kernel


def check_labels(op, coding, labels, rows: str = "probabilities") -> None:
    """Integer labels must be one per row of ``coding`` and index its columns."""
    if labels.shape[0] != coding.shape[0]:
        raise ValueError(f"{op}: {coding.shape[0]} rows of {rows} but {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= coding.shape[1]):
        raise ValueError(f"{op}: labels must lie in [0, {coding.shape[1]}), got values from "
                         f"{int(labels.min())} to {int(labels.max())}")


@registry.register(CrossentropyCategorical1Hot)
def crossentropy_1hot_kernel(node, xp=np):
    def kernel(coding, labels):
        labels = xp.asarray(labels)
        check_labels(node.op, coding, labels)
        return -xp.log(coding[xp.arange(coding.shape[0]), labels])

    return kernel


@registry.register(CrossentropyCategorical1HotGrad)
def crossentropy_1hot_grad_kernel(node, xp=np):
    def kernel(g, coding, labels):
        out = xp.zeros_like(coding)
        rows, labels = xp.arange(coding.shape[0]), xp.asarray(labels)
        out[rows, labels] = -xp.asarray(g) / coding[rows, labels]
        return out

    return kernel
