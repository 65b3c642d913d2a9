"""pool_2d kernels: windows as a strided view, reductions over them; gradients loop over taps."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from core.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

from . import registry


def _geometry(op, shape):
    """Output size and the padded extent that holds every window."""
    (wh, ww), (sh, sw), (ph, pw) = op.ws, op.stride, op.pad
    ho, wo = op.out_shape(shape)[-2:]
    hp = max(shape[-2] + 2 * ph, (ho - 1) * sh + wh if ho else 0)
    wp = max(shape[-1] + 2 * pw, (wo - 1) * sw + ww if wo else 0)
    return ho, wo, hp, wp


def _padded(x3, op, hp, wp, fill):
    ph, pw = op.pad
    h, w = x3.shape[1:]
    if (hp, wp) == (h, w):
        return x3
    out = np.full((x3.shape[0], hp, wp), fill, dtype=x3.dtype)
    out[:, ph:ph + h, pw:pw + w] = x3
    return out


def _windows(xp, op, ho, wo):
    """``(B, ho, wo, wh, ww)`` view of the pooling windows."""
    (wh, ww), (sh, sw) = op.ws, op.stride
    s0, s1, s2 = xp.strides
    return as_strided(xp, (xp.shape[0], ho, wo, wh, ww), (s0, s1 * sh, s2 * sw, s1, s2),
                      writeable=False)


def _counts(op, h, w, ho, wo, dtype):
    """Number of elements averaged by each output (padding counted or not, per mode)."""
    counts = []
    for n, size, k, s, p in ((ho, h, op.ws[0], op.stride[0], op.pad[0]),
                             (wo, w, op.ws[1], op.stride[1], op.pad[1])):
        start = np.arange(n) * s
        if op.mode == "average_inc_pad":
            c = np.minimum(start + k, size + 2 * p) - start
        else:
            c = np.minimum(start + k, size + p) - np.maximum(start, p)
        counts.append(c)
    return np.outer(counts[0], counts[1]).astype(dtype)


def _fill(op, dtype):
    if op.mode != "max":
        return 0
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


@registry.register(Pool)
def pool_kernel(node):
    op = node.op

    def kernel(x):
        ho, wo, hp, wp = _geometry(op, x.shape)
        x3 = x.reshape((-1,) + x.shape[-2:])
        win = _windows(_padded(x3, op, hp, wp, _fill(op, x.dtype)), op, ho, wo)
        if op.mode == "max":
            out = win.max(axis=(3, 4)) if win.size else np.zeros(win.shape[:3], x.dtype)
        else:
            out = win.sum(axis=(3, 4), dtype=x.dtype)
            if op.mode != "sum":
                out /= _counts(op, *x.shape[-2:], ho, wo, x.dtype)
        return out.reshape(x.shape[:-2] + (ho, wo))

    return kernel


def _scatter(contrib, op, x_shape, hp, wp):
    """Sum per-window contributions ``(B, ho, wo, wh, ww)`` back onto the input grid."""
    (wh, ww), (sh, sw), (ph, pw) = op.ws, op.stride, op.pad
    b, ho, wo = contrib.shape[:3]
    gx = np.zeros((b, hp, wp), dtype=contrib.dtype)
    for i in range(wh):  # one strided add per window tap, never per pixel
        for j in range(ww):
            gx[:, i:i + sh * ho:sh, j:j + sw * wo:sw] += contrib[:, :, :, i, j]
    h, w = x_shape[-2:]
    return np.ascontiguousarray(gx[:, ph:ph + h, pw:pw + w]).reshape(x_shape)


def _check_gz(op, gz, x_shape, ho, wo):
    want = x_shape[:-2] + (ho, wo)
    if gz.shape != want:
        raise ValueError(f"{op}: output gradient of shape {gz.shape}, expected {want} for an input "
                         f"of shape {x_shape}")


@registry.register(MaxPoolGrad)
def max_pool_grad_kernel(node):
    op = node.op

    def kernel(x, maxout, gz):
        ho, wo, hp, wp = _geometry(op, x.shape)
        _check_gz(op, gz, x.shape, ho, wo)
        x3 = x.reshape((-1,) + x.shape[-2:])
        win = _windows(_padded(x3, op, hp, wp, _fill(op, x.dtype)), op, ho, wo)
        m = maxout.reshape(win.shape[:3])[..., None, None]
        g = gz.reshape(win.shape[:3])[..., None, None]
        contrib = np.where(win == m, g, np.zeros((), dtype=gz.dtype))
        return _scatter(contrib, op, x.shape, hp, wp)

    return kernel


@registry.register(MaxPoolGradGrad)
def max_pool_grad_grad_kernel(node):
    op = node.op

    def kernel(x, maxout, g):
        ho, wo, hp, wp = _geometry(op, x.shape)
        fill = _fill(op, x.dtype)
        x3, g3 = (a.reshape((-1,) + x.shape[-2:]) for a in (x, g))
        win = _windows(_padded(x3, op, hp, wp, fill), op, ho, wo)
        g_win = _windows(_padded(g3, op, hp, wp, 0), op, ho, wo)
        m = maxout.reshape(win.shape[:3])[..., None, None]
        out = np.where(win == m, g_win, np.zeros((), dtype=g.dtype)).sum(axis=(3, 4))
        return out.reshape(maxout.shape)

    return kernel


@registry.register(AveragePoolGrad)
def average_pool_grad_kernel(node):
    op = node.op

    def kernel(x, gz):
        ho, wo, hp, wp = _geometry(op, x.shape)
        _check_gz(op, gz, x.shape, ho, wo)
        g = gz.reshape((-1, ho, wo))
        if op.mode != "sum":
            g = g / _counts(op, *x.shape[-2:], ho, wo, gz.dtype)
        contrib = np.broadcast_to(g[..., None, None], g.shape + op.ws)
        return _scatter(contrib, op, x.shape, hp, wp)

    return kernel
