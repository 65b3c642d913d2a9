"""The max-pool gradient, the ReLU mask and the bias-gradient sum as one op.

A Keras ``Conv2D(activation='relu')`` followed by ``MaxPooling2D`` differentiates to
``ReluBiasGrad(x', MaxPoolGrad(x, maxout, gz)')``, ``'`` being the channels-last
dimshuffle ``(0, 2, 3, 1)`` and ``x`` the ReLU's output: three passes over the
activations (pool gradient, mask, sum) that ``MaxPoolReluBiasGrad`` makes one.
"""
from __future__ import annotations

from ..tensor.conv import ReluBiasGrad
from ..tensor.elemwise import DimShuffle
from ..tensor.signal.pool import MaxPoolGrad, MaxPoolReluBiasGrad
from .engine import register
from .utils import single_client

CHANNELS_LAST = (0, 2, 3, 1)


def _channels_last_of(var):
    """``v`` when ``var`` is ``v.dimshuffle(0, 2, 3, 1)``, else None."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, DimShuffle):
        return None
    return owner.inputs[0] if owner.op.new_order == CHANNELS_LAST else None


@register("specialize", ReluBiasGrad, tags=("pool_relu",))
def local_max_pool_relu_bias_grad(fgraph, node):
    """ReluBiasGrad(x', MaxPoolGrad(x, m, gz)') -> (MaxPoolReluBiasGrad(x, m, gz)[0]',
    MaxPoolReluBiasGrad(x, m, gz)[1]), when nothing else reads the pool gradient."""
    out, g = node.inputs
    x, pooled = _channels_last_of(out), _channels_last_of(g)
    if x is None or pooled is None or pooled.owner is None:
        return None
    grad = pooled.owner
    if (not isinstance(grad.op, MaxPoolGrad) or grad.op.mode != "max" or grad.inputs[0] is not x
            or any(v.dtype != x.dtype for v in grad.inputs)
            or not (single_client(fgraph, pooled) and single_client(fgraph, g))):
        return None
    pre, bias = MaxPoolReluBiasGrad(**grad.op._params())(*grad.inputs)
    return [pre.dimshuffle(*CHANNELS_LAST), bias]
