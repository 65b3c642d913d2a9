"""Softmax-family and crossentropy kernels."""
from __future__ import annotations

import numpy as np

from core.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              LogSoftmax, Softmax, SoftmaxGrad)

from . import registry


@registry.register(Softmax)
def softmax_kernel(node):
    axis = node.op.axis

    def kernel(x):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        e /= np.sum(e, axis=axis, keepdims=True)
        return e

    return kernel


@registry.register(SoftmaxGrad)
def softmax_grad_kernel(node):
    axis = node.op.axis
    return lambda dy, sm: sm * (dy - np.sum(dy * sm, axis=axis, keepdims=True))


@registry.register(LogSoftmax)
def log_softmax_kernel(node):
    axis = node.op.axis

    def kernel(x):
        shifted = x - np.max(x, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    return kernel


def check_labels(op, coding, labels, rows: str = "probabilities") -> None:
    """Integer labels must be one per row of ``coding`` and index its columns."""
    if labels.shape[0] != coding.shape[0]:
        raise ValueError(f"{op}: {coding.shape[0]} rows of {rows} but {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() >= coding.shape[1]):
        raise ValueError(f"{op}: labels must lie in [0, {coding.shape[1]}), got values from "
                         f"{labels.min()} to {labels.max()}")


@registry.register(CrossentropyCategorical1Hot)
def crossentropy_1hot_kernel(node):
    def kernel(coding, labels):
        check_labels(node.op, coding, labels)
        return -np.log(coding[np.arange(coding.shape[0]), labels])

    return kernel


@registry.register(CrossentropyCategorical1HotGrad)
def crossentropy_1hot_grad_kernel(node):
    def kernel(g, coding, labels):
        out = np.zeros_like(coding)
        rows = np.arange(coding.shape[0])
        out[rows, labels] = -g / coding[rows, labels]
        return out

    return kernel
