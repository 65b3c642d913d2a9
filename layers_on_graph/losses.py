"""Losses with Keras 3's formulas: per-sample functions and ``Loss`` classes.

The functions take ``(y_true, y_pred)`` symbolic tensors and return one value
per sample (the last axis averaged where Keras does); the classes add
``from_logits``/options and the default 'sum_over_batch_size' reduction.
Probabilities are clipped to ``[epsilon, 1 - epsilon]`` (1e-7) as Keras does.
"""
from __future__ import annotations

import core.tensor as T
from core.tensor.rewritten_ops import CrossentropySoftmax1Hot

from . import backend


def _eps(dtype: str) -> float:
    return backend.epsilon()


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred) ** 2, axis=-1)."""
    return T.mean(T.sqr(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1)."""
    return T.mean(abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon), axis=-1)."""
    diff = abs(y_true - y_pred) / T.maximum(abs(y_true), _eps(y_pred.dtype))
    return 100.0 * T.mean(diff, axis=-1)


def huber(y_true, y_pred, delta: float = 1.0):
    """Quadratic below ``delta``, linear above, averaged on the last axis."""
    err = abs(y_pred - y_true)
    quad = T.minimum(err, delta)
    return T.mean(0.5 * T.sqr(quad) + delta * (err - quad), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0):
    """mean(-(t log p + (1 - t) log(1 - p)), axis=-1), ``p`` clipped to [eps, 1 - eps]."""
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = T.nnet.sigmoid_binary_crossentropy(y_pred, y_true)
    else:
        eps = _eps(y_pred.dtype)
        p = T.clip(y_pred, eps, 1.0 - eps)
        per = -(y_true * T.log(p) + (1.0 - y_true) * T.log(1.0 - p))
    return T.mean(per, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1):
    """-sum(y_true * log(p), axis) with one-hot ``y_true``; ``p`` renormalized and clipped."""
    if label_smoothing:
        n = T.cast(T.shape_i(y_pred, y_pred.ndim - 1), y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    return -T.sum(y_true * _log_probabilities(y_pred, from_logits, axis), axis=axis)


def _log_probabilities(y_pred, from_logits: bool, axis: int = -1):
    if from_logits:
        return T.nnet.log_softmax(y_pred, axis=axis)
    eps = _eps(y_pred.dtype)
    p = y_pred / T.sum(y_pred, axis=axis, keepdims=True)
    return T.log(T.clip(p, eps, 1.0 - eps))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class=None, axis: int = -1):
    """-log(p[label]) with integer labels ``y_true`` (one dimension fewer than ``y_pred``)."""
    if ignore_class is not None:
        raise ValueError("sparse_categorical_crossentropy: ignore_class is not supported")
    if y_pred.ndim < 2 or axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"sparse_categorical_crossentropy: expected predictions of shape "
                         f"(batch, ..., classes) with the classes last, got {y_pred.ndim} "
                         f"dimension(s) and axis={axis}")
    lead = None
    if y_pred.ndim > 2:  # a sequence (batch, steps, classes): one row per step
        lead = T.shape(y_pred)[:-1]
        y_pred = T.reshape(y_pred, (-1, T.shape(y_pred)[-1]))
    if y_true.ndim >= 2:
        y_true = T.flatten(y_true)
    labels = y_true if y_true.dtype in ("int32", "int64") else T.cast(y_true, "int64")
    if from_logits:  # Keras: log_softmax, no clipping (finite at any logits)
        values = CrossentropySoftmax1Hot()(y_pred, labels)
    else:
        probs = y_pred / T.sum(y_pred, axis=-1, keepdims=True)
        eps = _eps(y_pred.dtype)
        values = T.nnet.categorical_crossentropy(T.clip(probs, eps, 1.0 - eps), labels)
    return values if lead is None else T.reshape(values, lead)


def kl_divergence(y_true, y_pred):
    """sum(t * log(t / p), axis=-1) with both clipped to [eps, 1]."""
    eps = _eps(y_pred.dtype)
    t, p = T.clip(y_true, eps, 1.0), T.clip(y_pred, eps, 1.0)
    return T.sum(t * T.log(t / p), axis=-1)


def hinge(y_true, y_pred):
    """mean(max(1 - t * p, 0), axis=-1) with labels in {-1, 1} (0/1 converted)."""
    t = T.switch(T.eq(y_true, 0), -1.0, y_true)
    return T.mean(T.maximum(1.0 - t * y_pred, 0.0), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
kld = KLD = kl_divergence


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> scalar.

    Subclasses set ``fn`` (per-sample values); the reduction is Keras's
    'sum_over_batch_size': ``sum(values * sample_weight) / batch_size``.
    """

    fn = None

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None,
                 **fn_kwargs):
        if reduction not in ("sum_over_batch_size", "sum", "none", "mean"):
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}")
        self.reduction = reduction
        self.name = name or _snake(type(self).__name__)
        self.fn_kwargs = fn_kwargs

    def values(self, y_true, y_pred):
        """Per-sample loss values."""
        return type(self).fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        from .layers.layer import is_symbolic

        if not is_symbolic(y_pred):
            return _eager(self, y_true, y_pred, sample_weight)
        values = self.values(y_true, y_pred)
        if sample_weight is not None:
            if values.ndim > 1 and sample_weight.ndim == 1:  # per-sample weights, per-step values
                sample_weight = sample_weight.dimshuffle(0, *["x"] * (values.ndim - 1))
            values = values * sample_weight
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None and mask.ndim == values.ndim:
            # Keras: masked entries (padding steps) count for nothing, and the mean is over
            # the entries the mask keeps (zero when it keeps none)
            keep = T.cast(mask, values.dtype)
            values = values * keep
            if self.reduction in ("sum_over_batch_size", "mean"):
                kept = T.sum(keep)
                return T.switch(kept > 0, T.sum(values) / T.maximum(kept, 1e-30), 0.0)
        if self.reduction == "none":
            return values
        if self.reduction == "sum":
            return T.sum(values)
        return T.mean(values)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}


def _snake(name: str) -> str:
    from .utils.naming import to_snake_case

    return to_snake_case(name)


def _eager(loss: Loss, y_true, y_pred, sample_weight):
    import numpy as np

    from core import function

    y_pred = np.asarray(y_pred, dtype=backend.floatx())
    y_true = np.asarray(y_true)
    if is_sparse(loss):
        y_true = y_true.astype("int64")
    else:
        y_true = y_true.astype(backend.floatx())
    t = T.TensorType(str(y_true.dtype), (None,) * y_true.ndim)("y_true")
    p = T.TensorType(str(y_pred.dtype), (None,) * y_pred.ndim)("y_pred")
    args = [t, p]
    values = [y_true, y_pred]
    sw = None
    if sample_weight is not None:
        sw = T.TensorType(backend.floatx(), (None,))("sample_weight")
        args.append(sw)
        values.append(np.asarray(sample_weight, dtype=backend.floatx()))
    return function(args, loss(t, p, sw))(*values)


def _loss_class(name: str, fn, doc: str, **defaults):
    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None, **kw):
        unknown = set(kw) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown argument(s) {sorted(unknown)}")
        Loss.__init__(self, reduction=reduction, name=name, **{**defaults, **kw})

    return type(name, (Loss,), {"fn": staticmethod(fn), "__init__": __init__, "__doc__": doc})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "Mean squared error.")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "Mean absolute error.")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError",
                                          mean_absolute_percentage_error, "MAPE.")
Huber = _loss_class("Huber", huber, "Huber loss.", delta=1.0)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy,
                                 "Binary crossentropy (``from_logits``, ``label_smoothing``).",
                                 from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "Crossentropy with one-hot labels.", from_logits=False,
                                      label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "Crossentropy with integer labels.", from_logits=False, ignore_class=None, axis=-1)
KLDivergence = _loss_class("KLDivergence", kl_divergence, "Kullback-Leibler divergence.")
Hinge = _loss_class("Hinge", hinge, "Hinge loss.")

_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError, "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "hinge": Hinge,
}


class _FunctionLoss(Loss):
    """A user's ``fn(y_true, y_pred) -> per-sample values`` as a Loss."""

    def __init__(self, fn, name: str | None = None):
        super().__init__(name=name or getattr(fn, "__name__", "loss"))
        self._fn = fn

    def values(self, y_true, y_pred):
        return self._fn(y_true, y_pred)


def get(identifier) -> Loss:
    """A Loss from a name ('mse', 'sparse_categorical_crossentropy', ...), instance or callable.

    Raises ValueError for an unknown name.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown loss {identifier!r}; known: {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        for name, cls in _BY_NAME.items():
            if cls.fn is identifier:
                return cls()
        return _FunctionLoss(identifier)
    raise ValueError(f"cannot interpret {identifier!r} as a loss")


def is_sparse(loss: Loss) -> bool:
    """True for losses that take integer class labels."""
    return isinstance(loss, SparseCategoricalCrossentropy)
