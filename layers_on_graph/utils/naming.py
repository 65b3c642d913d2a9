"""Layer names as Keras makes them: snake_case class name, then _1, _2, ..."""
from __future__ import annotations

import re
from collections import defaultdict

_COUNTS: dict[str, int] = defaultdict(int)


def to_snake_case(name: str) -> str:
    """'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2`` ... (per process)."""
    count = _COUNTS[base]
    _COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"
