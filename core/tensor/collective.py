"""``allreduce``: sum a tensor over every process of a communicator, inside a graph.

A compiled function that contains ``allreduce`` must run on every process of the
communicator, with the same graph, so that the collectives meet in the same order
(MPI's rule). One process, or no communicator set, makes it an identity.

The communicator is an mpi4py ``Comm`` set with ``set_communicator``;
``layers_on_graph.distribution.initialize()`` sets ``MPI.COMM_WORLD``. The pattern
for a custom training loop with ``core.function`` (data parallel, exact for any split
of the global batch, as long as every process gets the same weights first):

>>> import core.tensor as T
>>> from core import function, shared
>>> from core.tensor.collective import allreduce
>>> n = T.cast(x.shape[0], 'float64')                  # this process's samples
>>> local_grads = T.grad(n * mean_loss, params)         # sums over this process's samples
>>> flat = allreduce(T.concatenate([g.flatten() for g in local_grads] + [n.reshape((1,))]))
>>> # slice flat back into the gradients and divide each by flat[-1], the global count:
>>> # grads are then the gradients of the mean loss over the whole global batch.

The gradient of a sum over processes is the sum over processes of the output
gradients, so a graph differentiated through ``allreduce`` (synchronized batch
normalization) gives each process the gradient of the sum of all processes' costs.
"""
from __future__ import annotations

from ..graph.basic import Apply, Op
from .math import prod
from .type import TensorType
from .variable import as_tensor_variable

_communicator = None


def set_communicator(comm) -> None:
    """Use ``comm`` (an mpi4py communicator, or None for one process) for ``allreduce``."""
    global _communicator
    _communicator = comm


def get_communicator():
    """The communicator ``allreduce`` uses; None when it runs on one process."""
    return _communicator


# id(comm) -> (comm, whether all its processes share one machine's memory)
_SHARES_MEMORY: dict[int, tuple] = {}


def shares_memory(comm) -> bool:
    """Whether ``comm`` is an mpi4py intracommunicator of several processes that all run
    on one machine (collective on the first call for a communicator, as MPI's calls are)."""
    if comm is None or comm.Get_size() == 1:
        return False
    from mpi4py import MPI

    if not isinstance(comm, MPI.Intracomm):
        return False
    known = _SHARES_MEMORY.get(id(comm))
    if known is None or known[0] is not comm:
        node = comm.Split_type(MPI.COMM_TYPE_SHARED)
        known = (comm, node.Get_size() == comm.Get_size())
        node.Free()
        _SHARES_MEMORY[id(comm)] = known
    return known[1]


def shared_memory_fits(comm, nbytes: int) -> bool:
    """Whether every process of ``comm`` can map ``nbytes`` more of shared memory (the free
    space of ``/dev/shm``, where MPICH and Open MPI put shared windows; a container's is
    often 64 MB). Collective: every process gets the same answer."""
    import os

    from mpi4py import MPI

    try:
        stat = os.statvfs("/dev/shm")
        fits = stat.f_bavail * stat.f_frsize >= nbytes
    except OSError:  # no /dev/shm: another system's shared memory, assumed large enough
        fits = True
    return bool(comm.allreduce(fits, op=MPI.LAND))


class AllReduce(Op):
    """Sum of ``x`` over the processes of the current communicator, on every process.

    Every process must pass the same shape and dtype. The output is a new array.
    """

    __props__ = ()
    no_constant_folding = True  # a collective never runs at compile time

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def grad(self, inputs, output_grads):
        return [allreduce(output_grads[0])]

    def R_op(self, inputs, eval_points):
        return [allreduce(eval_points[0])]

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]]

    def __str__(self) -> str:
        return "AllReduce{sum}"


class PackedAllReduce(Op):
    """The sum over processes of several tensors of one dtype, packed into one flat vector.

    ``PackedAllReduce()(a, b)`` is ``allreduce(concatenate([a.flatten(), b.flatten()]))``
    as one node: its kernel copies the inputs into a buffer it keeps between calls and
    reduces that buffer in place (one copy and one collective per call).
    """

    __props__ = ()
    no_constant_folding = True

    def make_node(self, *tensors) -> Apply:
        tensors = [as_tensor_variable(t) for t in tensors]
        if not tensors or len({t.dtype for t in tensors}) != 1:
            raise TypeError(f"allreduce_packed: expected tensors of one dtype, got "
                            f"{[t.dtype for t in tensors]}")
        return Apply(self, tensors, [TensorType(tensors[0].dtype, (None,))()])

    def grad(self, inputs, output_grads):
        total = allreduce(output_grads[0])
        grads, offset = [], 0
        for x in inputs:
            size = prod(x.shape) if x.ndim else 1
            grads.append(total[offset:offset + size].reshape(x.shape, ndim=x.ndim))
            offset = offset + size
        return grads

    def __str__(self) -> str:
        return "PackedAllReduce{sum}"


class PackedProductsAllReduce(PackedAllReduce):
    """``PackedAllReduce`` whose parts flagged in ``products`` are matrix products
    ``a @ b``, each given as its two inputs ``a, b`` and computed straight into its slice of
    the packed buffer: no product array and no copy into the buffer.

    The optimizer makes it from ``PackedAllReduce(dot(a, b), ...)`` (the weight gradients
    of a data-parallel step; ``core/rewrite/collective.py``), after differentiation.
    """

    __props__ = ("products",)

    def __init__(self, products):
        self.products = tuple(bool(p) for p in products)

    def parts(self, inputs: list) -> list[tuple]:
        """``inputs`` grouped by part: ``(a, b)`` for a product, ``(x,)`` for a tensor."""
        return _group(inputs, self.products)

    def make_node(self, *inputs) -> Apply:
        inputs = _checked_parts(type(self).__name__, inputs, self.products)
        return Apply(self, inputs, [TensorType(inputs[0].dtype, (None,))()])

    def grad(self, inputs, output_grads):
        raise NotImplementedError("PackedProductsAllReduce is made by the optimizer after "
                                  "differentiation; differentiate PackedAllReduce(dot(a, b))")

    def __str__(self) -> str:
        return "PackedAllReduce{sum, products=" + "".join(
            "p" if p else "." for p in self.products) + "}"


class PackedExchange(Op):
    """Every process's flattened tensors (one dtype) packed, as ``processes`` outputs:
    output ``q`` is process ``q``'s vector, read where it lies (the processes share one
    machine's memory). Their sum is ``allreduce_packed``; left to the elementwise code that
    reads it (a data-parallel step's optimizer update), the sum costs no pass of its own.

    ``products`` flags the parts given as two matrices ``a, b`` whose product BLAS
    writes into the packed vector (the optimizer's rewrite of ``dot(a, b)`` parts); empty:
    every input is a tensor. Not differentiable (it stands for an already-differentiated
    step's gradients). The outputs are read-only views, valid until the function's next
    call but one.
    """

    __props__ = ("processes", "products")
    no_constant_folding = True

    def __init__(self, processes: int, products=()):
        self.processes, self.products = int(processes), tuple(bool(p) for p in products)

    def parts(self, inputs: list) -> list[tuple]:
        """``inputs`` grouped by part: ``(a, b)`` for a product, ``(x,)`` for a tensor."""
        return _group(inputs, self.products or (False,) * len(inputs))

    def make_node(self, *inputs) -> Apply:
        inputs = _checked_parts("PackedExchange", inputs,
                                self.products or (False,) * len(inputs))
        return Apply(self, inputs, [TensorType(inputs[0].dtype, (None,))()
                                    for _ in range(self.processes)])

    def __str__(self) -> str:
        return f"PackedExchange{{{self.processes}, products=" + "".join(
            "p" if p else "." for p in self.products) + "}"


class ExchangeProduct(Op):
    """Every process's product ``a @ w``, as ``processes`` outputs: output ``q`` is process
    ``q``'s, read where it lies (the processes share one machine's memory). Where each
    process passes a block of the columns of one matrix and the same rows of the other
    (a Dense pair split by its hidden units: ``layers_on_graph/distribution/split_pair.py``),
    their sum is the whole product; left to the elementwise code that reads it (the next
    layer's bias and activation), the sum costs no pass of its own.

    The gradient is that of this process's product (output ``rank``): right where every
    process computes the same function of the sum, as the rest of a split step does.
    The outputs are read-only views, valid until the function's next call but one.
    """

    __props__ = ("processes", "rank")
    no_constant_folding = True

    def __init__(self, processes: int, rank: int):
        self.processes, self.rank = int(processes), int(rank)

    def make_node(self, a, w) -> Apply:
        a, w = as_tensor_variable(a), as_tensor_variable(w)
        if a.ndim != 2 or w.ndim != 2 or a.dtype != w.dtype:
            raise TypeError(f"ExchangeProduct: expected two matrices of one dtype, got "
                            f"{a.type} and {w.type}")
        return Apply(self, [a, w], [TensorType(a.dtype, (a.type.shape[0], w.type.shape[1]))()
                                    for _ in range(self.processes)])

    def grad(self, inputs, output_grads):
        from .math import dot

        a, w = inputs
        g = output_grads[self.rank]
        return [dot(g, w.T), dot(a.T, g)]

    def infer_shape(self, fgraph, node, shapes):
        a, w = shapes
        return [(a[0], w[1])] * self.processes

    def __str__(self) -> str:
        return f"ExchangeProduct{{{self.processes}, rank={self.rank}}}"


def exchange_product(a, w, processes: int, rank: int) -> list:
    """Every process's ``a @ w`` (``ExchangeProduct``), one output per process."""
    return list(ExchangeProduct(processes, rank).make_node(a, w).outputs)


class Unpack(Op):
    """Views of the consecutive pieces of a vector, each reshaped: ``Unpack(shapes)(flat)``
    gives ``flat[0:n0].reshape(shapes[0])``, the next ``n1`` elements as ``shapes[1]``...
    (one node for the parts of a packed collective, where a slice and a reshape per part
    cost a few microseconds of Python each). Not differentiable."""

    __props__ = ("shapes",)

    def __init__(self, shapes):
        self.shapes = tuple(tuple(int(d) for d in shape) for shape in shapes)
        self.view_map = {k: [0] for k in range(len(self.shapes))}

    def make_node(self, flat) -> Apply:
        flat = as_tensor_variable(flat)
        if flat.ndim != 1:
            raise TypeError(f"Unpack: expected a vector, got {flat.type}")
        return Apply(self, [flat], [TensorType(flat.dtype, shape)() for shape in self.shapes])

    def infer_shape(self, fgraph, node, shapes):
        return [shape for shape in self.shapes]


class GatherRows(Op):
    """Every process's rows of each matrix, in process order: output ``k`` stacks the
    ``tensors[k]`` of all processes (an allgather). Every process keeps, for each input,
    room for the most rows it has given; rows it leaves unfilled in a call are zeros, so an
    output may hold more rows than the processes gave, all zero. That is harmless to its
    use, a product that sums over rows: the weight gradient ``gathered_x.T @
    gathered_delta`` of a data-parallel step (``layers_on_graph/distribution``).

    With every process on one machine the outputs are read where they lie (an MPI
    shared-memory window); they are read-only views, valid until the node's next call.
    Not differentiable (it stands after differentiation).
    """

    __props__ = ("processes",)
    no_constant_folding = True

    def __init__(self, processes: int):
        self.processes = int(processes)

    def make_node(self, *tensors) -> Apply:
        tensors = [as_tensor_variable(t) for t in tensors]
        if not tensors or any(t.ndim != 2 for t in tensors):
            raise TypeError(f"GatherRows: expected matrices, got {[t.type for t in tensors]}")
        return Apply(self, tensors, [TensorType(t.dtype, (None, t.type.shape[1]))()
                                     for t in tensors])

    def __str__(self) -> str:
        return f"GatherRows{{{self.processes}}}"


def gather_rows(tensors, processes: int) -> list:
    """Every process's rows of each matrix in ``tensors``, stacked in process order, with
    zero rows where a process gave fewer than before (``GatherRows``)."""
    return list(GatherRows(processes).make_node(*tensors).outputs)


def _group(inputs: list, products: tuple) -> list[tuple]:
    parts, k = [], 0
    for product in products:
        parts.append(tuple(inputs[k:k + 2]) if product else (inputs[k],))
        k += 2 if product else 1
    return parts


def _checked_parts(name: str, inputs, products: tuple) -> list:
    inputs = [as_tensor_variable(t) for t in inputs]
    if not inputs or len(inputs) != sum(2 if p else 1 for p in products):
        raise TypeError(f"{name}: {len(inputs)} inputs for the parts {products}")
    parts = _group(inputs, products)
    if any(len(p) == 2 and (p[0].ndim, p[1].ndim) != (2, 2) for p in parts):
        raise TypeError(f"{name}: products take two matrices, got "
                        f"{[[t.type for t in p] for p in parts if len(p) == 2]}")
    dtypes = {t.dtype for t in inputs}
    if len(dtypes) != 1:
        raise TypeError(f"{name}: expected one dtype, got {sorted(dtypes)}")
    return inputs


def exchange_packed(tensors, processes: int) -> list:
    """Each process's flattened ``tensors`` (one dtype), concatenated, as one output per
    process (``PackedExchange``): ``sum(exchange_packed(ts, n))`` is ``allreduce_packed(ts)``.
    For processes that share one machine (``shares_memory(get_communicator())``)."""
    return list(PackedExchange(processes).make_node(*tensors).outputs)


def allreduce_packed(tensors):
    """``allreduce`` of the flattened ``tensors`` (one dtype), concatenated: one collective.

    Examples
    --------
    >>> flat = allreduce_packed([g.flatten() for g in grads])   # then slice it back
    """
    return PackedAllReduce()(*tensors)


def allreduce(x):
    """Sum ``x`` over every process (an identity on one process).

    Examples
    --------
    >>> total = allreduce(T.sum(local_errors))   # the same value on every process
    """
    return AllReduce()(x)


__all__ = ["AllReduce", "ExchangeProduct", "GatherRows", "PackedAllReduce", "PackedExchange",
           "PackedProductsAllReduce", "Unpack", "allreduce", "allreduce_packed",
           "exchange_packed", "exchange_product", "gather_rows", "get_communicator",
           "set_communicator", "shared_memory_fits", "shares_memory"]
