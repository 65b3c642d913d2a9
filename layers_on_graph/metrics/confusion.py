"""Weighted confusion-matrix counts per threshold, symbolically (Keras's ``metrics_utils``).

A prediction ``p`` is positive at threshold ``t`` when ``p > t``; a label is positive
when it is not 0. Counts are weighted by the sample weight (and label weights).
"""
from __future__ import annotations

import numpy as np

import core.tensor as T

NEG_INF = -1e10  # what Keras gives to the predictions top_k filters out


def parse_thresholds(thresholds, default: float, owner: str) -> list[float]:
    """``thresholds`` as a list of floats in [0, 1] (``default`` when None)."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [
        thresholds]
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"{owner}: threshold values must be in [0, 1], got {bad}")
    return [float(t) for t in values]


def evenly_distributed(thresholds) -> bool:
    """True for 3+ thresholds spaced as ``arange(n) / (n - 1)`` (Keras then clips to [0, 1])."""
    n = len(thresholds)
    if n < 3:
        return False
    return bool(np.allclose(thresholds, np.arange(n, dtype="float32") / (n - 1), atol=1e-7))


def filter_top_k(y_pred, k: int):
    """``y_pred`` with all but the ``k`` largest values of the last axis set to NEG_INF.

    Values tied with the k-th largest are all kept.
    """
    nd = y_pred.ndim
    others = y_pred.dimshuffle(*range(nd - 1), "x", nd - 1)  # [..., 1, j]
    own = y_pred.dimshuffle(*range(nd), "x")                 # [..., c, 1]
    rank = T.sum(T.cast(T.gt(others, own), "int64"), axis=-1)
    return T.switch(T.lt(rank, k), y_pred, T.cast(NEG_INF, y_pred.dtype))


def keras_mask_weight(y_pred):
    """The mask Keras layers put on ``y_pred`` (0 at padded steps), shaped to broadcast
    against it, or None. Keras weights every metric by it."""
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is None or mask.ndim > y_pred.ndim:
        return None
    return T.cast(mask, y_pred.dtype).dimshuffle(*range(mask.ndim),
                                                 *["x"] * (y_pred.ndim - mask.ndim))


def confusion_counts(y_true, y_pred, sample_weight, thresholds, *, top_k=None, class_id=None,
                     multi_label: bool = False, label_weights=None, clip: bool = False,
                     which=("tp", "fp", "tn", "fn")) -> list:
    """The weighted counts named in ``which``, each of shape (thresholds,) or, with
    ``multi_label``, (thresholds, labels).

    ``sample_weight`` is (batch,) or None; ``label_weights`` a list (one per class).
    """
    dtype = y_pred.dtype
    y_true = T.cast(y_true, dtype)
    weight = T.ones_like(y_pred)
    mask = keras_mask_weight(y_pred)
    if mask is not None:
        weight = weight * mask
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"class_id needs y_pred of shape (samples, classes), got rank "
                             f"{y_pred.ndim}")
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        weight = weight[..., class_id]
    if clip:
        y_pred = T.clip(y_pred, 0.0, 1.0)
    if sample_weight is not None:
        weight = weight * T.cast(sample_weight, dtype).dimshuffle(0, *["x"] * (y_pred.ndim - 1))
    if label_weights is not None:
        lw = T.constant(np.asarray(label_weights, dtype=dtype))
        weight = weight * lw.dimshuffle(*["x"] * (y_pred.ndim - 1), 0)
    thr = T.constant(np.asarray(thresholds, dtype=dtype))
    true_w = T.cast(T.neq(y_true, 0), dtype) * weight
    false_w = weight - true_w
    if multi_label:  # (thresholds, batch, labels), summed over the batch
        pos = T.cast(T.gt(y_pred.dimshuffle("x", 0, 1), thr.dimshuffle(0, "x", "x")), dtype)
        counts = {"tp": T.sum(pos * true_w.dimshuffle("x", 0, 1), axis=1),
                  "fp": T.sum(pos * false_w.dimshuffle("x", 0, 1), axis=1)}
        true_total, false_total = T.sum(true_w, axis=0), T.sum(false_w, axis=0)
    else:  # (thresholds, every value): weighted sums over the values are products
        pos = T.cast(T.gt(T.flatten(y_pred).dimshuffle("x", 0), thr.dimshuffle(0, "x")), dtype)
        true_w, false_w = T.flatten(true_w), T.flatten(false_w)
        counts = {"tp": T.dot(pos, true_w), "fp": T.dot(pos, false_w)}
        true_total, false_total = T.sum(true_w), T.sum(false_w)
    if "fn" in which:
        counts["fn"] = true_total - counts["tp"]
    if "tn" in which:
        counts["tn"] = false_total - counts["fp"]
    return [counts[name] for name in which]
