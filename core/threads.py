"""How many threads the numeric libraries use: ``core.config.threads``.

``0`` (the default) leaves every library as its environment set it (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` ...). ``N > 0`` limits numpy's BLAS and the C backend's OpenMP
runtime to N threads, through ``threadpoolctl``; set it in code
(``core.config.threads = 2``), with ``LAYERS_ON_GRAPH_FLAGS="threads=2"``, or for a block
with ``core.config.change_flags(threads=2)``. The C kernels' dense products and large
elementwise loops run on the C backend's worker pool (``backends/c/workers.py``), which
takes its thread count from the same OpenMP limit; so do the direct and Winograd
convolutions, pooling, ``ReluBiasGrad`` and ``MaxPoolReluBiasGrad`` (images or rows in
blocks on that pool).
"""
from __future__ import annotations

_original: list = []  # threadpoolctl controllers of the first limit: they restore the start
listeners: list = []  # called after each change (the C backend hands its modules its threads)


def apply(n: int) -> None:
    """Limit BLAS and the OpenMP runtimes loaded so far to ``n`` threads; 0 restores the
    limits they had before the first call."""
    _limit(n)
    for listener in listeners:
        listener()


def _limit(n: int) -> None:
    if n <= 0:
        while _original:
            _original.pop().restore_original_limits()
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl: the environment variables still work
        return
    for api in ("blas", "openmp"):
        limiter = threadpool_limits(limits=n, user_api=api)
        if len(_original) < 2:
            _original.append(limiter)


def reapply() -> None:
    """Apply the current limit again: an OpenMP runtime loaded since (the first C module
    loads libgomp) must get it too."""
    from .config import config

    if config.threads > 0:
        _limit(config.threads)
