"""Metrics as ``keras.metrics``: stateful objects (``update_state``, ``result``,
``reset_state``) usable eagerly on numpy arrays and in ``compile(metrics=[...])``."""
from __future__ import annotations

from .. import losses
from .confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                                TrueNegatives, TruePositives)
from .f_score_metrics import F1Score, FBetaScore
from .mean_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, MeanAbsoluteError,
                           MeanMetricWrapper, MeanSquaredError, SparseCategoricalAccuracy,
                           SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
                           _FunctionMetric, accuracy, binary_accuracy, categorical_accuracy,
                           sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                           top_k_categorical_accuracy)
from .metric import Metric

__all__ = ["Metric", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "AUC",
           "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives",
           "FalseNegatives", "F1Score", "FBetaScore", "accuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "get"]

_CLASSES = [BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            MeanAbsoluteError, AUC, Precision, Recall, TruePositives, FalsePositives,
            TrueNegatives, FalseNegatives, F1Score, FBetaScore]
# Keras 3 looks metrics up by class name and by its snake_case
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "auc": AUC, "precision": Precision, "recall": Recall, "true_positives": TruePositives,
    "false_positives": FalsePositives, "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives, "f1_score": F1Score, "fbeta_score": FBetaScore,
    "f_beta_score": FBetaScore,
})


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
        cls = _BY_NAME[identifier]
        # a snake_case name ('mse', 'auc') names the metric; a class name gives its default
        return cls(name=identifier) if identifier[:1].islower() else cls()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        for cls in _BY_NAME.values():
            if getattr(cls, "fn", None) is identifier:
                return cls()
        return _FunctionMetric(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a metric")
