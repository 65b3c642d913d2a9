"""What ``fit``/``evaluate``/``predict`` accept, and batches from generators and PyDatasets.

Arrays (numpy, lists or dicts of them, anything with ``__array__``) go through
``data.py``'s checks. A Python generator (any iterator), a ``utils.PyDataset`` or a
re-iterable loader with a length (a PyTorch ``DataLoader``) is a *stream*: it yields whole
batches ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.
Anything else is refused with a ValueError naming its type (as Keras 3).
"""
from __future__ import annotations

import collections.abc
import numbers
from typing import Iterator

import numpy as np

from ..utils.py_dataset import PyDataset


_CONTAINERS = (str, bytes, list, tuple, dict, set, frozenset, np.ndarray)


def is_stream(data) -> bool:
    """True for a PyDataset, a generator/iterator of batches, or a loader (iterable with a
    length that is not a plain container)."""
    if isinstance(data, PyDataset):
        return True
    if isinstance(data, _CONTAINERS) or hasattr(data, "__array__"):
        return False
    return isinstance(data, collections.abc.Iterator) or _is_loader(data)


def _is_loader(data) -> bool:
    return isinstance(data, collections.abc.Iterable) and hasattr(data, "__len__")


def check_supported(data, what: str) -> None:
    """ValueError (Keras 3's type) unless ``data`` is arrays, a stream, or None."""
    if data is None or is_stream(data) or _is_array_like(data):
        return
    raise ValueError(f"{what}: unrecognized data type {type(data).__module__}."
                     f"{type(data).__qualname__}; pass numpy arrays (or a list/dict of them), a "
                     f"Python generator yielding batches, a utils.PyDataset or a DataLoader")


def _is_array_like(data) -> bool:
    if isinstance(data, (np.ndarray, np.generic, numbers.Number)) or hasattr(data, "__array__"):
        return True
    if isinstance(data, (list, tuple)):
        return True
    if isinstance(data, dict):
        return all(_is_array_like(v) for v in data.values())
    return False


def unpack(batch) -> tuple:
    """``(x, y, sample_weight)`` of one batch, as Keras: a tuple (or list) of 1, 2 or 3 is
    (x, y, sw); anything else is x alone."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise ValueError(f"a batch tuple must be (x,), (x, y) or (x, y, sample_weight); got "
                             f"a tuple of {len(batch)} elements")
        return tuple(batch) + (None,) * (3 - len(batch))
    return batch, None, None


class Stream:
    """Epochs of batches from a generator or a PyDataset, at most ``steps`` per epoch.

    A generator continues where the last epoch stopped; a PyDataset starts each epoch at
    batch 0 (in shuffled order when ``shuffle``) and gets ``on_epoch_end`` after it.
    """

    def __init__(self, data, steps: int | None, shuffle: bool, what: str):
        if isinstance(data, PyDataset) or _is_loader(data):
            n = len(data)
            steps = n if steps is None else min(int(steps), n)
        self.data, self.steps, self.shuffle, self.what = data, steps, shuffle, what
        self.exhausted = False

    def epoch(self, rng=None) -> Iterator:
        """The batches of one epoch."""
        if isinstance(self.data, PyDataset):
            order = np.arange(len(self.data))
            if self.shuffle and rng is not None:
                order = rng.permutation(order)
            for i in order[:self.steps]:
                yield self.data[int(i)]
            return
        count = 0
        source = iter(self.data) if _is_loader(self.data) else self.data  # a loader restarts
        while self.steps is None or count < self.steps:
            try:
                batch = next(source)
            except StopIteration:
                self.exhausted = True
                return
            count += 1
            yield batch

    def end_epoch(self) -> None:
        if isinstance(self.data, PyDataset):
            self.data.on_epoch_end()


class ArrayBatches(PyDataset):
    """Arrays served as a PyDataset of ``batch_size`` batches (arrays given with a stream of
    validation data)."""

    def __init__(self, x, y, sample_weight, batch_size: int):
        super().__init__()
        self.x, self.y, self.sample_weight, self.batch_size = x, y, sample_weight, batch_size
        self.n = len(next(iter(x.values())) if isinstance(x, dict) else
                     x[0] if isinstance(x, (list, tuple)) else x)

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, index: int):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)

        def take(v):
            if v is None:
                return None
            if isinstance(v, dict):
                return {k: np.asarray(a)[part] for k, a in v.items()}
            if isinstance(v, (list, tuple)):
                return [np.asarray(a)[part] for a in v]
            return np.asarray(v)[part]

        return take(self.x), take(self.y), take(self.sample_weight)


def as_stream(x, y, sample_weight, batch_size: int, what: str, class_weight=None,
              **not_with_streams):
    """``x`` if it is a stream (refusing ``y``, ``sample_weight`` and the other arguments
    Keras refuses with one; ``class_weight`` only with a PyDataset), else the arrays as an
    ``ArrayBatches``."""
    if not is_stream(x):
        return ArrayBatches(x, y, sample_weight, batch_size)
    given = {"y": y, "sample_weight": sample_weight, **not_with_streams}
    if not isinstance(x, PyDataset):
        given["class_weight"] = class_weight
    for name, value in given.items():
        if value is not None and value is not False and not (isinstance(value, float)
                                                             and value == 0.0):
            raise ValueError(f"{what}: {name} is not supported when x is a generator or a "
                             f"PyDataset (it yields (x, y, sample_weight) batches itself)")
    return x
