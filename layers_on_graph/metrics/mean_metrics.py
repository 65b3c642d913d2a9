"""Mean metrics: per-sample symbolic functions, averaged over an epoch as Keras's.

A ``MeanMetricWrapper`` holds a running weighted mean: its two sums are the
weighted sum of its per-sample values and the sum of weights, so the logged value
is the mean over all samples seen in the epoch.
"""
from __future__ import annotations

import core.tensor as T

from .. import losses
from .metric import Metric


def _as_labels(y_true, y_pred):
    """Integer labels shaped like ``y_pred`` without its class axis ((n, 1) -> (n,))."""
    if y_true.ndim == y_pred.ndim:
        y_true = T.reshape(y_true, T.shape(y_pred)[:-1])
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label."""
    labels = _as_labels(y_true, y_pred)
    return T.cast(T.eq(T.argmax(y_pred, axis=-1), T.cast(labels, "int64")), y_pred.dtype)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true)."""
    return T.cast(T.eq(T.argmax(y_pred, axis=-1), T.argmax(y_true, axis=-1)), y_pred.dtype)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
    """mean((y_pred > threshold) == y_true, axis=-1)."""
    hit = T.eq(T.cast(T.gt(y_pred, threshold), y_pred.dtype), y_true)
    return T.mean(T.cast(hit, y_pred.dtype), axis=-1)


def accuracy(y_true, y_pred):
    """Exact match of values, averaged on the last axis (Keras's plain ``Accuracy``)."""
    return T.mean(T.cast(T.eq(y_true, y_pred), y_pred.dtype), axis=-1)


def _in_top_k(true_class, y_pred, k: int):
    """1.0 where the class marked by the one-hot ``true_class`` ranks in the top ``k``.

    Ties count in the true class's favour, as Keras's ``in_top_k``.
    """
    true_score = T.sum(true_class * y_pred, axis=-1, keepdims=True)
    rank = T.sum(T.cast(T.gt(y_pred, true_score), "int64"), axis=-1)
    return T.cast(T.lt(rank, k), y_pred.dtype)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the true class (argmax of ``y_true``) ranks in the top ``k`` predictions."""
    from ..utils.symbolic import one_hot

    return _in_top_k(one_hot(T.argmax(y_true, axis=-1), y_pred), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the integer label ranks in the top ``k`` predictions."""
    from ..utils.symbolic import one_hot

    labels = T.cast(_as_labels(y_true, y_pred), "int64")
    return _in_top_k(one_hot(labels, y_pred), y_pred, k)


class MeanMetricWrapper(Metric):
    """A running weighted mean of per-sample values ``fn(y_true, y_pred)``.

    Examples
    --------
    >>> m = SparseCategoricalAccuracy(); m.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])
    >>> m.result()
    0.5
    """

    fn = None
    num_sums = 2  # weighted total, total weight

    def __init__(self, name: str | None = None, dtype: str | None = None, **fn_kwargs):
        self.fn_kwargs = fn_kwargs
        super().__init__(name=name, dtype=dtype)
        if self._sparse():
            self.y_true_dtype = "int64"

    def values(self, y_true, y_pred):
        """Per-sample symbolic values."""
        return type(self).fn(y_true, y_pred, **self.fn_kwargs)

    def symbolic_sums(self, y_true, y_pred, sample_weight):
        """(sum of weighted values, sum of weights) for one batch, symbolically."""
        v = self.values(y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None and mask.ndim == v.ndim:
            # Keras: each entry the mask keeps counts once (times its sample's weight)
            w = T.cast(mask, v.dtype)
            if sample_weight is not None:
                w = w * sample_weight.dimshuffle(0, *["x"] * (v.ndim - 1))
            return T.sum(v * w), T.sum(w)
        while v.ndim > 1:
            v = T.mean(v, axis=-1)
        if sample_weight is None:
            return T.sum(v), T.cast(T.shape_i(v, 0), v.dtype)
        return T.sum(v * sample_weight), T.sum(sample_weight)

    def result_from(self, sums):
        if sums is None or not sums[1]:
            return 0.0
        return float(sums[0] / sums[1])

    def _sparse(self) -> bool:
        return type(self).fn in (sparse_categorical_accuracy, sparse_top_k_categorical_accuracy)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self.fn_kwargs}


def _metric_class(name: str, fn, doc: str, **defaults):
    def __init__(self, name: str | None = None, dtype: str | None = None, **kw):
        MeanMetricWrapper.__init__(self, name=name, dtype=dtype, **{**defaults, **kw})

    return type(name, (MeanMetricWrapper,), {"fn": staticmethod(fn), "__init__": __init__, "__doc__": doc})


Accuracy = _metric_class("Accuracy", accuracy, "Exact-match accuracy.")
BinaryAccuracy = _metric_class("BinaryAccuracy", binary_accuracy, "Accuracy of thresholded "
                               "predictions.", threshold=0.5)
CategoricalAccuracy = _metric_class("CategoricalAccuracy", categorical_accuracy,
                                    "Accuracy with one-hot labels.")
SparseCategoricalAccuracy = _metric_class("SparseCategoricalAccuracy",
                                          sparse_categorical_accuracy,
                                          "Accuracy with integer labels.")
TopKCategoricalAccuracy = _metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                        "Top-k accuracy, one-hot labels.", k=5)
SparseTopKCategoricalAccuracy = _metric_class("SparseTopKCategoricalAccuracy",
                                              sparse_top_k_categorical_accuracy,
                                              "Top-k accuracy, integer labels.", k=5)
MeanSquaredError = _metric_class("MeanSquaredError", losses.mean_squared_error, "MSE.")
MeanAbsoluteError = _metric_class("MeanAbsoluteError", losses.mean_absolute_error, "MAE.")


class _FunctionMetric(MeanMetricWrapper):
    """A user's ``fn(y_true, y_pred)`` (or a Loss) as a metric."""

    def __init__(self, fn, name: str | None = None):
        self._fn = fn
        super().__init__(name=name or getattr(fn, "name", None) or getattr(fn, "__name__",
                                                                           "metric"))

    def values(self, y_true, y_pred):
        if isinstance(self._fn, losses.Loss):
            return self._fn.values(y_true, y_pred)
        return self._fn(y_true, y_pred)
