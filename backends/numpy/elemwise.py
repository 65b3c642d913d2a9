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


@registry.register(Elemwise)
def elemwise_kernel(node):
    fn = scalar_impl(node.op.scalar_op)
    out_dtype = np.dtype(node.outputs[0].dtype)
    # Inputs with an axis that must not broadcast at run time.
    strict = [i for i, v in enumerate(node.inputs) if not all(v.type.broadcastable)]
    destroy = dict(node.op.inplace_pattern)

    inplace_input = destroy.get(0) if isinstance(fn, np.ufunc) else None
    if len(node.outputs) > 1:
        return _multi_output_kernel(node, fn, strict)

    def kernel(*inputs):
        if inplace_input is not None:
            target = inputs[inplace_input]
            if type(target) is np.ndarray and target.dtype == out_dtype and target.flags.writeable:
                res = fn(*inputs, out=target)
            else:
                res = fn(*inputs)
        else:
            res = fn(*inputs)
        if res.dtype != out_dtype:
            res = res.astype(out_dtype)
        shape = res.shape
        for i in strict:
            if inputs[i].shape != shape:
                err = _broadcast_error(node, inputs, shape)
                if err is not None:
                    raise err
        if not shape:
            res = np.asarray(res)
        return res

    return kernel


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
    op = node.op
    drop, shuffle, order = op.drop, op.shuffle, op.new_order
    n_out = len(order)

    def kernel(x):
        if drop:
            x = x.reshape([s for d, s in enumerate(x.shape) if d not in drop]) if x.ndim else x
            kept = [d for d in range(op.input_ndim) if d not in drop]
            perm = [kept.index(d) for d in shuffle]
        else:
            perm = shuffle
        y = np.transpose(x, perm) if perm else np.asarray(x)
        shape = [1] * n_out
        it = iter(y.shape)
        for i, d in enumerate(order):
            if d != "x":
                shape[i] = next(it)
        return y.reshape(shape)

    return kernel
