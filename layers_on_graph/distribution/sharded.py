"""Each process updates a block of rows of a Dense kernel, in memory every process shares.

With every process on one machine, a data-parallel step need not sum gradients. Each
process puts its slice's layer inputs ``x`` and output gradients ``delta`` in shared
memory (``GatherRows``); then process ``q`` computes the gradient of its block of rows of
each kernel over the whole global batch, ``x_all[:, rows_q].T @ delta_all`` (one product
with every process's rows: no gradient buffer, no sum), and applies the optimizer's
update to those rows of the kernel and of its slots (momenta), which live in an MPI
shared-memory window (``backends/numpy/shared_rows.py``). Every process reads the whole
kernel in its next forward pass, after a barrier that ends each step.

The optimizer's update is written for whole variables; it is rebuilt here for a block of
rows when it is elementwise (SGD, momentum, Adam, RMSprop...: each element's new value
depends on that element alone). A clipped gradient's norm, or any other update that
mixes rows, keeps the whole gradient (every process computes it, still without a sum).

The weights' and slots' values are the windows' arrays; a ``set_value`` (``fit``'s
broadcast of process 0's weights, ``load_weights``) gives a variable another array, which
the next step copies into the window. Every process must set the same values, as data
parallel requires anyway.
"""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import shared
from core.graph.utils import clone_replace, graph_inputs, toposort
from core.tensor.elemwise import Elemwise


def shard_updates(updates: list, gathered: dict, comm) -> tuple[list, "ShardedWeights | None"]:
    """``updates`` with each gathered kernel's update (and its slots') rebuilt for this
    process's block of rows, and the shared windows that hold those variables.

    Parameters
    ----------
    updates : list of (shared, expression)
        The step's updates, the optimizer's included.
    gathered : dict
        ``reduce_train_step``'s: kernel -> (gradient, x_all, delta_all, count, state), the
        state being the kernel and its slots (``row_wise``).
    comm : mpi4py communicator
        The processes, all on one machine.
    """
    from backends.numpy.shared_rows import block_rows

    size, rank = comm.Get_size(), comm.Get_rank()
    blocks = []
    for param, (grad, x_all, delta_all, count, state) in gathered.items():
        rows = block_rows(param.type.shape[0], size, rank)
        blocks.append(Block(param, state, rows, 0, grad,
                            _rows_gradient(x_all, delta_all, rows, count, param.type.dtype)))
    return shard_blocks(updates, blocks, comm)


class Block:
    """A weight whose block ``part`` along ``axis`` this process updates, with its slots
    (``state``: the weight first, as ``row_wise`` gives it): ``grad`` stands in the updates
    for the whole weight's gradient, ``block_grad`` is the block's. ``variable``: the
    block's shared variable when the step's graph already reads it (else made here)."""

    def __init__(self, param, state: list, part: slice, axis: int, grad, block_grad,
                 variable=None):
        self.state, self.part, self.axis = state, part, axis
        self.grad, self.block_grad = grad, block_grad
        self.variables = {v: (variable if v is param and variable is not None
                              else block_variable(v, part, axis)) for v in state}


def shard_blocks(updates: list, blocks: list, comm) -> tuple[list, "ShardedWeights | None"]:
    """``updates`` with the update of each ``Block``'s weight and slots rebuilt for this
    process's block, and the shared windows that hold those variables (None, and
    ``updates`` unchanged, when a block's update is not elementwise or the machine's
    shared memory cannot hold them)."""
    original, updates, entries = updates, list(updates), []
    index = {id(v): k for k, (v, _) in enumerate(updates)}
    for block in blocks:
        olds = [updates[index[id(v)]][1] for v in block.variables]
        shape = next(iter(block.variables.values())).type.shape
        news = _rebuilt(olds, {**block.variables, block.grad: block.block_grad}, shape)
        if news is None:
            continue  # not elementwise after all: the whole gradient, on every process
        for (v, v_block), new in zip(block.variables.items(), news):
            updates[index[id(v)]] = (v_block, new)
            entries.append((v, v_block, block.part, block.axis))
    if not entries or not fits(comm, [v for v, _, _, _ in entries]):
        return original, None  # (no room in /dev/shm: whole gradients, on every process)
    return updates, ShardedWeights(comm, entries)


def fits(comm, variables: list) -> bool:
    """Whether the machine's shared memory holds a window for each of ``variables``."""
    from core.tensor.collective import shared_memory_fits

    nbytes = sum(int(np.prod(v.type.shape)) * np.dtype(v.type.dtype).itemsize
                 for v in variables)
    return shared_memory_fits(comm, nbytes)


def _rows_gradient(x_all, delta_all, rows: slice, count, dtype: str):
    """The gradient of a kernel's ``rows``: ``x_all[:, rows].T @ delta_all / count`` (as a
    product by ``1 / count``, which the optimizer's update folds into one Gemm)."""
    return T.dot(x_all[:, rows].T, delta_all) * T.cast(1 / count, dtype)


def block_variable(var, part: slice, axis: int = 0):
    """A shared variable for ``var``'s block ``part`` along ``axis``; ShardedWeights binds
    its value."""
    shape = list(var.type.shape)
    shape[axis] = part.stop - part.start
    value = np.zeros(shape, var.type.dtype)
    where = ", ".join([":"] * axis + [f"{part.start}:{part.stop}"])
    return shared(value, name=f"{var.name}[{where}]", borrow=True, shape=tuple(shape))


def _rebuilt(exprs: list, replace: dict, shape: tuple):
    """``exprs`` with ``replace``'s variables swapped for their blocks of rows (of
    ``shape``), when they are elementwise in them; else None."""
    if not _elementwise(exprs, list(replace)):
        return None
    news, _ = clone_replace(exprs, replace)
    if any(new.type.shape != shape for new in news):
        return None
    return news


def _elementwise(exprs: list, variables: list) -> bool:
    """Whether every node between ``variables`` and ``exprs`` is elementwise over them,
    other operands broadcasting along both axes (as a learning rate does)."""
    touched = set(map(id, variables))
    for node in toposort(exprs, stop=variables):
        reads = [id(i) in touched for i in node.inputs]
        if not any(reads):
            continue
        if not isinstance(node.op, Elemwise) or any(
                not r and not all(i.type.broadcastable) for r, i in zip(reads, node.inputs)):
            return False
        touched.update(id(o) for o in node.outputs)
    return True


def row_wise(optimizer, params: list) -> dict[int, list]:
    """For each of ``params`` whose update by ``optimizer`` (and its slots') is elementwise
    in the weight and its gradient, so that a process can update a block of its rows alone
    (not under a clipped gradient's norm): its id -> the weight and its slots (the
    variables updated from its gradient). Read off the updates for stand-in gradients."""
    grads = [p.type() for p in params]
    updates = optimizer.get_updates(params, grads)
    owner = {id(g): k for k, g in enumerate(grads)}
    readers: list[list] = [[] for _ in params]  # per param: the variables its gradient updates
    for v, expr in updates:
        for k in {owner[id(leaf)] for leaf in graph_inputs([expr]) if id(leaf) in owner}:
            readers[k].append(v)
    updated = {id(v) for v, _ in updates}
    found = {}
    for param, grad, slots in zip(params, grads, readers):
        state = [param] + [v for v in slots if v is not param]
        ids = {id(v) for v in state}
        if (None not in param.type.shape and id(param) in updated
                and all(v.type.shape == param.type.shape and v.type.dtype == param.type.dtype
                        for v in state)
                and _elementwise([e for v, e in updates if id(v) in ids], state + [grad])):
            found[id(param)] = state
    return found


class ShardedWeights:
    """The windows of the variables each process updates a block of (rows, or a split
    pair's columns: ``split_pair.py``), and the barrier after which every process has
    updated its blocks (before anyone reads a whole variable)."""

    def __init__(self, comm, entries: list):
        from backends.numpy.shared_allreduce import barrier
        from backends.numpy.shared_rows import ColumnBlocks, RowBlocks

        self.comm, self.barrier = comm, barrier
        self.entries = []  # (variable, its block variable, RowBlocks or ColumnBlocks)
        for var, var_block, part, axis in entries:
            shape = var.type.shape
            blocks = (RowBlocks(comm, part.stop - part.start, tuple(shape[1:]), var.type.dtype)
                      if axis == 0 else ColumnBlocks(comm, shape[0], part.stop - part.start,
                                                     var.type.dtype))
            var_block.set_value(blocks.mine, borrow=True)
            if comm.Get_rank() == 0:  # process 0's values, as fit's broadcast would give
                blocks.full[...] = var.get_value(borrow=True)
            self.entries.append((var, var_block, blocks))
        self.windows = [blocks.window for _, _, blocks in self.entries]
        self.end_step()
        for var, _, blocks in self.entries:
            var.set_value(blocks.full, borrow=True)

    def bind(self, settle) -> None:
        """Copy a value set since the last step into the window and make the window the
        variable's value again, after ``settle()`` (the last step's blocks all written).
        Every process copies the whole value: all set the same (fit broadcasts process
        0's first), so a process that reads rows another is still copying reads the bytes
        it wrote itself; and none writes new rows before the step's first barrier, which a
        copying process reaches only once done."""
        changed = [(var, blocks) for var, _, blocks in self.entries
                   if var.get_value(borrow=True) is not blocks.full]
        if changed:
            settle()
        for var, blocks in changed:
            blocks.full[...] = var.get_value(borrow=True)
            var.set_value(blocks.full, borrow=True)

    def keep(self) -> None:
        """Copy into the window an update the step did not write in place (the numpy
        backend's, or one that could not overwrite its variable)."""
        for _, var_block, blocks in self.entries:
            value = var_block.get_value(borrow=True)
            if value is not blocks.mine:
                blocks.mine[...] = value
                var_block.set_value(blocks.mine, borrow=True)

    def wait(self) -> None:
        """Wait until every process has updated its blocks."""
        self.barrier(self.comm, self.windows)

    def end_step(self) -> None:
        """``keep``, then ``wait``."""
        self.keep()
        self.wait()


class ShardedStep:
    """A training step function whose weights' blocks are updated by every process in
    turn: binds the windows first and ends with a barrier. Attributes are the function's.

    ``global_batch``: the step takes the whole global batch on every process (a split
    Dense pair, ``split_pair.py``), not this process's slice of it. Such a step reads
    only this process's blocks, and its next call waits at a barrier of its own (the
    exchange) before it overwrites anything another process may still read, so it leaves
    the barrier that ends it to whoever reads whole weights next: ``settle``. ``fit``
    settles after each epoch and, when a callback looks at each batch, after each step;
    ``train_on_batch`` after its step; ``debug_nan`` before saving the weights. (One
    barrier a step instead of two: 0.04-0.07x more speed-up for the 784-512-512-10 MLP.)
    """

    def __init__(self, fn, weights: ShardedWeights, global_batch: bool = False):
        self._fn, self._weights, self.global_batch = fn, weights, global_batch
        self._unsettled = False  # a step ended without its barrier

    def __call__(self, *args, **kwargs):
        self._weights.bind(self.settle)
        outputs = self._fn(*args, **kwargs)
        # (not after an error: the processes still running wait in the step's collectives,
        # and the error's handler aborts them all)
        if self.global_batch:
            self._weights.keep()
            self._unsettled = True
        else:
            self._weights.end_step()
        return outputs

    def settle(self) -> None:
        """Wait until every process has written its blocks at the last step, so that whole
        weights can be read. Collective: every process calls it at the same points."""
        if self._unsettled:
            self._unsettled = False
            self._weights.wait()

    @property
    def update_targets(self) -> list:
        """The variables the step updates, with a kernel's (or slot's) whole variable in
        place of this process's block of it: what a caller saves and restores
        (``debug_nan``), a restored value reaching the window at the next step."""
        whole = {id(var_block): var for var, var_block, _ in self._weights.entries}
        return [whole.get(id(v), v) for v in self._fn.update_targets]

    def __getattr__(self, name):
        return getattr(self._fn, name)
