"""``Attention``: Luong-style dot-product (or Bahdanau-style concat) attention, as Keras 3."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .attention_utils import as_bool, causal_mask, matmul
from .dropout import Dropout
from .layer import Layer


class Attention(Layer):
    """``Attention()([query, value])`` or ``([query, value, key])`` on (batch, steps, dim).

    ``score_mode`` 'dot' (``query @ key.T``) or 'concat' (``sum(tanh(query + key))``);
    ``use_scale`` adds a learned scalar ``scale`` (and 'concat' a scalar
    ``concat_score_weight``). Masks: ``mask=[query_mask, value_mask]`` or the inputs'
    Keras masks; ``use_causal_mask=True`` hides later value steps.

    Examples
    --------
    >>> context = Attention()([query, value])
    """

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention: score_mode must be 'dot' or 'concat', got "
                             f"{score_mode!r}")
        self.use_scale, self.score_mode = use_scale, score_mode
        self.dropout, self.seed = float(dropout), seed
        self.supports_masking = True
        self._dropout_layer = Dropout(self.dropout, seed=seed)

    def _check(self, shapes) -> None:
        if not isinstance(shapes, (list, tuple)) or len(shapes) not in (2, 3) or \
                not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{type(self).__name__}: call it on a list [query, value] or "
                             f"[query, value, key], got {shapes!r}")

    def build(self, input_shape) -> None:
        self._check(input_shape)
        self.scale = (self.add_weight(shape=(), initializer="ones", name="scale")
                      if self.use_scale else None)
        self.concat_score_weight = (self.add_weight(shape=(), initializer="ones",
                                                    name="concat_score_weight")
                                    if self.score_mode == "concat" else None)
        self.built = True

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = matmul(query, key.dimshuffle(0, 2, 1))
            return scores * self.scale if self.scale is not None else scores
        summed = query.dimshuffle(0, 1, "x", 2) + key.dimshuffle(0, "x", 1, 2)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * T.sum(T.tanh(summed), axis=-1)

    def call(self, inputs, mask=None, training=None, return_attention_scores: bool = False,
             use_causal_mask: bool = False):
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._scores(query, key)
        score_mask = as_bool(v_mask).dimshuffle(0, "x", 1) if v_mask is not None else None
        if use_causal_mask:
            causal = causal_mask(T.shape_i(scores, 1), T.shape_i(scores, 2))
            score_mask = causal if score_mask is None else T.and_(score_mask, causal)
        if score_mask is not None:  # Keras subtracts a large number where masked
            big = np.asarray(65504.0 if scores.dtype == "float16" else 1e9, dtype=scores.dtype)
            scores = T.switch(score_mask, scores, scores - big)
        weights = T.nnet.softmax(scores, axis=-1)
        out = matmul(self._dropout_layer(weights, training=bool(training)), value)
        if q_mask is not None:
            out = T.switch(as_bool(q_mask).dimshuffle(0, 1, "x"), out,
                           np.asarray(0, dtype=out.dtype))
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        if not mask or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}
