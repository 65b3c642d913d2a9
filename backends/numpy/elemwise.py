"""Elemwise and DimShuffle kernels."""
from __future__ import annotations

import numpy as np

from core.tensor.elemwise import DimShuffle, Elemwise

from . import registry
from .scalar import scalar_impl


def _broadcast_error(node, inputs, out_shape):
    for i, (var, val) in enumerate(zip(node.inputs, inputs)):
        for axis, (static, got) in enumerate(zip(var.type.shape, np.shape(val))):
            if static != 1 and got == 1 and out_shape[axis] != 1:
                return ValueError(
                    f"{node.op}: input {i} has shape {np.shape(val)}, and its axis {axis} has size 1 "
                    f"but is not declared broadcastable ({var.type}), while the other inputs have "
                    f"size {out_shape[axis]} there. Broadcasting is static, as in Theano: declare "
                    f"the axis broadcastable (T.row / T.col, or shape=(1, None)-style static "
                    f"shapes), or use x.dimshuffle / T.addbroadcast")
    return None


def _strict_inputs(node) -> list[int]:
    """Inputs that could broadcast at run time where their type says they must not.

    Input i needs a run-time check on axis d only if its static size there is
    unknown and some other input's is not 1 (else the output is 1 there too).
    """
    shapes = [v.type.shape for v in node.inputs]
    return [i for i, shape in enumerate(shapes)
            if any(s is None and any(o[d] != 1 for j, o in enumerate(shapes) if j != i)
                   for d, s in enumerate(shape))]


def _natural_dtype(fn, dtypes):
    """The dtype ``fn`` gives for inputs of ``dtypes``, or None if unsure."""
    try:
        with np.errstate(all="ignore"):
            res = fn(*[np.ones(1, dtype=d) for d in dtypes])
        return np.asarray(res).dtype
    except Exception:
        return None


def _upcasting(fn, positions, dtype):
    """``fn`` with the inputs at ``positions`` converted to ``dtype`` first."""
    def upcast_fn(*inputs):
        inputs = list(inputs)
        for i in positions:
            inputs[i] = inputs[i].astype(dtype)
        return fn(*inputs)

    return upcast_fn


@registry.register(Elemwise)
def elemwise_kernel(node):
    fn = scalar_impl(node.op.scalar_op, len(node.inputs))
    strict = _strict_inputs(node)
    if len(node.outputs) > 1:
        return _multi_output_kernel(node, fn, strict)
    out_dtype = np.dtype(node.outputs[0].dtype)
    natural = _natural_dtype(fn, [v.type.dtype for v in node.inputs])
    # numpy computes exp(int8) in float16; compute in the output's float type instead
    upcast = tuple(i for i, v in enumerate(node.inputs) if np.dtype(v.type.dtype).kind in "biu") \
        if natural != out_dtype and out_dtype.kind in "fc" else ()
    if upcast:
        fn = _upcasting(fn, upcast, out_dtype)
        natural = _natural_dtype(fn, [v.type.dtype for v in node.inputs])
    needs_cast = natural != out_dtype
    zero_d = node.outputs[0].ndim == 0
    target = dict(node.op.inplace_pattern).get(0) if isinstance(fn, np.ufunc) else None
    target_ok = target is not None and node.inputs[target].type.shape == node.outputs[0].type.shape

    def check(inputs, res):
        shape = res.shape
        for i in strict:
            if inputs[i].shape != shape:
                err = _broadcast_error(node, inputs, shape)
                if err is not None:
                    raise err

    if strict or needs_cast or zero_d or target_ok:
        def kernel(*inputs):
            if target_ok and inputs[target].dtype == out_dtype and inputs[target].flags.writeable:
                res = fn(*inputs, out=inputs[target])
            else:
                res = fn(*inputs)
            if needs_cast and res.dtype != out_dtype:
                res = res.astype(out_dtype)
            if strict:
                check(inputs, res)
            return np.asarray(res) if zero_d else res

        return kernel
    return fn  # the ufunc itself: nothing to check, convert or wrap


def _multi_output_kernel(node, fn, strict):
    """An Elemwise with several outputs (a fused Composite): ``fn`` returns a tuple."""
    dtypes = [np.dtype(o.dtype) for o in node.outputs]

    def kernel(*inputs):
        shape = np.broadcast_shapes(*[np.shape(i) for i in inputs])
        for i in strict:
            if inputs[i].shape != shape:
                err = _broadcast_error(node, inputs, shape)
                if err is not None:
                    raise err
        return tuple(np.array(np.broadcast_to(r, shape), dtype=d) if np.shape(r) != shape
                     else np.asarray(r, dtype=d) for r, d in zip(fn(*inputs), dtypes))

    return kernel


@registry.register(DimShuffle)
def dimshuffle_kernel(node):
    """A view: squeeze the dropped axes, transpose the kept ones, index in the new ones."""
    op = node.op
    kept = [d for d in range(op.input_ndim) if d not in op.drop]
    perm = tuple(kept.index(d) for d in op.shuffle)
    identity = perm == tuple(range(len(perm)))
    new_index = tuple(None if d == "x" else slice(None) for d in op.new_order)

    def kernel(x):
        if op.drop:
            x = x.squeeze(op.drop)  # raises unless those axes have size 1
        if not identity:
            x = x.transpose(perm)
        return x[new_index]

    return kernel
