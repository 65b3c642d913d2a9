"""Shared logic of callbacks that watch a logged value: mode and improvement test."""
from __future__ import annotations

import warnings

import numpy as np


def resolve_mode(monitor: str, mode: str, owner: str) -> str:
    """'min' or 'max' for ``mode`` ('auto' guesses 'max' for accuracy/auc monitors)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.split("val_", 1)[-1] if monitor.startswith("val_") else monitor
    return "max" if name in ("acc", "accuracy", "auc") or name.endswith("accuracy") else "min"


def read_monitor(logs: dict | None, monitor: str, owner: str):
    """``logs[monitor]`` or None with a warning naming the available keys."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner}: metric {monitor!r} is not in the logs (available: "
                      f"{sorted(logs or {})}); skipping", stacklevel=3)
        return None
    return float(np.asarray(value))
