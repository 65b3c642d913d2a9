"""FBetaScore and F1Score, with Keras 3's arguments and formula (epsilon included)."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .confusion import keras_mask_weight
from .metric import Metric, as_result

_EPSILON = 1e-7


class FBetaScore(Metric):
    """(1 + beta^2) * precision * recall / (beta^2 * precision + recall), per class.

    ``y_true`` and ``y_pred`` are (samples, classes). ``threshold=None`` marks the
    argmax of each row positive, otherwise ``y_pred > threshold``. ``average``: None
    (one score per class), 'micro' (global counts), 'macro' (mean over classes) or
    'weighted' (mean weighted by each class's count of true labels).

    Examples
    --------
    >>> m = FBetaScore(beta=2.0, threshold=0.5, average='macro')
    >>> m.update_state([[1, 0], [0, 1]], [[0.9, 0.2], [0.6, 0.7]]); m.result()
    """

    num_sums = 4  # tp, fp, fn, support

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score",
                 dtype: str | None = None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' or "
                             f"'weighted', got {average!r}")
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{type(self).__name__}: beta must be a python float > 0, got "
                             f"{beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or
                                      not 0.0 < threshold <= 1.0):
            raise ValueError(f"{type(self).__name__}: threshold must be a python float with "
                             f"0 < threshold <= 1, got {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def symbolic_sums(self, y_true, y_pred, sample_weight):
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs (batch_size, "
                             f"output_dim), got ranks y_true {y_true.ndim}, y_pred {y_pred.ndim}")
        dtype = y_pred.dtype
        if self.threshold is None:
            top = T.max(y_pred, axis=-1, keepdims=True)
            pred = T.and_(T.ge(y_pred, top), T.gt(T.abs(y_pred), 1e-9))
        else:
            pred = T.gt(y_pred, self.threshold)
        pred, true = T.cast(pred, dtype), T.cast(y_true, dtype)
        axis = None if self.average == "micro" else 0
        mask = keras_mask_weight(y_pred)

        def weighted_sum(v):
            if sample_weight is not None:
                v = v * T.cast(sample_weight, dtype).dimshuffle(0, "x")
            if mask is not None:
                v = v * mask
            return T.sum(v, axis=axis)

        return [weighted_sum(pred * true), weighted_sum(pred * (1 - true)),
                weighted_sum((1 - pred) * true), weighted_sum(true)]

    def result_from(self, sums):
        if sums is None:
            return 0.0
        tp, fp, fn, support = sums
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            score = np.sum(score * support / (np.sum(support) + _EPSILON))
        elif self.average is not None:
            score = np.mean(score)
        return as_result(score, self.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall (``FBetaScore`` with beta=1).

    Examples
    --------
    >>> m = F1Score(threshold=0.5)
    >>> m.update_state([[1, 1, 1], [1, 0, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6]])
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: str | None = None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
