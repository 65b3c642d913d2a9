"""A Keras-style progress bar: ``12/45 ━━━━━━━━━━━━━━━━━━━━ 1s 12ms/step - loss: 0.31``."""
from __future__ import annotations

import sys
import time

import numpy as np


class Progbar:
    """Shows progress over ``target`` steps with running values.

    ``verbose=1`` redraws one line (at most every ``interval`` seconds), ``verbose=2``
    prints one line when the target is reached.

    Examples
    --------
    >>> bar = Progbar(10)
    >>> for i in range(10): bar.update(i + 1, [('loss', 0.5)])
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stream=None, unit_name: str = "step"):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream if stream is not None else sys.stdout
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._seen = 0
        self._finished = False
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._prev_len = 0

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Move to step ``current`` showing ``values`` ([(name, value)] or a dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._seen = current
        if self.verbose == 0 or self._finished:
            return
        now = time.perf_counter()
        items = list(values.items()) if isinstance(values, dict) else list(values or [])
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            line = self._bar(current) + self._timing(current, now, finalize) + _values(items)
            if self._dynamic:
                pad = max(0, self._prev_len - len(line))
                self.stream.write("\r" + line + " " * pad)
                self._prev_len = len(line)
            elif finalize:
                self.stream.write(line)
            if finalize:
                self.stream.write("\n")
                self._finished = True
            self.stream.flush()
            self._last_update = now
        elif finalize:
            elapsed = now - self._start
            per = elapsed / max(current, 1)
            self.stream.write(f"{current}/{self.target} - {_seconds(elapsed)} - "
                              f"{_per_step(per, self.unit_name)}{_values(items)}\n")
            self.stream.flush()
            self._finished = True

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current}"
        digits = len(str(self.target))
        done = int(self.width * min(current, self.target) / max(self.target, 1))
        return (f"{current:>{digits}}/{self.target} " + "\u2501" * done +
                "\u2500" * (self.width - done) + " ")  # heavy/light horizontal lines as Keras

    def _timing(self, current: int, now: float, finalize: bool) -> str:
        elapsed = now - self._start
        per = elapsed / max(current, 1)
        if finalize or self.target is None:
            return f"{_seconds(elapsed)} {_per_step(per, self.unit_name)}"
        eta = per * (self.target - current)
        return f"{_seconds(eta)} {_per_step(per, self.unit_name)}"


def _seconds(t: float) -> str:
    if t >= 3600:
        return f"{int(t // 3600)}:{int(t % 3600 // 60):02d}:{int(t % 60):02d}"
    if t >= 60:
        return f"{int(t // 60)}:{int(t % 60):02d}"
    return f"{int(t)}s"


def _per_step(per: float, unit: str) -> str:
    if per >= 1:
        return f"{per:.0f}s/{unit}"
    if per >= 1e-3:
        return f"{per * 1e3:.0f}ms/{unit}"
    return f"{per * 1e6:.0f}us/{unit}"


def _values(items) -> str:
    out = []
    for name, value in items:
        try:
            v = float(np.mean(value))  # a per-class metric (F1Score) shows its mean, as Keras
            out.append(f" - {name}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {name}: {v:.4e}")
        except (TypeError, ValueError):
            out.append(f" - {name}: {value}")
    return "".join(out)
