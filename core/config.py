"""Global configuration, Theano style.

Values come from defaults, then the environment variable
``LAYERS_ON_GRAPH_FLAGS`` (``"floatX=float32,device=cpu"``), then code
(``core.config.floatX = 'float32'``).
"""
from __future__ import annotations

import contextlib
import os

_DEFAULTS = {
    "floatX": "float64",
    "device": "cpu",
    "mode": "FAST_RUN",
    "compiledir": os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")),
        "layers_on_graph",
    ),
    "optimizer_excluding": "",
    "profile": False,
    "backend": "auto",
    # False: the C backend builds a function's module when function() compiles it, not
    # after LAZY_WORK elements of work
    "c_lazy": True,
    "threads": 0,  # BLAS and C-loop threads; 0: as the environment says (core/threads.py)
}

_CHOICES = {
    "floatX": ("float64", "float32", "float16"),
    "device": ("cpu", "cuda"),
    "mode": ("FAST_RUN", "FAST_COMPILE"),
}


class _Config:
    """Holds the flags; assignment validates the closed-choice ones."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", dict(_DEFAULTS))
        for item in filter(None, os.environ.get("LAYERS_ON_GRAPH_FLAGS", "").split(",")):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in _DEFAULTS:
                raise ValueError(
                    f"LAYERS_ON_GRAPH_FLAGS: cannot parse {item!r}; expected key=value with "
                    f"key one of {sorted(_DEFAULTS)}"
                )
            setattr(self, key.strip(), value.strip())

    def __getattr__(self, key: str):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"core.config has no flag {key!r}") from None

    def __setattr__(self, key: str, value) -> None:
        if key not in _DEFAULTS:
            raise AttributeError(f"core.config has no flag {key!r}; flags: {sorted(_DEFAULTS)}")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ValueError(f"core.config.{key} must be one of {_CHOICES[key]}, got {value!r}")
        if key in ("profile", "c_lazy") and isinstance(value, str):
            value = value.lower() in ("1", "true", "yes")
        if key == "threads":
            value = _threads(value)
        self._values[key] = value
        if key == "threads":
            from .threads import apply

            apply(value)

    @contextlib.contextmanager
    def change_flags(self, **flags):
        """Set flags inside a ``with`` block, restoring them after (Theano's ``change_flags``).

        Examples
        --------
        >>> with config.change_flags(floatX="float32"):
        ...     x = T.matrix()  # float32
        """
        old = {key: getattr(self, key) for key in flags}
        try:
            for key, value in flags.items():
                setattr(self, key, value)
            yield self
        finally:
            for key, value in old.items():
                if key == "threads":
                    setattr(self, key, value)
                self._values[key] = value


def _threads(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if n < 0:
        raise ValueError(f"core.config.threads must be an integer >= 0 (0: as the environment "
                         f"says), got {value!r}")
    return n


def _flag(key: str) -> property:
    # A data descriptor per flag, so tools that patch attributes (pytest's
    # monkeypatch) see a real attribute and restore it by assignment.
    return property(lambda self: self._values[key])


for _key in _DEFAULTS:
    setattr(_Config, _key, _flag(_key))

config = _Config()
