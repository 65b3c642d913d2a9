"""One global random generator for initial weights, dropout seeds and shuffling."""
from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Make initial weights, dropout masks and shuffling repeatable.

    Examples
    --------
    >>> set_random_seed(0); model = Sequential([...])   # same weights every run
    """
    global _RNG
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed: expected a non-negative int, got {seed!r}")
    _RNG = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)


def get_rng() -> np.random.Generator:
    """The global generator (reseeded by ``set_random_seed``)."""
    return _RNG


def next_seed() -> int:
    """A fresh integer seed drawn from the global generator."""
    return int(_RNG.integers(0, 2**31 - 1))
