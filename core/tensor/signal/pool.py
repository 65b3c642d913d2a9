"""2-d pooling over the last two axes, with Theano's semantics and output sizes.

``Pool`` computes the forward pass; ``MaxPoolGrad`` and ``AveragePoolGrad`` (sum and both
averages) are its gradients, ops of their own so that rewrites and backends can target them;
``MaxPoolGradGrad`` gives second derivatives through max pooling. ``MaxPoolReluBiasGrad``
is ``MaxPoolGrad`` with the ReLU mask and bias-gradient sum of the layer before the pool
(written by a rewrite, ``core/rewrite/pool_relu.py``).
"""
from __future__ import annotations

import numpy as np

from ...graph.basic import Apply, Op, Variable
from ...graph.trace import format_trace, user_frame
from ..type import TensorType
from ..variable import as_tensor_variable

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def pool_output_size(size: int | None, ws: int, stride: int, pad: int,
                     ignore_border: bool) -> int | None:
    """Theano's pooled length of an axis of ``size`` (None when not static)."""
    if size is None:
        return None
    size = size + 2 * pad
    if ignore_border:
        return max((size - ws) // stride + 1, 0)
    if stride >= ws:
        return (size - 1) // stride + 1
    return max(0, (size - 1 - ws + stride) // stride) + 1


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"pool_2d: {name} must be a pair of ints, got {value!r}")
    return value


class _PoolBase(Op):
    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws, ignore_border: bool = True, stride=None, pad=(0, 0), mode: str = "max"):
        self.ws = _pair(ws, "ws")
        self.stride = self.ws if stride is None else _pair(stride, "stride")
        self.pad = _pair(pad, "pad")
        self.ignore_border = bool(ignore_border)
        self.mode = mode
        if mode not in MODES:
            raise ValueError(f"pool_2d: mode must be one of {MODES}, got {mode!r}")
        if min(self.ws) < 1 or min(self.stride) < 1 or min(self.pad) < 0:
            raise ValueError(f"pool_2d: ws {self.ws} and stride {self.stride} must be positive and "
                             f"pad {self.pad} non-negative")
        if self.pad != (0, 0) and not self.ignore_border:
            raise ValueError("pool_2d: padding requires ignore_border=True")
        if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
            if self.pad != (0, 0):
                raise ValueError(f"pool_2d: pad {self.pad} must be smaller than ws {self.ws}")

    def _params(self) -> dict:
        return dict(ws=self.ws, ignore_border=self.ignore_border, stride=self.stride,
                    pad=self.pad, mode=self.mode)

    def out_shape(self, shape: tuple) -> tuple:
        rows, cols = (pool_output_size(shape[-2 + i], self.ws[i], self.stride[i], self.pad[i],
                                       self.ignore_border) for i in range(2))
        return tuple(shape[:-2]) + (rows, cols)

    def _input(self, x, name: str) -> Variable:
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"{name}: pools the last two axes, so needs at least 2 dimensions, got "
                            f"{x.type}, at {format_trace(user_frame())}")
        if self.mode != "max" and self.mode != "sum" and np.dtype(x.dtype).kind != "f":
            raise TypeError(f"{name}: mode {self.mode!r} needs a float tensor, got {x.type}")
        return x


class Pool(_PoolBase):
    """Max, sum or average pooling of windows ``ws`` over the last two axes."""

    def make_node(self, x) -> Apply:
        x = self._input(x, "pool_2d")
        return Apply(self, [x], [TensorType(x.dtype, self.out_shape(x.type.shape))()])

    def L_op(self, inputs, outputs, gz):
        (x,), (out,), (g,) = inputs, outputs, gz
        if np.dtype(x.dtype).kind != "f":
            return [None]
        if self.mode == "max":
            return [MaxPoolGrad(**self._params())(x, out, g)]
        return [AveragePoolGrad(**self._params())(x, g)]


class MaxPoolGrad(_PoolBase):
    """Gradient of max pooling: ``gz`` routed to every maximal element of each window."""

    def make_node(self, x, maxout, gz) -> Apply:
        x = self._input(x, "MaxPoolGrad")
        maxout, gz = as_tensor_variable(maxout), as_tensor_variable(gz)
        return Apply(self, [x, maxout, gz], [x.type()])

    def grad(self, inputs, gz):
        # Piecewise constant in x (and maxout); linear in gz.
        from ..math import zeros_like

        x, maxout, _ = inputs
        return [zeros_like(x), zeros_like(maxout), MaxPoolGradGrad(**self._params())(x, maxout, gz[0])]


class MaxPoolGradGrad(_PoolBase):
    """Gradient of ``MaxPoolGrad`` with respect to its ``gz``: ``g`` read at each window's maxima."""

    def make_node(self, x, maxout, g) -> Apply:
        x = self._input(x, "MaxPoolGradGrad")
        maxout = as_tensor_variable(maxout)
        return Apply(self, [x, maxout, as_tensor_variable(g)], [maxout.type()])

    def grad(self, inputs, gz):
        from ..math import zeros_like

        x, maxout, _ = inputs
        return [zeros_like(x), zeros_like(maxout), MaxPoolGrad(**self._params())(x, maxout, gz[0])]


class MaxPoolReluBiasGrad(_PoolBase):
    """``(MaxPoolGrad(x, maxout, gz) * (x > 0), its sum over every axis but 1)`` on 4-d
    ``x`` (N, C, H, W): the gradient through ``relu(conv + bias)`` followed by max pooling,
    and the bias gradient, in one pass instead of three (pool gradient, mask, sum).

    ``x`` is the ReLU's output; at a window's maximum ``x == maxout``, so the masked
    gradient there is ``gz * (maxout > 0)``, and zero elsewhere. Same values as
    ``ReluBiasGrad`` of the ``MaxPoolGrad`` (ties and NaN included), as the rewrite
    ``local_max_pool_relu_bias_grad`` relies on.
    """

    def make_node(self, x, maxout, gz) -> Apply:
        x = self._input(x, "MaxPoolReluBiasGrad")
        maxout, gz = as_tensor_variable(maxout), as_tensor_variable(gz)
        if self.mode != "max" or x.ndim != 4 or np.dtype(x.dtype).kind != "f" or any(
                v.ndim != 4 or v.dtype != x.dtype for v in (maxout, gz)):
            raise TypeError(f"MaxPoolReluBiasGrad: expected mode 'max' and three 4-d float "
                            f"tensors of one dtype, got mode {self.mode!r}, {x.type}, "
                            f"{maxout.type}, {gz.type}, at {format_trace(user_frame())}")
        return Apply(self, [x, maxout, gz], [x.type(), TensorType(x.dtype, x.type.shape[1:2])()])

    def L_op(self, inputs, outputs, gz):
        from ..math import gt, zeros_like

        x, maxout, _ = inputs
        g_pre, g_bias = gz  # (the gradient fills in zeros for an unused output)
        masked = (g_pre + g_bias.dimshuffle("x", 0, "x", "x")) * gt(x, 0)
        return [zeros_like(x), zeros_like(maxout),
                MaxPoolGradGrad(**self._params())(x, maxout, masked)]


class AveragePoolGrad(_PoolBase):
    """Gradient of sum/average pooling: ``gz`` spread evenly over each window."""

    def make_node(self, x, gz) -> Apply:
        x = self._input(x, "AveragePoolGrad")
        return Apply(self, [x, as_tensor_variable(gz)], [x.type()])

    def grad(self, inputs, gz):
        # Linear in the output gradient: its transpose is the pooling itself.
        return [None, Pool(**self._params())(gz[0])]


def pool_2d(input, ws=None, ignore_border: bool = True, stride=None, pad=(0, 0),
            mode: str = "max", ds=None, st=None, padding=None) -> Variable:
    """Pool windows of ``ws`` over the last two axes of ``input`` (Theano's ``pool_2d``).

    Parameters
    ----------
    ws : (rows, cols) window size (``ds`` is its old name)
    ignore_border : when False, partial windows at the bottom/right edge give outputs too
    stride : step between windows, default ``ws`` (``st`` is its old name)
    pad : zero padding (rows, cols) on each side; needs ``ignore_border=True``
    mode : 'max' | 'sum' | 'average_inc_pad' (padding counted) | 'average_exc_pad'

    Examples
    --------
    >>> out = T.signal.pool_2d(x, ws=(2, 2), mode='average_exc_pad')
    """
    ws = ws if ws is not None else ds
    if ws is None:
        raise TypeError("pool_2d: ws (the window size) is required")
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    return Pool(ws, ignore_border, stride, pad, mode)(input)
