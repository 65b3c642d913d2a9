"""Global configuration, Theano style.

Values come from defaults, then the environment variable
``LAYERS_ON_GRAPH_FLAGS`` (``"floatX=float32,device=cpu"``), then code
(``core.config.floatX = 'float32'``).
"""
from __future__ import annotations

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
        if key == "profile" and isinstance(value, str):
            value = value.lower() in ("1", "true", "yes")
        self._values[key] = value


config = _Config()
