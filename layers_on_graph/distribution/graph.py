"""The symbolic side of data parallelism: one allreduce per step, and global batch moments.

Each process differentiates ``n * loss`` (``n`` its sample count, ``loss`` the mean over
its slice), the sum of its per-sample losses. Summed over processes and divided by the
global count ``N``, that is the gradient of the mean loss over the global batch, for any
split of the batch, empty slices included. The gradients, the count, the losses (times
``n``), the metric sums and the averaged state updates (times ``n``) travel in one flat
buffer per dtype through one ``allreduce``.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

import core.tensor as T
from backends.numpy import shared_windows
from core.tensor.collective import (Unpack, allreduce, allreduce_packed, exchange_packed,
                                    gather_rows, get_communicator, shared_memory_fits,
                                    shares_memory)
from core.tensor.elemwise import DimShuffle
from core.tensor.math import Dot


def _shape(var) -> tuple:
    """The shape of a shared variable's value."""
    return tuple(var.get_value(borrow=True).shape)


def _allreduce_parts(parts: list, processes: int | None = None) -> list:
    """``allreduce`` of each (expression, shape) part, through one flat buffer per dtype.

    A shape of None takes the expression's own shape when the step runs. With every
    process on one machine, each part is the sum of every process's slice of the buffer,
    read in shared memory by the code that uses it (the optimizer's update): no reduction
    pass of its own."""
    by_dtype: dict[str, list[int]] = {}
    for k, (expr, _) in enumerate(parts):
        by_dtype.setdefault(expr.dtype, []).append(k)
    if processes is None:
        processes = _processes_sharing_memory(parts)
    results = [None] * len(parts)
    for dtype in sorted(by_dtype):  # the same order on every process
        # parts of known shapes first: one Unpack node gives all their views
        ks = sorted(by_dtype[dtype], key=lambda k: parts[k][1] is None)
        exprs = [parts[k][0] for k in ks]
        flats = exchange_packed(exprs, processes) if processes else [allreduce_packed(exprs)]
        known = [k for k in ks if parts[k][1] is not None]
        shapes = [parts[k][1] if parts[k][0].ndim else () for k in known]
        unpacked = [list(Unpack(shapes).make_node(flat).outputs) if shapes else []
                    for flat in flats]
        offset = sum(int(np.prod(shape, dtype=np.int64)) for shape in shapes)
        for j, k in enumerate(known):
            results[k] = functools.reduce(operator.add, [u[j] for u in unpacked])
        for k in ks[len(known):]:  # a metric sum sized at run time (thresholds, classes)
            expr = parts[k][0]
            shape = T.shape(expr)
            size = T.prod(shape) if expr.ndim else 1
            pieces = [flat[offset:offset + size].reshape(shape) if expr.ndim
                      else flat[offset:offset + size].reshape(()) for flat in flats]
            results[k] = functools.reduce(operator.add, pieces)
            offset = offset + size
    return results


def _processes_sharing_memory(parts: list) -> int:
    """The number of processes when all share one machine whose shared memory holds two
    copies of every process's buffers (``PackedExchange``'s window); else 0."""
    comm = get_communicator()
    if not shares_memory(comm):
        return 0
    # parts sized at run time (metric sums) are small: a margin of 1 MB covers them
    nbytes = sum(np.dtype(expr.dtype).itemsize * int(np.prod(shape, dtype=np.int64))
                 for expr, shape in parts if shape is not None) + (1 << 20)
    processes = comm.Get_size()
    return processes if shared_memory_fits(comm, 2 * processes * nbytes) else 0


def _local_count(batch_input, dtype: str):
    return T.cast(T.shape_i(batch_input, 0), dtype)


def _times_count(expr, n):
    """``expr * n``, and 0 where this process has no samples (its means are NaN then)."""
    return T.switch(T.gt(n, 0), expr * T.cast(n, expr.dtype), T.zeros_like(expr))


def reduce_train_step(total, outputs: list, n_losses: int, params: list, updates: list,
                      averaged: list, batch_input, row_wise=lambda params: {}):
    """Gradients, outputs and updates of one data-parallel training step.

    Parameters
    ----------
    total : scalar variable
        This process's mean loss over its slice (plus weight penalties).
    outputs : list of scalar variables
        ``n_losses`` mean losses, then metric (sum, count) pairs.
    params : list of shared variables
        The trainable weights.
    updates : list of (shared, expression)
        State updates; those of ``averaged`` variables become their sample-weighted mean
        over processes (BatchNormalization's moving statistics), others stay local.
    batch_input : variable
        An input whose first axis is this process's slice of the batch.
    row_wise : callable
        Given ``params``, the ids of those whose update may be applied to a block of rows
        alone, each to the weight and its slots (``sharded.row_wise``): the candidates to
        gather.

    Returns
    -------
    grads, outputs, updates, gathered
        The gradients of the global mean loss, the global outputs (mean losses, summed
        metrics) and the state updates, identical on every process. ``gathered`` maps each
        weight whose gradient is a product ``x.T @ delta`` (a Dense kernel's), when every
        process shares one machine, to ``(gradient, x_all, delta_all, count, state)``: that
        gradient is then ``x_all.T @ delta_all / count`` over the rows of every process
        (``GatherRows``), ready for ``sharded.shard_updates`` to give each process a block
        of its rows (and of its slots, ``state`` from ``row_wise``).
    """
    n = _local_count(batch_input, total.dtype)
    grads = T.grad(total * n, params, disconnected_inputs="ignore") if params else []
    comm = get_communicator()
    if shares_memory(comm):  # once per compiled model: free the windows of steps dropped since
        shared_windows.collect(comm, garbage=True)
    processes = _processes_sharing_memory([(g, _shape(p)) for g, p in zip(grads, params)])
    candidates = row_wise(params) if processes else {}
    products = {k: _rows_product(g, p) for k, (g, p) in enumerate(zip(grads, params))
                if id(p) in candidates}
    products = {k: ab for k, ab in products.items() if ab is not None}
    gathered_rows = gather_rows([t for k in sorted(products) for t in products[k]],
                                processes) if products else []
    averaged_ids = {id(v) for v in averaged}
    mean_updates = [(v, e) for v, e in updates if id(v) in averaged_ids
                    and v.type.dtype.startswith("float")]
    mean_ids = {id(v) for v, _ in mean_updates}
    local_updates = [(v, e) for v, e in updates if id(v) not in mean_ids]
    parts = [(T.cast(g, p.type.dtype), _shape(p)) for k, (g, p) in enumerate(zip(grads, params))
             if k not in products]
    parts += [(_times_count(T.cast(e, v.type.dtype), n), _shape(v))
              for v, e in mean_updates]
    parts += [(_times_count(o, n), ()) for o in outputs[:n_losses]]
    parts += [(o, None) for o in outputs[n_losses:]]
    parts.append((n, ()))
    reduced = _allreduce_parts(parts, processes)
    count = reduced[-1]
    k = len(grads) - len(products)
    summed, gathered = iter(reduced[:k]), {}
    new_grads = [next(summed) / T.cast(count, p.type.dtype) if j not in products else None
                 for j, p in enumerate(params)]
    for j, (x_all, delta_all) in zip(sorted(products), zip(gathered_rows[::2],
                                                            gathered_rows[1::2])):
        new_grads[j] = T.dot(x_all.T, delta_all) / T.cast(count, params[j].type.dtype)
        gathered[params[j]] = (new_grads[j], x_all, delta_all, count,
                               candidates[id(params[j])])
    new_updates = [(v, e / T.cast(count, e.dtype))
                   for (v, _), e in zip(mean_updates, reduced[k:k + len(mean_updates)])]
    k += len(mean_updates)
    new_outputs = [o / T.cast(count, o.dtype) for o in reduced[k:k + n_losses]]
    new_outputs += reduced[k + n_losses:-1]
    return new_grads, new_outputs, local_updates + new_updates, gathered


# Gathering a kernel's inputs and deltas moves rows * (n_in + n_out) values where summing
# its gradient moves n_in * n_out: worth it for kernels wider than this many rows per
# process (784x512: 310; a 512x10 classifier: 10, summed instead).
GATHER_MIN_WIDTH = 64


def _rows_product(grad, param):
    """``(x, delta)`` when ``grad`` is ``dot(x.T, delta)`` of matrices in ``param``'s dtype
    (a Dense kernel's gradient: a sum over the batch's rows), for a kernel wide enough to
    gather rather than sum (``GATHER_MIN_WIDTH``); else None."""
    node = grad.owner
    if node is None or not isinstance(node.op, Dot) or param.ndim != 2:
        return None
    n_in, n_out = _shape(param)
    if n_in * n_out < GATHER_MIN_WIDTH * (n_in + n_out):
        return None
    xt, delta = node.inputs
    transpose = xt.owner
    if (transpose is None or not isinstance(transpose.op, DimShuffle)
            or tuple(transpose.op.new_order) != (1, 0)):
        return None
    x = transpose.inputs[0]
    if x.ndim != 2 or delta.ndim != 2 or not (x.dtype == delta.dtype == param.type.dtype):
        return None
    return x, delta


def reduce_outputs(outputs: list, n_losses: int, batch_input) -> list:
    """Mean losses and summed metrics over every process's slice (evaluation)."""
    n = _local_count(batch_input, outputs[0].dtype)
    parts = [(_times_count(o, n), ()) for o in outputs[:n_losses]]
    parts += [(o, None) for o in outputs[n_losses:]] + [(n, ())]
    reduced = _allreduce_parts(parts)
    count = reduced[-1]
    return [o / T.cast(count, o.dtype) for o in reduced[:n_losses]] + reduced[n_losses:-1]


def global_moments(x, reduce_axes: list[int], channels: int):
    """Mean and (biased) variance of ``x`` over ``reduce_axes`` and every process's batch.

    ``channels`` is the size of the one axis not reduced.

    One allreduce of [sum x, sum x**2, count]; its gradient is an allreduce too, so
    each process backpropagates through the statistics of the global batch.
    """
    s = T.sum(x, axis=reduce_axes)
    ss = T.sum(T.sqr(x), axis=reduce_axes)
    n = T.cast(T.prod(T.stack([T.shape_i(x, a) for a in reduce_axes])), x.dtype)
    flat = allreduce(T.concatenate([s, ss, n.reshape((1,))]))
    count = flat[2 * channels]
    mean = flat[:channels] / count
    variance = flat[channels:2 * channels] / count - T.sqr(mean)
    return mean, variance
