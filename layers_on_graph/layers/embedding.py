"""``Embedding``: map integer indices to rows of a trainable matrix."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .. import initializers, regularizers
from .layer import Layer


class Embedding(Layer):
    """(batch, ...) integer ids -> (batch, ..., output_dim); weight ``embeddings`` (in, out).

    Keras's default initializer is 'uniform' (-0.05, 0.05).
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive, got "
                             f"{input_dim} and {output_dim}")
        if embeddings_constraint is not None:
            raise ValueError("Embedding: constraints are not supported")
        self.mask_zero = bool(mask_zero)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        if embeddings_initializer == "uniform":
            embeddings_initializer = initializers.RandomUniform()
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          name="embeddings")
        self.built = True

    def _autocast(self, x):
        return x  # indices keep their dtype

    def call(self, inputs):
        ids = inputs if np.dtype(inputs.dtype).kind in "iu" else T.cast(inputs, "int64")
        return self.embeddings[ids]

    def compute_mask(self, inputs, mask=None):
        """With ``mask_zero``, index 0 is padding: the mask is ``inputs != 0``."""
        return T.neq(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero}
