"""``Metric``: a stateful metric whose state is a few additive sums.

Every metric here reduces a batch to a fixed list of sums (a weighted total and a
count; true/false positive counts per threshold; ...). The sums of successive
batches add up, and ``result`` is a function of the accumulated sums. So the same
object works in two places:

- eagerly: ``update_state(y_true, y_pred)`` on numpy arrays runs the metric's
  symbolic sums through a compiled ``core.function`` (one per input signature,
  cached) and adds them to the metric's state;
- inside ``compile(metrics=...)``: the compiled train and test steps return the
  batch sums among their outputs, and the epoch tracker accumulates them with
  ``accumulate`` and reads them with ``result_from``.
"""
from __future__ import annotations

import numpy as np

from .. import backend


class Metric:
    """Base class: subclasses define ``symbolic_sums`` and ``result_from``.

    Examples
    --------
    >>> m = Precision(); m.update_state([0, 1, 1], [0.8, 0.9, 0.2])
    >>> m.result()
    0.5
    """

    #: how many sums ``symbolic_sums`` returns
    num_sums = 0
    #: the y_true dtype the metric reads ("float" means the metric's dtype)
    y_true_dtype = "float"

    def __init__(self, name: str | None = None, dtype: str | None = None):
        from ..utils.naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        self._eager_fns: dict = {}
        self.reset_state()

    # ----- what a subclass defines -----
    def symbolic_sums(self, y_true, y_pred, sample_weight) -> list:
        """The batch's additive sums, symbolically (``sample_weight`` is (batch,) or None)."""
        raise NotImplementedError

    def result_from(self, sums: list | None):
        """The metric's value from accumulated sums (None: nothing seen yet)."""
        raise NotImplementedError

    # ----- state -----
    @staticmethod
    def accumulate(sums: list | None, batch_sums) -> list:
        """``sums`` plus one batch's sums (float64 accumulators)."""
        batch = [np.asarray(s, dtype="float64") for s in batch_sums]
        if sums is None:
            return batch
        return [a + b for a, b in zip(sums, batch)]

    def reset_state(self) -> None:
        """Forget every batch seen."""
        self._sums = None

    def add_sums(self, *batch_sums) -> None:
        """Add one batch's sums (as returned by a compiled ``symbolic_sums``)."""
        self._sums = self.accumulate(self._sums, batch_sums)

    def result(self):
        """The value over every batch since the last ``reset_state`` (float or array)."""
        return self.result_from(self._sums)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch of numpy values."""
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        y_true = np.asarray(y_true)
        y_true = y_true.astype(self.dtype if self.y_true_dtype == "float" else self.y_true_dtype)
        if y_true.ndim != y_pred.ndim and y_true.size == y_pred.size and self.y_true_dtype == \
                "float":
            y_true = y_true.reshape(y_pred.shape)  # (n,) labels against (n, 1) predictions
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=self.dtype)
        if sw is not None and sw.ndim != 1:
            if sw.size != len(y_pred):
                raise ValueError(f"{self.name}: sample_weight must hold one weight per sample "
                                 f"({len(y_pred)}), got shape {sw.shape}")
            sw = sw.reshape(-1)
        key = (str(y_true.dtype), y_true.ndim, y_pred.ndim, sw is None)
        if key not in self._eager_fns:
            self._eager_fns[key] = self._compile_eager(y_true, y_pred, sw is not None)
        args = (y_true, y_pred) if sw is None else (y_true, y_pred, sw)
        self.add_sums(*self._eager_fns[key](*args))

    def __call__(self, y_true, y_pred, sample_weight=None):
        """``update_state`` then ``result``, as Keras's ``metric(y_true, y_pred)``."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def _compile_eager(self, y_true: np.ndarray, y_pred: np.ndarray, weighted: bool):
        import core.tensor as T
        from core import function

        t = T.TensorType(str(y_true.dtype), (None,) * y_true.ndim)("y_true")
        p = T.TensorType(self.dtype, (None,) * y_pred.ndim)("y_pred")
        w = T.TensorType(self.dtype, (None,))("sample_weight") if weighted else None
        inputs = [t, p] + ([w] if weighted else [])
        return function(inputs, list(self.symbolic_sums(t, p, w)), on_unused_input="ignore")

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_eager_fns"] = {}  # compiled functions are rebuilt on demand
        return state


def divide_no_nan(a, b):
    """a / b, 0 where b is 0 (numpy, elementwise)."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


def as_result(value, dtype: str):
    """A python float for a scalar result, else an array of ``dtype`` (Keras returns float32)."""
    value = np.asarray(value, dtype=dtype)
    return float(value) if value.ndim == 0 else value
