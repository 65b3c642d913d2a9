"""Weight initializers (numpy arrays), with Keras 3's names and formulas.

Each initializer is called as ``init(shape, dtype)`` and draws from the global
generator of ``utils.set_random_seed`` unless given its own ``seed``.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend
from .utils.random import get_rng


def compute_fans(shape) -> tuple[float, float]:
    """Keras's fan_in/fan_out: conv kernels (kh, kw, in, out) count the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> np.ndarray``."""

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed) if self.seed is not None else get_rng()

    def __call__(self, shape, dtype: str | None = None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed} if hasattr(self, "seed") else {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __init__(self):
        pass

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtype or backend.floatx())


class Ones(Initializer):
    """All ones."""

    def __init__(self):
        pass

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtype or backend.floatx())


class Constant(Initializer):
    """All equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtype or backend.floatx())

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev); Keras defaults 0 and 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        values = self._rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(dtype or backend.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform(minval, maxval); Keras defaults -0.05 and 0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, size=shape).astype(
            dtype or backend.floatx())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, stddev: float, shape) -> np.ndarray:
    """Normal(0, stddev) redrawn beyond two standard deviations."""
    out = rng.normal(0.0, stddev, size=shape)
    bad = np.abs(out) > 2 * stddev
    while bad.any():
        out[bad] = rng.normal(0.0, stddev, size=int(bad.sum()))
        bad = np.abs(out) > 2 * stddev
    return out


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) cut at two standard deviations; Keras default stddev 0.05."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return (self.mean + _truncated_normal(self._rng(), self.stddev, shape)).astype(
            dtype or backend.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance ``scale / fan`` ('fan_in', 'fan_out', 'fan_avg'),
    drawn 'truncated_normal', 'untruncated_normal' or 'uniform'."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: unknown mode {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: unknown distribution {distribution!r}")
        super().__init__(seed)
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            out = _truncated_normal(rng, math.sqrt(scale) / 0.87962566103423978, shape)
        elif self.distribution == "untruncated_normal":
            out = rng.normal(0.0, math.sqrt(scale), size=shape)
        else:
            limit = math.sqrt(3.0 * scale)
            out = rng.uniform(-limit, limit, size=shape)
        return out.astype(dtype or backend.floatx())

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variant(name: str, scale: float, mode: str, distribution: str, doc: str):
    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _variant("GlorotUniform", 1.0, "fan_avg", "uniform",
                         "Uniform in +-sqrt(6 / (fan_in + fan_out)) (Keras's default).")
GlorotNormal = _variant("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                        "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeNormal = _variant("HeNormal", 2.0, "fan_in", "truncated_normal",
                    "Truncated normal, stddev sqrt(2 / fan_in).")
HeUniform = _variant("HeUniform", 2.0, "fan_in", "uniform", "Uniform in +-sqrt(6 / fan_in).")
LecunNormal = _variant("LecunNormal", 1.0, "fan_in", "truncated_normal",
                       "Truncated normal, stddev sqrt(1 / fan_in).")
LecunUniform = _variant("LecunUniform", 1.0, "fan_in", "uniform", "Uniform in +-sqrt(3 / fan_in).")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR of a normal matrix."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: needs a shape of rank >= 2, got {tuple(shape)}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._rng().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype or backend.floatx())

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
}


def get(identifier) -> Initializer:
    """An initializer from a name ('glorot_uniform'), a class name, an instance or a callable."""
    if isinstance(identifier, str):
        key = identifier if identifier in _ALIASES else None
        if key is None:
            for name, cls in _ALIASES.items():
                if cls.__name__ == identifier:
                    key = name
        if key is None:
            raise ValueError(f"unknown initializer {identifier!r}; known: {sorted(_ALIASES)}")
        return _ALIASES[key]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = get(identifier["class_name"]).__class__
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"cannot interpret {identifier!r} as an initializer")


def serialize(init) -> dict:
    """``{'class_name': ..., 'config': ...}`` as Keras."""
    return {"class_name": type(init).__name__, "config": init.get_config()}
