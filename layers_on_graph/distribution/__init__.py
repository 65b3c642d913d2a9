"""Data-parallel training over MPI processes, with ``keras.distribution``'s names.

Launch the same script on N processes (``mpiexec -n N python train.py``, or ``srun``)
and set the distribution before ``compile``:

>>> from layers_on_graph import distribution
>>> distribution.set_distribution(distribution.DataParallel())
>>> model.compile(...); model.fit(x, y, batch_size=256)   # 256 samples per step in all

``fit`` gives each process its slice of every global batch and sums gradients with one
allreduce per step; only process 0 prints and writes files. Run alone (or without
mpi4py), everything behaves as without this package.
"""
from .data_parallel import DataParallel, active, distribution, set_distribution
from .runtime import barrier, initialize, list_devices, num_processes, process_index

__all__ = ["DataParallel", "active", "barrier", "distribution", "initialize", "list_devices",
           "num_processes", "process_index", "set_distribution"]
