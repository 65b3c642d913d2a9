"""CUDA kernels on cupy arrays: one factory per op class, ``make_kernels`` for a function.

Float work runs on the device: generated elementwise kernels (``codegen``), cupy's
reductions, cuBLAS products (``cupy.matmul``), the softmax family as cupy expressions.
Shape values (``Shape``, ``MakeVector`` and elementwise arithmetic on them) stay small
numpy arrays on the host, where the numpy kernels run them: reading a shape back from
the device would stall every call. An op without a kernel here fails at compile time.
"""
from __future__ import annotations

from functools import partial

import cupy as cp
import numpy as np

from core.graph.basic import Constant
from core.ifelse import IfElse
from core.scan.op import Scan, ScanGrad
from core.tensor import scalar_ops as ps
from core.tensor.blas import Gemm
from core.tensor.elemwise import DimShuffle, Elemwise
from core.tensor.extra import BatchedDot
from core.tensor.join import ARange, Eye, Join, Repeat, Split
from core.tensor.math import Argmax, Argmin, CAReduce, Dot
from core.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              LogSoftmax, Softmax, SoftmaxGrad)
from core.tensor.rewritten_ops import (CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx,
                                       DotElemwiseDot, LogSumExp)
from core.tensor.shape_ops import Alloc, MakeVector, Rebroadcast, Reshape, Shape, Shape_i
from core.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                   Subtensor)

from ..base import Kernel
from ..numpy import nnet as numpy_nnet, registry as numpy_registry
from ..numpy import rewritten_ops as numpy_rewritten
from ..numpy.scan import scan_grad_kernel, scan_kernel
from ..numpy import subtensor as numpy_subtensor
from ..registry import KernelRegistry
from ..scalar_c import Unsupported
from .codegen import ElemwiseSource, preamble

registry = KernelRegistry("cuda")
BLOCK = 256
MAX_GRID = 65536  # blocks per launch; the kernels loop over the rest


def _dev(a):
    """``a`` on the device (host arrays are copied there)."""
    return cp.asarray(a) if type(a) is np.ndarray else a


def _host(a):
    return cp.asnumpy(a) if isinstance(a, cp.ndarray) else a


def _on_host(inputs) -> bool:
    return all(type(a) is np.ndarray for a in inputs)


def make_kernels(nodes) -> list[Kernel]:
    """One kernel per node; ``NotImplementedError`` naming every op without a CUDA kernel."""
    missing = [str(n.op) for n in nodes if registry.lookup(n.op) is None]
    if missing:
        raise NotImplementedError(f"the cuda backend has no kernel for {', '.join(missing)}")
    return [Kernel(_with_device_constants(node, registry.make_kernel(node)), "cuda")
            for node in nodes]


def _with_device_constants(node, kernel):
    """``kernel`` given its float constants as device arrays uploaded once (the linker
    passes constants as numpy arrays; integer ones are shapes and indices, read on the
    host). Elemwise kernels inline or upload their constants themselves."""
    if isinstance(node.op, Elemwise):
        return kernel
    consts = {k: cp.asarray(v.data) for k, v in enumerate(node.inputs)
              if isinstance(v, Constant) and np.asarray(v.data).dtype.kind == "f"}
    if not consts:
        return kernel

    def run(*args):
        return kernel(*[consts.get(k, a) for k, a in enumerate(args)])

    return run


# --- elementwise -------------------------------------------------------------------

_MODULES: dict = {}  # source -> compiled cupy module (cupy caches the binary on disk too)


def _functions(source: ElemwiseSource):
    module = _MODULES.get(source.source)
    if module is None:
        module = _MODULES[source.source] = cp.RawModule(code=preamble() + source.source)
    return module.get_function(source.name + "_c"), module.get_function(source.name + "_s")


def _grid(n: int) -> tuple:
    return (min((n + BLOCK - 1) // BLOCK, MAX_GRID),)


def _broadcast_shape(node, arrays: list, static: list) -> tuple:
    """The output shape; an axis of size 1 where the others differ must be declared
    broadcastable (broadcasting is static, as in the numpy reference)."""
    ndim = node.outputs[0].type.ndim
    shape = []
    for d in range(ndim):
        sizes = {a.shape[d] for a in arrays} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{node.op}: inputs of shapes {[a.shape for a in arrays]} do not "
                             f"match in axis {d}")
        size = sizes.pop() if sizes else 1
        for a, st in zip(arrays, static):
            if a.shape[d] == 1 and size != 1 and st[d] != 1:
                raise ValueError(
                    f"{node.op}: an input has shape {a.shape}, and its axis {d} has size 1 but "
                    f"is not declared broadcastable, while the other inputs have size {size} "
                    f"there; declare it broadcastable (T.row / T.col, shape=(1, None))")
        shape.append(size)
    return tuple(shape)


@registry.register(Elemwise)
def elemwise_kernel(node):
    try:
        source = ElemwiseSource(node)
    except Unsupported as exc:
        raise NotImplementedError(f"the cuda backend has no kernel for {node.op}: {exc}") from None
    contiguous, strided = _functions(source)
    host_kernel = numpy_registry.make_kernel(node)  # for shape arithmetic on the host
    passed, arrays = source.passed, source.arrays
    consts = {k: cp.asarray(node.inputs[k].data) for k in passed
              if isinstance(node.inputs[k], Constant)}
    static = [node.inputs[k].type.shape for k in arrays]
    out_dtypes = [np.dtype(d) for d in source.out_dtypes]
    targets = dict(node.op.inplace_pattern)
    ndim = source.ndim

    def kernel(*inputs):
        if _on_host(inputs):
            return host_kernel(*inputs)
        values = [consts[k] if k in consts else _dev(inputs[k]) for k in range(len(inputs))]
        operands = [values[k] for k in arrays]
        shape = _broadcast_shape(node, operands, static) if operands else (1,) * ndim
        outs = []
        for j, dtype in enumerate(out_dtypes):
            t = targets.get(j)
            v = values[t] if t is not None else None
            if (v is not None and v.shape == shape and v.dtype == dtype
                    and v.flags.c_contiguous and not isinstance(node.inputs[t], Constant)):
                outs.append(v)
            else:
                outs.append(cp.empty(shape, dtype))
        n = int(np.prod(shape, dtype=np.int64))
        if n:
            args = [values[k] for k in passed]
            if all(a.shape == shape and a.flags.c_contiguous for a in operands):
                contiguous(_grid(n), (BLOCK,), (np.int64(n), *outs, *args))
            else:
                strides = [np.int64(0 if a.shape[d] == 1 else a.strides[d] // a.itemsize)
                           for a in operands for d in range(ndim)]
                strided(_grid(n), (BLOCK,), (np.int64(n), *[np.int64(s) for s in shape],
                                             *outs, *args, *strides))
        return outs[0] if len(outs) == 1 else tuple(outs)

    return kernel


# Views, checks and shapes (host values) written against the array interface only: the
# numpy kernels serve.
for _cls in (DimShuffle, Rebroadcast, Split, IfElse, Shape, Shape_i):
    registry.register(_cls)(numpy_registry.lookup_class(_cls))
# Kernels written once over the array module: numpy's, with xp=cupy.
for _cls in (Alloc, ARange, Eye, Subtensor, AdvancedSubtensor):
    registry.register(_cls)(partial(numpy_registry.lookup_class(_cls), xp=cp))


def _loop_kernel(driver):
    """The scan driver shared with the numpy backend, over cupy buffers: the step program
    (compiled by this backend) runs on the device; every input but the step count goes
    to the device first."""
    def factory(node):
        kernel = driver(node, xp=cp)
        return lambda n_steps, *args: kernel(n_steps, *[_dev(a) for a in args])

    return factory


registry.register(Scan)(_loop_kernel(scan_kernel))
registry.register(ScanGrad)(_loop_kernel(scan_grad_kernel))


# --- reductions and products -----------------------------------------------------

_REDUCERS = {ps.Add: cp.sum, ps.Mul: cp.prod, ps.Maximum: cp.amax, ps.Minimum: cp.amin,
             ps.AND: cp.all, ps.OR: cp.any}


@registry.register(CAReduce)
def careduce_kernel(node):
    op = node.op
    reduce = _REDUCERS.get(type(op.scalar_op))
    if reduce is None:
        raise NotImplementedError(f"the cuda backend has no kernel for {op}")
    axis, dtype = op.axis, np.dtype(node.outputs[0].dtype)
    typed = reduce in (cp.sum, cp.prod)
    identity = reduce not in (cp.amax, cp.amin)

    def kernel(x):
        x = _dev(x)
        if not identity and x.size == 0 and axis:
            raise ValueError(f"{op}: cannot reduce an empty array of shape {x.shape}")
        res = reduce(x, axis=axis, dtype=dtype) if typed else reduce(x, axis=axis)
        return res if res.dtype == dtype else res.astype(dtype)

    return kernel


@registry.register(Argmax)
def argmax_kernel(node):
    fn = cp.argmin if isinstance(node.op, Argmin) else cp.argmax
    axis = node.op.axis
    return lambda x: fn(_dev(x), axis=axis).astype(np.int64)


@registry.register(Dot)
def dot_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)
    return lambda x, y: cp.dot(_dev(x).astype(dtype, copy=False), _dev(y).astype(dtype, copy=False))


@registry.register(BatchedDot)
def batched_dot_kernel(node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x, y):
        x, y = _dev(x), _dev(y)
        if x.shape[2] != y.shape[1]:
            raise ValueError(f"batched_dot: shapes {x.shape} and {y.shape} are not aligned")
        return cp.matmul(x.astype(dtype, copy=False), y.astype(dtype, copy=False))

    return kernel


@registry.register(Gemm)
def gemm_kernel(node):
    inplace = node.op.inplace

    def kernel(z, a, x, y, b):
        z, x, y = _dev(z), _dev(x), _dev(y)
        if z.shape != (x.shape[0], y.shape[1]) or x.shape[1] != y.shape[0]:
            raise ValueError(f"Gemm: shapes z {z.shape}, x {x.shape}, y {y.shape} do not fit "
                             f"b * z + a * (x @ y)")
        a, b = _dev(a).astype(z.dtype), _dev(b).astype(z.dtype)
        product = cp.matmul(x, y)  # cuBLAS; a transposed operand is read as such
        product *= a
        if inplace and z.flags.c_contiguous:
            z *= b
            z += product
            return z
        return z * b + product

    return kernel


# --- softmax family, crossentropies, dot-elementwise-dot: the numpy kernels on cupy --------

for _cls, _factory in ((Softmax, numpy_nnet.softmax_kernel),
                       (SoftmaxGrad, numpy_nnet.softmax_grad_kernel),
                       (LogSoftmax, numpy_nnet.log_softmax_kernel),
                       (CrossentropyCategorical1Hot, numpy_nnet.crossentropy_1hot_kernel),
                       (CrossentropyCategorical1HotGrad, numpy_nnet.crossentropy_1hot_grad_kernel),
                       (LogSumExp, numpy_rewritten.logsumexp_kernel),
                       (CrossentropySoftmax1Hot, numpy_rewritten.xent_softmax_kernel),
                       (CrossentropySoftmax1HotDx, numpy_rewritten.xent_softmax_dx_kernel)):
    registry.register(_cls)(partial(_factory, xp=cp))
registry.register(DotElemwiseDot)(partial(numpy_rewritten.dot_elemwise_dot_kernel, xp=cp,
                                          kernels=registry))


# --- shapes (on the host), joins, indexing -----------------------------------------------

@registry.register(MakeVector)
def make_vector_kernel(node):
    dtype = np.dtype(node.op.dtype)

    def kernel(*xs):
        vector = np.array([_host(x) for x in xs], dtype=dtype)
        return vector if _on_host(xs) else cp.asarray(vector)

    return kernel


@registry.register(Reshape)
def reshape_kernel(node):
    def kernel(x, shape):
        shape = tuple(int(s) for s in _host(shape))
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                             f"(size {x.size}) into shape {shape}") from None

    return kernel


@registry.register(Join)
def join_kernel(node):
    axis = node.op.axis
    return lambda *xs: cp.concatenate([_dev(x) for x in xs], axis=axis)


@registry.register(Repeat)
def repeat_kernel(node):
    axis = node.op.axis
    return lambda x, repeats: cp.repeat(_dev(x), int(_host(repeats)), axis=axis)


@registry.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor_kernel(node):
    import cupyx

    return numpy_subtensor.inc_subtensor_kernel(node, xp=cp, add_at=cupyx.scatter_add)


from . import conv_pool, host_staged, random  # noqa: E402,F401  (conv2d and pooling; identities, MPI; random streams)
