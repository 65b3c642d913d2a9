"""``PyDataset`` (Keras 3) and its Keras 2 name ``Sequence``: batches by index."""
from __future__ import annotations


class PyDataset:
    """Base class of datasets that return whole batches by index.

    Subclasses define ``__len__`` (the number of batches) and ``__getitem__(index)``
    returning ``(x, y)``, ``(x, y, sample_weight)`` or ``x``; ``on_epoch_end`` runs after
    each epoch. ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted
    for compatibility; batches are read in the training thread.

    Examples
    --------
    >>> class Batches(utils.PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, i):
    ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
    ...         return self.x[s], self.y[s]
    >>> model.fit(Batches(x, y, 32), epochs=3)
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``)."""
        return len(self)

    def on_epoch_end(self) -> None:
        """Called after each epoch (e.g. to reshuffle)."""


Sequence = PyDataset
