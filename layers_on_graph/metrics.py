"""Metrics: per-sample symbolic functions, averaged over an epoch as Keras's Mean metrics.

A ``Metric`` holds a running weighted mean (``update_state``/``result``/
``reset_state``). In ``fit`` the compiled train step returns, per metric, the
weighted sum of its per-sample values and the sum of weights; the metric adds
them up, so the logged value is the mean over all samples seen in the epoch.
"""
from __future__ import annotations

import numpy as np

import core.tensor as T

from . import backend, losses


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


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the true class (one-hot) ranks in the top ``k`` predictions."""
    true_score = T.sum(y_true * y_pred, axis=-1, keepdims=True)
    rank = T.sum(T.cast(T.gt(y_pred, true_score), "int64"), axis=-1)
    return T.cast(T.lt(rank, k), y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
    """1.0 where the integer label ranks in the top ``k`` predictions."""
    from .utils.symbolic import one_hot

    labels = T.cast(_as_labels(y_true, y_pred), "int64")
    return top_k_categorical_accuracy(one_hot(labels, y_pred), y_pred, k)


class Metric:
    """A running weighted mean of per-sample values ``fn(y_true, y_pred)``.

    Examples
    --------
    >>> m = SparseCategoricalAccuracy(); m.update_state([1, 0], [[0.2, 0.8], [0.3, 0.7]])
    >>> m.result()
    0.5
    """

    fn = None

    def __init__(self, name: str | None = None, dtype: str | None = None, **fn_kwargs):
        from .utils.naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        self.fn_kwargs = fn_kwargs
        self._eager_fn = None
        self.reset_state()

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

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def add_sums(self, total, count) -> None:
        self.total += float(total)
        self.count += float(count)

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch of numpy values."""
        from core import function

        y_pred = np.asarray(y_pred, dtype=self.dtype)
        y_true = np.asarray(y_true)
        y_true = y_true.astype("int64" if self._sparse() else self.dtype)
        sw = (np.ones(len(y_pred), dtype=self.dtype) if sample_weight is None
              else np.asarray(sample_weight, dtype=self.dtype))
        t = T.TensorType(str(y_true.dtype), (None,) * y_true.ndim)("y_true")
        p = T.TensorType(self.dtype, (None,) * y_pred.ndim)("y_pred")
        w = T.TensorType(self.dtype, (None,))("sample_weight")
        total, count = function([t, p, w], list(self.symbolic_sums(t, p, w)))(y_true, y_pred, sw)
        self.add_sums(total, count)

    def _sparse(self) -> bool:
        return type(self).fn in (sparse_categorical_accuracy, sparse_top_k_categorical_accuracy)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self.fn_kwargs}


def _metric_class(name: str, fn, doc: str, **defaults):
    def __init__(self, name: str | None = None, dtype: str | None = None, **kw):
        Metric.__init__(self, name=name, dtype=dtype, **{**defaults, **kw})

    return type(name, (Metric,), {"fn": staticmethod(fn), "__init__": __init__, "__doc__": doc})


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


class _FunctionMetric(Metric):
    """A user's ``fn(y_true, y_pred)`` (or a Loss) as a metric."""

    def __init__(self, fn, name: str | None = None):
        self._fn = fn
        super().__init__(name=name or getattr(fn, "name", None) or getattr(fn, "__name__",
                                                                           "metric"))

    def values(self, y_true, y_pred):
        if isinstance(self._fn, losses.Loss):
            return self._fn.values(y_true, y_pred)
        return self._fn(y_true, y_pred)


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}


def get(identifier, loss: losses.Loss | None = None, output_shape=None) -> Metric:
    """A Metric from a name, an instance or a callable.

    'accuracy'/'acc' pick their variant from the loss as Keras does: sparse
    categorical for sparse crossentropy, binary for binary crossentropy or a single
    output unit, categorical otherwise.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            if isinstance(loss, losses.SparseCategoricalCrossentropy):
                cls = SparseCategoricalAccuracy
            elif isinstance(loss, losses.BinaryCrossentropy) or (
                    output_shape is not None and output_shape[-1] == 1):
                cls = BinaryAccuracy
            else:
                cls = CategoricalAccuracy
            return cls(name=identifier)
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown metric {identifier!r}; known: "
                             f"{sorted(_BY_NAME) + ['accuracy']}")
        return _BY_NAME[identifier](name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        for cls in _BY_NAME.values():
            if cls.fn is identifier:
                return cls()
        return _FunctionMetric(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a metric")
