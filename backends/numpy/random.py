"""Random kernels: a Philox generator keyed by the state ``[key, counter]``.

Every call builds the generator from the state alone and returns the state
with its counter advanced, so a kernel is a pure function of its inputs and
a given state always gives the same sample.
"""
from __future__ import annotations

import numpy as np

from core.tensor.random import RandomVariable

from . import registry


def _generator(state: np.ndarray) -> np.random.Generator:
    return np.random.Generator(np.random.Philox(key=[int(state[0]), int(state[1])]))


def _draw(op, gen, size, params):
    dist = op.dist
    if dist == "uniform":
        low, high = params
        return gen.uniform(low, high, size)
    if dist == "normal":
        avg, std = params
        if np.any(std < 0):
            raise ValueError(f"{op}: std must be non-negative, got {std}")
        return gen.normal(avg, std, size)
    if dist == "binomial":
        n, p = params
        if np.any((p < 0) | (p > 1)):
            raise ValueError(f"{op}: p must be in [0, 1], got {p}")
        return gen.binomial(n, p, size)
    if dist == "choice":
        a = params[0] if params[0].ndim else int(params[0])
        p = params[1] if len(params) > 1 else None
        return gen.choice(a, size, replace=op.replace, p=p)
    if dist == "permutation":
        n = int(params[0])
        flat = int(np.prod(size))
        return np.array([gen.permutation(n) for _ in range(flat)]).reshape(tuple(size) + (n,))
    raise NotImplementedError(f"{op}: no numpy kernel for {dist}")


@registry.register(RandomVariable)
def random_kernel(node):
    op = node.op
    dtype = np.dtype(op.dtype)

    n_size = op.ndim - (op.dist == "permutation")

    def kernel(state, size, *params):
        size = tuple(int(s) for s in size)
        if len(size) != n_size:
            raise ValueError(f"{op}: size {size} has {len(size)} entries, but the graph was "
                             f"built for {n_size} (ndim)")
        if any(s < 0 for s in size):
            raise ValueError(f"{op}: size {size} has a negative entry")
        try:
            sample = _draw(op, _generator(state), size, params)
        except ValueError as exc:
            shapes = [np.shape(p) for p in params]
            raise ValueError(f"{op}: cannot draw size {size} with parameters of shapes "
                             f"{shapes}: {exc}") from None
        new_state = state.copy()
        new_state[1] += np.uint64(1)
        return new_state, np.asarray(sample, dtype=dtype)

    return kernel
