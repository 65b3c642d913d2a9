"""numpy standing in for cupy's array API, so the CUDA backend's cupy kernels (all but the
generated ones, which need a GPU) run on any machine against the numpy reference."""
import contextlib
import sys
import types

import numpy as np

OURS = ("backends.cuda.kernels", "backends.cuda.conv_pool", "backends.cuda.random")


@contextlib.contextmanager
def numpy_as_cupy():
    """Import ``backends.cuda``'s kernel modules afresh with numpy as ``cupy``; restore the
    previous modules after."""
    import backends.cuda as package

    saved = {name: sys.modules.get(name) for name in ("cupy", "cupyx") + OURS}
    # ``from . import random`` takes the package's attribute when it exists: drop those too
    attributes = {name: package.__dict__.pop(name.rsplit(".", 1)[1], None) for name in OURS}
    cupy = types.ModuleType("cupy")
    cupy.__getattr__ = lambda name: getattr(np, name)
    cupy.asnumpy = np.asarray
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    sys.modules.update(cupy=cupy, cupyx=cupyx)
    for name in OURS:
        sys.modules.pop(name, None)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name, module in attributes.items():
            attr = name.rsplit(".", 1)[1]
            if module is None:
                package.__dict__.pop(attr, None)
            else:
                setattr(package, attr, module)
