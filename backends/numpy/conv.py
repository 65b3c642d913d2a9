"""conv2d kernels: im2col by stride tricks, then BLAS products; col2im loops over kernel taps only."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from core.tensor.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv_padding

from . import registry


def _geometry(op, in_hw, k_hw):
    """Paddings and output size for input ``in_hw`` and kernel ``k_hw``."""
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    ph, pw = conv_padding(op.border_mode, k_hw, op.filter_dilation)
    ho = (in_hw[0] + 2 * ph - ((k_hw[0] - 1) * dh + 1)) // sh + 1
    wo = (in_hw[1] + 2 * pw - ((k_hw[1] - 1) * dw + 1)) // sw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: an input of spatial shape {tuple(in_hw)} is smaller than the "
                         f"(dilated) filters {tuple(k_hw)} with border_mode={op.border_mode!r}")
    return ph, pw, ho, wo


def _pad(x, ph, pw):
    if not (ph or pw):
        return x
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), dtype=x.dtype)
    out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return out


def _im2col(xp, kh, kw, ho, wo, op):
    """``(N, C*kh*kw, ho*wo)``: each column holds the input patch under one output pixel."""
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    view = as_strided(xp, (n, c, kh, kw, ho, wo), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw),
                      writeable=False)
    return view.reshape(n, c * kh * kw, ho * wo)


def _effective(w, op):
    return w[:, :, ::-1, ::-1] if op.filter_flip else w


def _check(x_shape, w_shape, op):
    if x_shape[1] != w_shape[1]:
        raise ValueError(f"{op}: the input has {x_shape[1]} channels (shape {x_shape}) but the "
                         f"filters of shape {w_shape} expect {w_shape[1]}")


@registry.register(Conv2d)
def conv2d_kernel(node):
    op = node.op

    def kernel(x, w):
        _check(x.shape, w.shape, op)
        f, c, kh, kw = w.shape
        ph, pw, ho, wo = _geometry(op, x.shape[2:], (kh, kw))
        cols = _im2col(_pad(x, ph, pw), kh, kw, ho, wo, op)
        w2 = _effective(w, op).reshape(f, c * kh * kw)
        return np.matmul(w2, cols).reshape(x.shape[0], f, ho, wo)

    return kernel


@registry.register(Conv2dGradWeights)
def conv2d_grad_weights_kernel(node):
    op = node.op

    def kernel(x, g, kshape):
        kh, kw = (int(k) for k in kshape)
        n, c = x.shape[:2]
        f = g.shape[1]
        ph, pw, ho, wo = _geometry(op, x.shape[2:], (kh, kw))
        if g.shape != (n, f, ho, wo):
            raise ValueError(f"{op}: output gradient of shape {g.shape}, expected {(n, f, ho, wo)}")
        cols = _im2col(_pad(x, ph, pw), kh, kw, ho, wo, op)
        # one GEMM per batch entry, then a sum: cheaper than tensordot's transposed copies
        gw = np.matmul(g.reshape(n, f, ho * wo), cols.transpose(0, 2, 1)).sum(axis=0)
        gw = gw.reshape(f, c, kh, kw)
        return np.ascontiguousarray(_effective(gw, op))

    return kernel


@registry.register(Conv2dGradInputs)
def conv2d_grad_inputs_kernel(node):
    op = node.op
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation

    def kernel(w, g, ishape):
        h, wd = (int(s) for s in ishape)
        f, c, kh, kw = w.shape
        n = g.shape[0]
        ph, pw, ho, wo = _geometry(op, (h, wd), (kh, kw))
        if g.shape != (n, f, ho, wo):
            raise ValueError(f"{op}: output gradient of shape {g.shape}, expected {(n, f, ho, wo)}")
        w2 = _effective(w, op).reshape(f, c * kh * kw)
        dcols = np.matmul(w2.T, g.reshape(n, f, ho * wo)).reshape(n, c, kh, kw, ho, wo)
        dx = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=dcols.dtype)
        for i in range(kh):  # col2im: one strided add per kernel tap
            for j in range(kw):
                dx[:, :, i * dh:i * dh + sh * ho:sh, j * dw:j * dw + sw * wo:sw] += dcols[:, :, i, j]
        return dx[:, :, ph:ph + h, pw:pw + wd]

    return kernel
