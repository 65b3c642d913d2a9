"""Metrics from confusion-matrix counts: TruePositives ... FalseNegatives, Precision,
Recall and AUC, with Keras 3's arguments, defaults and formulas."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .confusion import confusion_counts, evenly_distributed, parse_thresholds
from .metric import Metric, as_result, divide_no_nan

_EPSILON = 1e-7  # Keras's backend.epsilon()


class _ConditionCount(Metric):
    """The weighted count of one confusion-matrix cell, per threshold (default 0.5)."""

    cell = ""
    num_sums = 1

    def __init__(self, thresholds=None, name: str | None = None, dtype: str | None = None):
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def symbolic_sums(self, y_true, y_pred, sample_weight):
        return confusion_counts(y_true, y_pred, sample_weight, self.thresholds,
                                which=(self.cell,))

    def result_from(self, sums):
        value = np.zeros(len(self.thresholds)) if sums is None else sums[0]
        return as_result(value[0] if len(self.thresholds) == 1 else value, self.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """Weighted count of positive labels predicted positive (``y_pred > threshold``)."""
    cell = "tp"


class FalsePositives(_ConditionCount):
    """Weighted count of negative labels predicted positive."""
    cell = "fp"


class TrueNegatives(_ConditionCount):
    """Weighted count of negative labels predicted negative."""
    cell = "tn"


class FalseNegatives(_ConditionCount):
    """Weighted count of positive labels predicted negative."""
    cell = "fn"


class _PrecisionRecall(Metric):
    """tp / (tp + other) per threshold, over the top-k predictions or one class if asked."""

    other = ""
    num_sums = 2  # tp, fp or fn

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype: str | None = None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        # with top_k every kept prediction counts as positive, as Keras
        default = 0.5 if top_k is None else -1e10
        self.thresholds = parse_thresholds(thresholds, default, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def symbolic_sums(self, y_true, y_pred, sample_weight):
        return confusion_counts(y_true, y_pred, sample_weight, self.thresholds,
                                top_k=self.top_k, class_id=self.class_id,
                                clip=evenly_distributed(self.thresholds),
                                which=("tp", self.other))

    def result_from(self, sums):
        if sums is None:
            value = np.zeros(len(self.thresholds))
        else:
            tp, other = sums
            value = divide_no_nan(tp, tp + other)
        return as_result(value[0] if len(self.thresholds) == 1 else value, self.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp): the fraction of positive predictions that are right.

    Examples
    --------
    >>> m = Precision(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
    0.6666...
    """
    other = "fp"


class Recall(_PrecisionRecall):
    """tp / (tp + fn): the fraction of positive labels predicted positive.

    Examples
    --------
    >>> m = Recall(); m.update_state([0, 1, 1, 1], [1, 0, 1, 1]); m.result()
    0.6666...
    """
    other = "fn"


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds``
    thresholds (a Riemann sum, as Keras: it approximates scikit-learn's exact area).

    ``summation_method``: 'interpolation' (trapezoids; for PR the Davis & Goadrich
    interpolation), 'minoring' or 'majoring'. ``multi_label=True`` keeps one curve per
    label (the last axis) and averages the areas (weighted by ``label_weights``).

    Examples
    --------
    >>> m = AUC(); m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); m.result()
    0.75
    """

    num_sums = 4  # tp, fp, tn, fn

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: str | None = None, thresholds=None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights=None, from_logits: bool = False):
        curve = str(getattr(curve, "value", curve))
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        method = str(getattr(summation_method, "value", summation_method)).lower()
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5, "AUC"))
            self._init_from_thresholds = True
            self._evenly = evenly_distributed([0.0] + inner + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got "
                                 f"{num_thresholds}")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._init_from_thresholds = False
            self._evenly = True
        if num_labels and not multi_label:
            raise ValueError("AUC: num_labels is needed only when multi_label is True")
        self.num_thresholds = len(inner) + 2
        self._thresholds = [0.0 - _EPSILON] + inner + [1.0 + _EPSILON]
        self.curve, self.summation_method = curve.upper(), method
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights,
                                                                           dtype="float64")
        self.from_logits = from_logits
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self) -> list[float]:
        """The thresholds, with -epsilon and 1 + epsilon at the ends."""
        return list(self._thresholds)

    def symbolic_sums(self, y_true, y_pred, sample_weight):
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"AUC: y_pred must have rank 2 when multi_label=True, got rank "
                             f"{y_pred.ndim}")
        if self.from_logits:
            y_pred = T.sigmoid(y_pred)
        return confusion_counts(
            y_true, y_pred, sample_weight, self._thresholds, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, clip=self._evenly)

    def result_from(self, sums):
        if sums is None:
            return 0.0
        tp, fp, tn, fn = sums
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average(self._interpolated_pr_areas(tp, fp, fn))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    @staticmethod
    def _interpolated_pr_areas(tp, fp, fn):
        """Per-interval PR areas with precision interpolated as Davis & Goadrich (2006):
        tp and the predicted positives p vary linearly between thresholds."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                             np.maximum(tp[1:] + fn[1:], 0))

    def _average(self, terms):
        """The area: a sum over intervals, averaged over labels with multi_label."""
        if not self.multi_label:
            return as_result(np.sum(terms), self.dtype)
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return as_result(np.mean(by_label), self.dtype)
        return as_result(divide_no_nan(np.sum(by_label * self.label_weights),
                                       np.sum(self.label_weights)), self.dtype)

    def get_config(self) -> dict:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist(), "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self._thresholds[1:-1]
        return config
