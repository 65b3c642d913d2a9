"""``MultiHeadAttention``: Keras 3's layer, with its weight layout (EinsumDense kernels)."""
from __future__ import annotations

import math

import numpy as np

import core.tensor as T

from .. import initializers, regularizers
from .attention_utils import any_symbolic, as_bool, call_eagerly, causal_mask, matmul
from .dropout import Dropout
from .layer import Layer, static_shape
from .softmax import Softmax


class _Projection(Layer):
    """One of MultiHeadAttention's EinsumDense sublayers: a kernel contracted with the
    inputs' last axis (query/key/value: (dim, heads, size); output: (heads, size, dim))."""

    def __init__(self, kernel_shape, bias_shape, owner, **kwargs):
        super().__init__(**kwargs)
        self.kernel = self.add_weight(shape=kernel_shape, initializer=owner.kernel_initializer,
                                      regularizer=owner.kernel_regularizer, name="kernel")
        self.bias = (self.add_weight(shape=bias_shape, initializer=owner.bias_initializer,
                                     regularizer=owner.bias_regularizer, name="bias")
                     if owner.use_bias else None)
        self.built = True

    def project(self, x, contracted: int):
        """Contract the last ``contracted`` axes of ``x`` with the kernel's first ones."""
        axes = [list(range(x.ndim - contracted, x.ndim)), list(range(contracted))]
        out = T.tensordot(x, self.kernel, axes=axes)
        return out + self.bias if self.bias is not None else out


class MultiHeadAttention(Layer):
    """Scaled dot-product attention with ``num_heads`` heads, as Keras 3.

    ``layer(query, value, key=None, attention_mask=None, use_causal_mask=False,
    return_attention_scores=False)`` on (batch, steps, features) inputs. Weights, in Keras's
    order and layout: query/key/value kernels (dim, heads, key_dim or value_dim) and biases
    (heads, size), then the output kernel (heads, value_dim, out_dim) and bias (out_dim,).
    Keras masks on query/value/key (e.g. from ``Embedding(mask_zero=True)``) are applied.

    Examples
    --------
    >>> out = MultiHeadAttention(num_heads=2, key_dim=16)(x, x, use_causal_mask=True)
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 dropout: float = 0.0, use_bias: bool = True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed: int | None = None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if kernel_constraint is not None or bias_constraint is not None:
            raise ValueError("MultiHeadAttention: weight constraints are not supported")
        if attention_axes is not None:
            axes = [attention_axes] if isinstance(attention_axes, int) else list(attention_axes)
            if axes not in ([1], [-2]):
                raise ValueError(f"MultiHeadAttention: attention_axes={attention_axes!r} is not "
                                 f"supported (only attention over axis 1 of rank-3 inputs)")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout, self.use_bias, self.seed = float(dropout), use_bias, seed
        self.output_shape_arg = output_shape
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.supports_masking = True
        self._softmax = Softmax(axis=-1)
        self._dropout_layer = Dropout(self.dropout, seed=seed)

    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise TypeError(f"{self.name}: call it as layer(query, value, key=None, ...)")
        if not any_symbolic(query, value, key):
            return call_eagerly(self, (query, value), {"key": key, **kwargs})
        if not self.built:
            self._build_for(static_shape(query), static_shape(value),
                            static_shape(key) if key is not None else None)
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value, **kwargs)

    def build(self, query_shape, value_shape=None, key_shape=None) -> None:
        self._build_for(query_shape, value_shape or query_shape, key_shape)

    def _build_for(self, query_shape, value_shape, key_shape) -> None:
        key_shape = key_shape if key_shape is not None else value_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"{self.name}: {what} must be (batch, steps, features) with "
                                 f"known features, got shape {tuple(shape)}")
        heads = self.num_heads
        out_dim = self.output_shape_arg if self.output_shape_arg is not None else query_shape[-1]
        out_dim = out_dim[-1] if isinstance(out_dim, (list, tuple)) else int(out_dim)
        if isinstance(self.output_shape_arg, (list, tuple)) and len(self.output_shape_arg) != 1:
            raise ValueError(f"{self.name}: output_shape {self.output_shape_arg} is not "
                             f"supported (only one axis)")
        self._out_dim = out_dim
        base = self.name
        self.query_dense = _Projection((query_shape[-1], heads, self.key_dim),
                                       (heads, self.key_dim), self, name=f"{base}/query")
        self.key_dense = _Projection((key_shape[-1], heads, self.key_dim),
                                     (heads, self.key_dim), self, name=f"{base}/key")
        self.value_dense = _Projection((value_shape[-1], heads, self.value_dim),
                                       (heads, self.value_dim), self, name=f"{base}/value")
        self.output_dense = _Projection((heads, self.value_dim, out_dim), (out_dim,), self,
                                        name=f"{base}/attention_output")
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores: bool = False, training=None,
             use_causal_mask: bool = False):
        key_given = key is not None
        key = key if key_given else value
        query_mask = query_mask if query_mask is not None else getattr(query, "_keras_mask", None)
        value_mask = value_mask if value_mask is not None else getattr(value, "_keras_mask", None)
        if key_mask is None and key_given and key is not value:
            key_mask = getattr(key, "_keras_mask", None)
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        q = self.query_dense.project(query, 1) * np.asarray(1.0 / math.sqrt(self.key_dim),
                                                            dtype=query.dtype)
        k = self.key_dense.project(key, 1)
        v = self.value_dense.project(value, 1)
        # (batch, heads, q_steps, v_steps)
        scores = matmul(q.dimshuffle(0, 2, 1, 3), k.dimshuffle(0, 2, 3, 1))
        if mask is not None:
            mask = mask.dimshuffle(0, "x", 1, 2)  # the same mask for every head
        probs = self._softmax(scores, mask=mask) if mask is not None else self._softmax(scores)
        dropped = self._dropout_layer(probs, training=bool(training))
        context = matmul(dropped, v.dimshuffle(0, 2, 1, 3)).dimshuffle(0, 2, 1, 3)
        out = self.output_dense.project(context, 2)
        return (out, probs) if return_attention_scores else out

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        """Keras's combined (batch, q_steps, v_steps) boolean mask, or None."""
        parts = []
        if query_mask is not None:
            parts.append(as_bool(query_mask).dimshuffle(0, 1, "x"))
        for m in (value_mask, key_mask):
            if m is not None:
                parts.append(as_bool(m).dimshuffle(0, "x", 1))
        if use_causal_mask:
            parts.append(causal_mask(T.shape_i(query, 1), T.shape_i(value, 1)))
        if attention_mask is not None:
            parts.append(as_bool(attention_mask))
        if not parts:
            return None
        mask = parts[0]
        for p in parts[1:]:
            mask = T.and_(mask, p)
        return mask

    def compute_output_shape(self, query_shape):
        if isinstance(query_shape, (list, tuple)) and query_shape and \
                isinstance(query_shape[0], (list, tuple)):
            query_shape = query_shape[0]
        return tuple(query_shape[:-1]) + (self._out_dim,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self.output_shape_arg, "attention_axes": self.attention_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer, "seed": self.seed}
