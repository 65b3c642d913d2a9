"""Neural-network ops: activations, softmax family, crossentropies."""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.trace import format_trace, user_frame
from . import math as tm
from .type import TensorType
from .variable import as_tensor_variable

sigmoid = tm.sigmoid
softplus = tm.softplus


def relu(x, alpha: float = 0.0):
    """Rectified linear unit; ``alpha`` is the slope for negative inputs (leaky ReLU)."""
    x = as_tensor_variable(x)
    if alpha == 0:
        return tm.maximum(x, 0)
    return tm.switch(tm.gt(x, 0), x, alpha * x)


def _axis(axis: int, ndim: int, name: str) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} out of range for {ndim} dims, at "
                         f"{format_trace(user_frame())}")
    return axis % ndim


class _AlongAxis(Op):
    """An op over one axis of a float tensor, giving a tensor of the same type."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = axis

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        if np.dtype(x.dtype).kind != "f":
            x = tm.cast(x, "float64")
        return Apply(self, [x], [x.type()])


class Softmax(_AlongAxis):
    """exp(x) / sum(exp(x)) along ``axis``, computed stably (max subtracted)."""

    def L_op(self, inputs, outputs, gz):
        return [SoftmaxGrad(self.axis)(gz[0], outputs[0])]


class SoftmaxGrad(_AlongAxis):
    """Gradient of softmax: ``sm * (dy - sum(dy * sm, axis))``."""

    def make_node(self, dy, sm) -> Apply:
        dy, sm = as_tensor_variable(dy), as_tensor_variable(sm)
        return Apply(self, [dy, sm], [sm.type()])

    def grad(self, inputs, gz):
        dy, sm = inputs
        g = gz[0]
        inner = tm.sum(dy * sm, axis=self.axis, keepdims=True)
        g_sum = tm.sum(g * sm, axis=self.axis, keepdims=True)
        g_dy = sm * (g - g_sum)
        g_sm = g * (dy - inner) - dy * g_sum
        return [g_dy, g_sm]


class LogSoftmax(_AlongAxis):
    """x - logsumexp(x) along ``axis``, computed stably."""

    def L_op(self, inputs, outputs, gz):
        g = gz[0]
        sm = tm.exp(outputs[0])
        return [g - sm * tm.sum(g, axis=self.axis, keepdims=True)]


def softmax(x, axis: int = -1):
    """Softmax along ``axis`` (default: the last)."""
    x = as_tensor_variable(x)
    return Softmax(_axis(axis, x.ndim, "softmax"))(x)


def log_softmax(x, axis: int = -1):
    """Log of softmax along ``axis``, without overflow."""
    x = as_tensor_variable(x)
    return LogSoftmax(_axis(axis, x.ndim, "log_softmax"))(x)


def binary_crossentropy(output, target):
    """Elementwise ``-(t*log(o) + (1-t)*log(1-o))`` for probabilities ``output``."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * tm.log(output) + (1 - target) * tm.log(1 - output))


def sigmoid_binary_crossentropy(logits, target):
    """Binary crossentropy from logits, stable: ``softplus(x) - t*x``."""
    logits, target = as_tensor_variable(logits), as_tensor_variable(target)
    return tm.softplus(logits) - target * logits


class CrossentropyCategorical1Hot(Op):
    """``-log(coding_dist[i, labels[i]])`` for a matrix of probabilities and int labels."""

    def make_node(self, coding, labels) -> Apply:
        coding, labels = as_tensor_variable(coding), as_tensor_variable(labels)
        if coding.ndim != 2 or labels.ndim != 1 or np.dtype(labels.dtype).kind not in "iu":
            raise TypeError(
                f"categorical_crossentropy: expected a matrix of probabilities and an integer "
                f"vector of labels, got {coding.type} and {labels.type}")
        n_c, n_l = coding.type.shape[0], labels.type.shape[0]
        if n_c is not None and n_l is not None and n_c != n_l:
            raise ValueError(f"categorical_crossentropy: {n_c} rows of probabilities but {n_l} labels")
        return Apply(self, [coding, labels], [TensorType(coding.dtype, (coding.type.shape[0],))()])

    def grad(self, inputs, gz):
        coding, labels = inputs
        return [CrossentropyCategorical1HotGrad()(gz[0], coding, labels), None]


class CrossentropyCategorical1HotGrad(Op):
    """Gradient of the above: ``-g[i] / p[i, y_i]`` at ``[i, y_i]``, zero elsewhere."""

    def make_node(self, g, coding, labels) -> Apply:
        return Apply(self, [as_tensor_variable(g), coding, labels], [coding.type()])


def categorical_crossentropy(coding_dist, true_dist):
    """Crossentropy per row: ``true_dist`` is one-hot (a matrix) or integer labels (a vector)."""
    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -tm.sum(true_dist * tm.log(coding_dist), axis=-1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return CrossentropyCategorical1Hot()(coding_dist, true_dist)
    raise TypeError(f"categorical_crossentropy: true_dist {true_dist.type} must be one-hot like "
                    f"{coding_dist.type} or integer labels with one dimension fewer")


from .conv import conv2d  # noqa: E402,F401  (T.nnet.conv2d)
