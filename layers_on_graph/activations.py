"""Activation functions on symbolic tensors, by name as Keras: ``activations.get('relu')``."""
from __future__ import annotations

import math
from typing import Callable

import core.tensor as T


def linear(x):
    """Identity."""
    return x


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """max(x, 0), with Keras's optional slope, cap and threshold."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return T.maximum(x, 0)
    out = T.switch(T.gt(x, threshold), x, negative_slope * (x - threshold))
    return T.minimum(out, max_value) if max_value is not None else out


def relu6(x):
    """min(max(x, 0), 6)."""
    return T.clip(x, 0, 6)


def leaky_relu(x, negative_slope: float = 0.2):
    """x if x > 0 else negative_slope * x (Keras default slope 0.2)."""
    return T.switch(T.gt(x, 0), x, negative_slope * x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return T.sigmoid(x)


def hard_sigmoid(x):
    """clip(x / 6 + 0.5, 0, 1), as Keras 3."""
    return T.clip(x / 6.0 + 0.5, 0, 1)


def hard_silu(x):
    """x * hard_sigmoid(x) (also 'hard_swish'), as Keras 3."""
    return x * hard_sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    return T.tanh(x)


def softplus(x):
    """log(1 + exp(x))."""
    return T.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return x / (1 + abs(x))


def exponential(x):
    """exp(x)."""
    return T.exp(x)


def elu(x, alpha: float = 1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return T.switch(T.gt(x, 0), x, alpha * T.expm1(T.minimum(x, 0)))


def selu(x):
    """Scaled ELU with Keras's constants."""
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * elu(x, alpha)


def silu(x):
    """x * sigmoid(x) (also 'swish')."""
    return x * T.sigmoid(x)


swish = silu


def gelu(x, approximate: bool = False):
    """Gaussian error linear unit; ``approximate`` uses the tanh form (Keras default False)."""
    if approximate:
        c = math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + T.tanh(c * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + T.erf(x / math.sqrt(2)))


def softmax(x, axis: int = -1):
    """Softmax along ``axis``."""
    return T.nnet.softmax(x, axis=axis)


def log_softmax(x, axis: int = -1):
    """Log of softmax along ``axis``."""
    return T.nnet.log_softmax(x, axis=axis)


_BY_NAME: dict[str, Callable] = {f.__name__: f for f in (
    linear, relu, relu6, leaky_relu, sigmoid, hard_sigmoid, hard_silu, tanh, softplus, softsign,
    exponential, elu, selu, silu, gelu, softmax, log_softmax)}
_BY_NAME["swish"] = silu
_BY_NAME["hard_swish"] = hard_silu


def get(identifier) -> Callable:
    """An activation from a name, a callable or None (linear).

    Examples
    --------
    >>> get('relu') is relu
    True
    """
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]
    raise ValueError(f"unknown activation {identifier!r}; known: {sorted(_BY_NAME)}")


def serialize(activation: Callable) -> str:
    """The name of a built-in activation (or its ``__name__``)."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))
