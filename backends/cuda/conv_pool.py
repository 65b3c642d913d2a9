"""conv2d (forward and both gradients) by im2col/col2im and one cuBLAS product, and
pool_2d with its gradients, on cupy arrays in (N, C, H, W) layout.

Each kernel tap is one strided slice copy (im2col) or add (col2im) on the device, over
an explicitly padded input; the products go through ``cupy.matmul``/``tensordot``.
"""
from __future__ import annotations

import cupy as cp

from core.tensor.conv import (Conv2d, Conv2dBiasAct, Conv2dGradInputs, Conv2dGradWeights,
                              ReluBiasGrad)
from core.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

from ..numpy.conv import _check, _check_g, _geometry, check_bias, relu_bias_grad
from ..numpy.pool import _counts, _fill, check_output_grad
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
    return lambda out, g: relu_bias_grad(_dev(out), _dev(g))


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


def _pads(op, shape):
    """(pads, Ho, Wo): ``op.pad`` on both sides and, without ignore_border, more on the
    far side so that every output window lies inside the padded input."""
    ho, wo = op.out_shape(shape)[-2:]
    extra = [max(0, (o - 1) * s + k - (size + 2 * p))
             for o, s, k, size, p in zip((ho, wo), op.stride, op.ws, shape[-2:], op.pad)]
    pads = [(0, 0)] * (len(shape) - 2) + [(op.pad[0], op.pad[0] + extra[0]),
                                          (op.pad[1], op.pad[1] + extra[1])]
    return pads, ho, wo


def _padded(op, x, fill):
    pads, ho, wo = _pads(op, x.shape)
    return cp.pad(x, pads, constant_values=fill), ho, wo


def _taps(op):
    return [(i, j) for i in range(op.ws[0]) for j in range(op.ws[1])]


def _crop(op, a, shape):
    (ph, pw) = op.pad
    return cp.ascontiguousarray(a[..., ph:ph + shape[-2], pw:pw + shape[-1]])


@registry.register(Pool)
def pool_kernel(node):
    op = node.op

    def kernel(x):
        x = _dev(x)
        xp, ho, wo = _padded(op, x, _fill(op, x.dtype))
        windows = [_window(xp, i, j, ho, wo, op.stride) for i, j in _taps(op)]
        out = windows[0].copy()
        for win in windows[1:]:
            if op.mode == "max":
                cp.maximum(out, win, out=out)
            else:
                out += win
        if op.mode not in ("max", "sum"):
            out /= cp.asarray(_counts(op, *x.shape[-2:], ho, wo, x.dtype))
        return out

    return kernel


@registry.register(MaxPoolGrad)
def max_pool_grad_kernel(node):
    op = node.op

    def kernel(x, maxout, gz):
        x, maxout, gz = _dev(x), _dev(maxout), _dev(gz)
        xp, ho, wo = _padded(op, x, _fill(op, x.dtype))
        check_output_grad(op, gz, x.shape, ho, wo)
        if maxout.shape != gz.shape:
            raise ValueError(f"{op}: pooled output of shape {maxout.shape}, expected {gz.shape}")
        gxp = cp.zeros(xp.shape, dtype=gz.dtype)
        zero = cp.zeros((), dtype=gz.dtype)
        for i, j in _taps(op):  # every maximal element of a window gets its gradient
            hit = _window(xp, i, j, ho, wo, op.stride) == maxout
            _window(gxp, i, j, ho, wo, op.stride)[...] += cp.where(hit, gz, zero)
        return _crop(op, gxp, x.shape)

    return kernel


@registry.register(MaxPoolGradGrad)
def max_pool_grad_grad_kernel(node):
    op = node.op

    def kernel(x, maxout, g):
        x, maxout, g = _dev(x), _dev(maxout), _dev(g)
        xp, ho, wo = _padded(op, x, _fill(op, x.dtype))
        gp = cp.pad(g, _pads(op, x.shape)[0])  # g's pixels where x's sit inside xp
        out = cp.zeros(maxout.shape, dtype=g.dtype)
        zero = cp.zeros((), dtype=g.dtype)
        for i, j in _taps(op):
            hit = _window(xp, i, j, ho, wo, op.stride) == maxout
            out += cp.where(hit, _window(gp, i, j, ho, wo, op.stride), zero)
        return out

    return kernel


@registry.register(AveragePoolGrad)
def average_pool_grad_kernel(node):
    op = node.op

    def kernel(x, gz):
        x, gz = _dev(x), _dev(gz)
        xp, ho, wo = _padded(op, x, 0)
        check_output_grad(op, gz, x.shape, ho, wo)
        g = gz if op.mode == "sum" else gz / cp.asarray(_counts(op, *x.shape[-2:], ho, wo, gz.dtype))
        gxp = cp.zeros(xp.shape, dtype=gz.dtype)
        for i, j in _taps(op):
            _window(gxp, i, j, ho, wo, op.stride)[...] += g
        return _crop(op, gxp, x.shape)

    return kernel
