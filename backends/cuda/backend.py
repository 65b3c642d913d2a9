"""The CUDA backend as a ``Backend``: arrays are cupy arrays on the current GPU."""
from __future__ import annotations

import os

from ..base import Backend

INSTALL = "pip install 'layers-on-graph[cuda]'"


class CudaBackend(Backend):
    name = "cuda"
    on_host = False

    def __init__(self):
        self._cupy = None

    def unavailable_reason(self):
        try:
            import cupy
        except ImportError as exc:
            return f"cupy is not installed ({exc}); install it with {INSTALL}"
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver, or the driver finds no device
            return f"cupy is installed but no CUDA GPU is usable ({type(exc).__name__}: {exc})"
        if count == 0:
            return "cupy is installed but no CUDA GPU is visible"
        return None

    @property
    def cupy(self):
        if self._cupy is None:
            from core.config import config

            # cupy's kernel cache under the project's compiledir (read at each compile)
            os.environ.setdefault("CUPY_CACHE_DIR", os.path.join(config.compiledir, "cuda"))
            import cupy

            self._cupy = cupy
        return self._cupy

    def make_kernels(self, nodes, lazy=True):
        from .kernels import make_kernels

        self.cupy  # noqa: B018  (sets the cache directory before anything compiles)
        return make_kernels(list(nodes))

    def to_device(self, array):
        return self.cupy.asarray(array)

    def to_host(self, array):
        return self.cupy.asnumpy(array)

    def is_device_array(self, value):
        return self._cupy is not None and isinstance(value, self._cupy.ndarray)

    def copy_into(self, target, array):
        target.set(array)
