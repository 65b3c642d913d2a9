"""Random streams on the device: uniform, normal and binomial draws from Philox4x32-10
(``codegen.uniform_source``), keyed by the state ``[key, counter]`` as on the host, so
reseeding repeats a stream. The numbers differ from the numpy backend's (another
generator); their distribution is the same."""
from __future__ import annotations

import cupy as cp
import numpy as np

from core.tensor.random import RandomVariable

from .codegen import preamble, uniform_source
from .kernels import BLOCK, _dev, _grid, _host, registry

_MODULE = []


def _uniform_functions():
    if not _MODULE:
        module = cp.RawModule(code=preamble() + uniform_source())
        _MODULE.append({np.dtype("float32"): module.get_function("lg_uniform_f32"),
                        np.dtype("float64"): module.get_function("lg_uniform_f64")})
    return _MODULE[0]


def uniforms(state, shape: tuple, dtype) -> "cp.ndarray":
    """Uniform [0, 1) numbers of ``shape`` for the device state ``[key, counter]``."""
    out = cp.empty(shape, dtype)
    if out.size:
        per = 4 if out.dtype == np.float32 else 2
        _uniform_functions()[out.dtype](_grid((out.size + per - 1) // per), (BLOCK,),
                                        (np.int64(out.size), out, state))
    return out


def _any(condition) -> bool:
    return bool(condition.any())  # one device read back, only for parameters on the device


@registry.register(RandomVariable)
def random_kernel(node):
    op = node.op
    if op.dist not in ("uniform", "normal", "binomial"):
        raise NotImplementedError(f"the cuda backend has no kernel for {op} ({op.dist})")
    dtype = np.dtype(op.dtype)
    work = dtype if dtype.kind == "f" else np.dtype("float64")

    def kernel(state, size, *params):
        size = tuple(int(s) for s in _host(size))
        if len(size) != op.ndim:
            raise ValueError(f"{op}: size {size} has {len(size)} entries, but the graph was "
                             f"built for {op.ndim} (ndim)")
        if any(s < 0 for s in size):
            raise ValueError(f"{op}: size {size} has a negative entry")
        state, params = _dev(state), [_dev(p) for p in params]
        if op.dist == "uniform":
            low, high = params
            sample = low + (high - low) * uniforms(state, size, work)
        elif op.dist == "normal":
            avg, std = params
            if _any(std < 0):
                raise ValueError(f"{op}: std must be non-negative")
            u = uniforms(state, (2,) + size, work)
            # Box-Muller; 1 - u lies in (0, 1], so the log is finite
            sample = avg + std * (cp.sqrt(-2 * cp.log(1 - u[0])) * cp.cos(2 * np.pi * u[1]))
        else:
            n, p = params
            if _any((p < 0) | (p > 1)):
                raise ValueError(f"{op}: p must be in [0, 1]")
            trials = int(n.max()) if n.size else 0
            u = uniforms(state, (trials,) + size, work)
            index = cp.arange(trials).reshape((trials,) + (1,) * len(size))
            sample = cp.sum((u < p) & (index < n), axis=0)
        if sample.shape != size:
            sample = cp.broadcast_to(sample, size)
        new_state = state.copy()
        new_state[1:] += np.uint64(1)
        return new_state, cp.ascontiguousarray(sample.astype(dtype, copy=False))

    return kernel
