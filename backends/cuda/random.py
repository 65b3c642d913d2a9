"""Random streams on the device: uniform, normal, binomial, choice and permutation draws
from Philox4x32-10 (``codegen.uniform_source``), keyed by the state ``[key, counter]`` as
on the host, so reseeding repeats a stream. The numbers differ from the numpy backend's
(another generator); their distribution is the same."""
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


def _choice(op, state, size: tuple, params):
    """``op.replace``: inverse-CDF lookups of uniforms; without replacement, the items of
    the smallest exponential keys ``-log(u) / p`` (a weighted race whose order is that of
    drawing one item at a time; uniform keys when ``p`` is not given)."""
    a = params[0]
    population = int(a) if a.ndim == 0 else a.shape[0]
    p = params[1] if len(params) > 1 else None
    count = int(np.prod(size, dtype=np.int64))
    if population < 1 and count:
        raise ValueError(f"{op}: a must be positive or a non-empty vector, got {population}")
    if p is not None:
        if p.shape != (population,):
            raise ValueError(f"{op}: p of shape {p.shape} does not match the {population} items")
        if _any(p < 0) or abs(float(p.sum()) - 1) > np.sqrt(np.finfo(np.float64).eps):
            raise ValueError(f"{op}: p must be non-negative and sum to 1")
    if op.replace:
        u = uniforms(state, size, np.dtype("float64"))
        if p is None:
            index = (u * population).astype(np.int64)
        else:
            index = cp.searchsorted(cp.cumsum(p.astype(np.float64)), u, side="right")
        index = cp.minimum(index, population - 1)  # rounding at the top end
    else:
        if count > population:
            raise ValueError(f"{op}: cannot take {count} items from {population} without "
                             f"replacement")
        if p is not None and int(cp.count_nonzero(p)) < count:
            raise ValueError(f"{op}: fewer non-zero entries in p than the {count} items asked")
        u = uniforms(state, (population,), np.dtype("float64"))
        if p is None:
            keys = u
        else:  # an item of p == 0 gets an infinite key: never among the first ``count``
            live = p > 0
            keys = cp.where(live, -cp.log(1 - u), cp.inf) / cp.where(live, p, 1)
        index = cp.argsort(keys)[:count].reshape(size)
    return index if a.ndim == 0 else a[index]


def _permutation(state, size: tuple, n: int):
    """Each row of ``size + (n,)``: the order of ``n`` uniform keys."""
    return cp.argsort(uniforms(state, size + (n,), np.dtype("float64")), axis=-1)


@registry.register(RandomVariable)
def random_kernel(node):
    op = node.op
    dtype = np.dtype(op.dtype)
    work = dtype if dtype.kind == "f" else np.dtype("float64")
    n_size = op.ndim - (op.dist == "permutation")

    def kernel(state, size, *params):
        size = tuple(int(s) for s in _host(size))
        if len(size) != n_size:
            raise ValueError(f"{op}: size {size} has {len(size)} entries, but the graph was "
                             f"built for {n_size} (ndim)")
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
        elif op.dist == "choice":
            sample = _choice(op, state, size, params)
        elif op.dist == "permutation":
            sample = _permutation(state, size, int(params[0]))
            size = size + (sample.shape[-1],)
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
