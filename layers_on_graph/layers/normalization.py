"""``Normalization``: ``(x - mean) / sqrt(variance)`` with statistics given or from ``adapt``."""
from __future__ import annotations

import numpy as np

import core.tensor as T

from .layer import Layer

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


class Normalization(Layer):
    """Feature-wise normalization, as Keras 3.

    ``axis`` (default -1) names the axes that keep their own statistics (None: one mean and
    variance for everything). Give ``mean`` and ``variance``, or call ``adapt(data)`` to
    compute them; those become the non-trainable weights ``mean``, ``variance`` (and
    ``count``, kept for Keras's weight layout). ``invert=True`` maps back.

    Examples
    --------
    >>> norm = Normalization(); norm.adapt(x_train); y = norm(x)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self.supports_masking = True
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: give both mean and variance or neither, got "
                             f"mean={mean!r}, variance={variance!r}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: mean of shape {np.shape(mean)} and variance "
                                 f"of shape {np.shape(variance)} differ")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"Normalization: mean of shape {np.shape(mean)} has more "
                                 f"axes than axis={self.axis}")

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"{self.name}: axis {self.axis} out of range for input shape "
                             f"{tuple(input_shape)}")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[d] is None for d in self._keep):
            raise ValueError(f"{self.name}: the kept axes {self._keep} of input shape "
                             f"{tuple(input_shape)} must be known")
        self._reduce = tuple(d for d in range(ndim) if d not in self._keep)
        self._build_shape = tuple(input_shape)
        self._broadcast = [input_shape[d] if d in self._keep else 1 for d in range(ndim)]
        stats_shape = tuple(input_shape[d] for d in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(shape=stats_shape, initializer="zeros",
                                              trainable=False, name="mean")
            self.adapt_variance = self.add_weight(shape=stats_shape, initializer="ones",
                                                  trainable=False, name="variance")
            self.count = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                         trainable=False, name="count")
        self.built = True

    def _statistics(self):
        """Mean and variance broadcast against the input."""
        if self.input_mean is None:
            pattern = [self._keep.index(d) if d in self._keep else "x"
                       for d in range(len(self._broadcast))]
            return self.adapt_mean.dimshuffle(pattern), self.adapt_variance.dimshuffle(pattern)
        stats = []
        for value in (self.input_mean, self.input_variance):
            value = np.asarray(value, dtype=self.dtype)
            if value.ndim:  # trailing axes of the value fill the kept axes from the end
                shape = [1] * len(self._broadcast)
                for i in range(1, value.ndim + 1):
                    shape[self._keep[-i]] = value.shape[-i]
                value = value.reshape(shape)
            stats.append(np.broadcast_to(value, self._broadcast).copy())
        return stats[0], stats[1]

    def call(self, inputs):
        mean, variance = self._statistics()
        inputs = T.cast(inputs, self.dtype)
        std = T.maximum(T.sqrt(variance), np.asarray(_EPSILON, dtype=self.dtype))
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def adapt(self, data) -> None:
        """Set ``mean`` and ``variance`` from ``data``: an array, or an iterable of batches
        (merged with the parallel-variance formula, as Keras)."""
        if isinstance(data, np.ndarray) or hasattr(data, "__array__"):
            batches = [np.asarray(data)]
        else:
            batches = (np.asarray(b[0] if isinstance(b, tuple) else b) for b in data)
        total_mean = total_var = None
        count = 0
        for batch in batches:
            if not self.built:
                self._check_and_build((None,) + batch.shape[1:])
            if self.input_mean is not None:
                raise ValueError(f"{self.name}: adapt() cannot change a mean and variance "
                                 f"given to the constructor")
            for d in self._keep:
                if batch.shape[d] != self._build_shape[d]:
                    raise ValueError(f"{self.name}: built for input shape {self._build_shape}, "
                                     f"adapt() got data of shape {batch.shape}")
            batch = batch.astype(np.float64)
            mean, var = batch.mean(axis=self._reduce), batch.var(axis=self._reduce)
            n = int(np.prod([batch.shape[d] for d in self._reduce])) if self._reduce else 1
            if total_mean is None:
                total_mean, total_var, count = mean, var, n
                continue
            count += n
            w = n / count
            new_mean = total_mean * (1 - w) + mean * w
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w)
                         + (var + (mean - new_mean) ** 2) * w)
            total_mean = new_mean
        if total_mean is None:
            raise ValueError(f"{self.name}: adapt() got no data")
        self.adapt_mean.set_value(np.asarray(total_mean, dtype=self.dtype))
        self.adapt_variance.set_value(np.asarray(total_var, dtype=self.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        plain = (lambda v: None if v is None else np.asarray(v).tolist())
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": plain(self.input_mean), "variance": plain(self.input_variance)}
