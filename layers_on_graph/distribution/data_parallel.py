"""``DataParallel`` and the global distribution setting, named as ``keras.distribution``."""
from __future__ import annotations

from . import runtime


class DataParallel:
    """Every process holds all the weights and trains on its slice of each global batch.

    Gradients are summed over processes with one allreduce per step, so N processes over
    a global batch B take the same steps as one process with batch B. On one machine the
    processes share the work through shared memory instead: each updates a block of every
    Dense kernel's rows; and a model that starts with two Dense layers (and has little
    else to train) has them split by their hidden units, every process running the whole
    global batch through its block (``distribution/split_pair.py``).

    Parameters
    ----------
    device_mesh, devices : None
        Accepted for Keras compatibility; the devices are the MPI processes.
    auto_shard_dataset : bool
        Accepted for Keras compatibility; batches are always sharded.

    Examples
    --------
    >>> from layers_on_graph import distribution
    >>> distribution.set_distribution(distribution.DataParallel())   # before compile
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset: bool = True):
        if device_mesh is not None or devices is not None:
            raise ValueError("DataParallel: the devices are the MPI processes of the launch; "
                             "pass no device_mesh or devices")
        runtime.initialize()

    @property
    def num_processes(self) -> int:
        return runtime.num_processes()

    def __repr__(self) -> str:
        return f"DataParallel(num_processes={self.num_processes})"


_DISTRIBUTION: DataParallel | None = None


def set_distribution(value: DataParallel | None) -> None:
    """Train every model compiled from now on with ``value`` (None: one process)."""
    global _DISTRIBUTION
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: expected a DataParallel or None, got {value!r}")
    _DISTRIBUTION = value


def distribution() -> DataParallel | None:
    """The distribution set with ``set_distribution`` (None by default)."""
    return _DISTRIBUTION


def active() -> bool:
    """Whether steps run data parallel: a DataParallel is set and more than one process runs."""
    return _DISTRIBUTION is not None and runtime.num_processes() > 1
