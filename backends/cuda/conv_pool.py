"""conv2d (forward and both gradients) by im2col/col2im and one cuBLAS product, on cupy
arrays in (N, C, H, W) layout; pool_2d and its gradients are the numpy backend's kernels
run with ``xp=cupy``.

Each kernel tap is one strided slice copy (im2col) or add (col2im) on the device, over
an explicitly padded input; the products go through ``cupy.matmul``/``tensordot``.
(The numpy conv kernels are shaped by the CPU: BLAS per batch entry, kept scratch
buffers, layout-dependent im2col; on the device one batched product serves.)
"""
from __future__ import annotations

from functools import partial

import cupy as cp

from core.tensor.conv import (Conv2d, Conv2dBiasAct, Conv2dGradInputs, Conv2dGradWeights,
                              ReluBiasGrad)
from core.tensor.grouped_conv import (GroupedConv2d, GroupedConv2dBiasAct,
                                      GroupedConv2dGradInputs, GroupedConv2dGradWeights)
from core.tensor.signal.pool import (AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad,
                                     MaxPoolReluBiasGrad, Pool)

from ..numpy.conv import _check, _check_g, _geometry, check_bias, relu_bias_grad
from ..numpy import grouped_conv as numpy_grouped_conv, pool as numpy_pool
from .kernels import _dev, registry


def _window(a, i0: int, j0: int, n_rows: int, n_cols: int, stride):
    """The (..., n_rows, n_cols) strided view of ``a`` starting at (i0, j0)."""
    sh, sw = stride
    return a[..., i0:i0 + sh * (n_rows - 1) + 1:sh, j0:j0 + sw * (n_cols - 1) + 1:sw]


def _im2col(op, x, kh: int, kw: int):
    """(cols (N, C*kh*kw, Ho*Wo), Ho, Wo, paddings) of ``x`` for ``op``'s geometry."""
    n, c = x.shape[:2]
    ph, pw, ho, wo = _geometry(op, x.shape[2:], (kh, kw))
    (dh, dw) = op.filter_dilation
    xp = cp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    cols = cp.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = _window(xp, i * dh, j * dw, ho, wo, op.subsample)
    return cols.reshape(n, c * kh * kw, ho * wo), ho, wo, (ph, pw)


def _filters(op, w):
    return w[:, :, ::-1, ::-1] if op.filter_flip else w


@registry.register(Conv2d)
def conv2d_kernel(node):
    op = node.op

    def kernel(x, w):
        x, w = _dev(x), _dev(w)
        _check(x.shape, w.shape, op)
        f, c, kh, kw = w.shape
        cols, ho, wo, _ = _im2col(op, x, kh, kw)
        wmat = cp.ascontiguousarray(_filters(op, w)).reshape(f, c * kh * kw)
        return cp.matmul(wmat, cols).reshape(x.shape[0], f, ho, wo)

    return kernel


@registry.register(Conv2dBiasAct)
def conv2d_bias_act_kernel(node):
    conv, relu = conv2d_kernel(node), node.op.activation == "relu"

    def kernel(x, w, b):
        out = conv(x, w) + check_bias(node.op, _dev(b), w.shape[0]).reshape(-1, 1, 1)
        return cp.maximum(out, 0) if relu else out

    return kernel


@registry.register(ReluBiasGrad)
def relu_bias_grad_kernel(node):
    inplace = node.op.inplace
    return lambda out, g: relu_bias_grad(_dev(out), _dev(g), inplace)


@registry.register(Conv2dGradWeights)
def conv2d_grad_weights_kernel(node):
    op = node.op

    def kernel(x, g, kshape):
        x, g = _dev(x), _dev(g)
        kh, kw = (int(k) for k in kshape)
        n, c = x.shape[:2]
        f = g.shape[1]
        cols, ho, wo, _ = _im2col(op, x, kh, kw)
        _check_g(op, g, (n, f, ho, wo))
        gw = cp.tensordot(g.reshape(n, f, ho * wo), cols, axes=([0, 2], [0, 2]))
        return cp.ascontiguousarray(_filters(op, gw.reshape(f, c, kh, kw)))

    return kernel


@registry.register(Conv2dGradInputs)
def conv2d_grad_inputs_kernel(node):
    op = node.op

    def kernel(w, g, ishape):
        w, g = _dev(w), _dev(g)
        h, wd = (int(s) for s in ishape)
        f, c, kh, kw = w.shape
        n = g.shape[0]
        ph, pw, ho, wo = _geometry(op, (h, wd), (kh, kw))
        _check_g(op, g, (n, f, ho, wo))
        wmat = cp.ascontiguousarray(_filters(op, w)).reshape(f, c * kh * kw)
        dcols = cp.matmul(wmat.T, g.reshape(n, f, ho * wo)).reshape(n, c, kh, kw, ho, wo)
        dxp = cp.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=dcols.dtype)
        (dh, dw) = op.filter_dilation
        for i in range(kh):  # col2im: one strided add per tap
            for j in range(kw):
                _window(dxp, i * dh, j * dw, ho, wo, op.subsample)[...] += dcols[:, :, i, j]
        return dxp[:, :, ph:ph + h, pw:pw + wd]

    return kernel


# pool_2d and its gradients: the numpy kernels (a strided slice op per window tap) on cupy
for _cls, _factory in ((Pool, numpy_pool.pool_kernel),
                       (MaxPoolGrad, numpy_pool.max_pool_grad_kernel),
                       (MaxPoolGradGrad, numpy_pool.max_pool_grad_grad_kernel),
                       (MaxPoolReluBiasGrad, numpy_pool.max_pool_relu_bias_grad_kernel),
                       (AveragePoolGrad, numpy_pool.average_pool_grad_kernel)):
    registry.register(_cls)(partial(_factory, xp=cp))

# grouped and depthwise conv2d: the numpy kernels (one einsum or multiply per tap) on cupy
registry.register(GroupedConv2d)(partial(numpy_grouped_conv.grouped_conv2d_kernel, xp=cp))
registry.register(GroupedConv2dBiasAct)(
    partial(numpy_grouped_conv.grouped_conv2d_bias_act_kernel, xp=cp))
registry.register(GroupedConv2dGradInputs)(
    partial(numpy_grouped_conv.grouped_conv2d_grad_inputs_kernel, xp=cp))
registry.register(GroupedConv2dGradWeights)(
    partial(numpy_grouped_conv.grouped_conv2d_grad_weights_kernel, xp=cp))
