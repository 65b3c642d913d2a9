"""pool_2d kernels: loops over the window's taps (never pixels), each one strided slice op.

Arrays keep their memory layout: a channels-last array viewed as (N, C, H, W) pools with
contiguous channel runs and its output is channels-last too, so no transposed copies.
The kernels are written against the array module ``xp`` (numpy here; the CUDA backend
registers the same factories with ``xp=cupy``).
"""
from __future__ import annotations

import numpy as np

from core.tensor.signal.pool import (AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad,
                                     MaxPoolReluBiasGrad, Pool)

from . import registry


def tap_range(n_out: int, size: int, offset: int, stride: int):
    """Outputs ``[lo, hi)`` whose input index ``o * stride + offset`` lies in ``[0, size)``,
    and the input slice they read; None when no output does."""
    lo = (-offset + stride - 1) // stride if offset < 0 else 0
    hi = min(n_out, (size - 1 - offset) // stride + 1) if size - 1 - offset >= 0 else 0
    if hi <= lo:
        return None
    start = lo * stride + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1, stride)


def taps(ho: int, wo: int, h: int, w: int, ws, stride, offsets):
    """``(i, j, out_rows, out_cols, in_rows, in_cols)`` for each tap that reads the input;
    tap ``(i, j)`` of output ``(r, c)`` reads input
    ``(r * stride[0] + offsets[0](i), c * stride[1] + offsets[1](j))``."""
    out = []
    for i in range(ws[0]):
        rows = tap_range(ho, h, offsets[0](i), stride[0])
        if rows is None:
            continue
        for j in range(ws[1]):
            cols = tap_range(wo, w, offsets[1](j), stride[1])
            if cols is not None:
                out.append((i, j, rows[0], cols[0], rows[1], cols[1]))
    return out


def empty_like_layout(x: np.ndarray, shape, dtype=None, xp=np) -> np.ndarray:
    """An uninitialized array of ``shape`` whose axes lie in memory in the order of ``x``'s."""
    perm = sorted(range(x.ndim), key=lambda a: -abs(x.strides[a]) if x.shape[a] > 1 else 0)
    buf = xp.empty([shape[a] for a in perm], dtype=dtype or x.dtype)
    return buf.transpose(tuple(np.argsort(perm).tolist()))


def _pool_taps(op, shape):
    (ph, pw) = op.pad
    ho, wo = op.out_shape(shape)[-2:]
    return ho, wo, taps(ho, wo, shape[-2], shape[-1], op.ws, op.stride,
                        (lambda i: i - ph, lambda j: j - pw))


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
def pool_kernel(node, xp=np):
    op = node.op

    def kernel(x):
        x = xp.asarray(x)
        ho, wo, tp = _pool_taps(op, x.shape)
        out = empty_like_layout(x, x.shape[:-2] + (ho, wo), xp=xp)
        full = [t for t in tp if t[2].stop - t[2].start == ho and t[3].stop - t[3].start == wo]
        if op.mode == "max":
            # start from a tap that covers every output when there is one (no fill pass)
            if full:
                _, _, _, _, ri, ci = full[0]
                out[...] = x[..., ri, ci]
                tp = [t for t in tp if t is not full[0]]
            else:
                out.fill(_fill(op, x.dtype))
            for _, _, ro, co, ri, ci in tp:
                dst = out[..., ro, co]
                xp.maximum(dst, x[..., ri, ci], out=dst)
            return out
        out.fill(0)
        for _, _, ro, co, ri, ci in tp:
            dst = out[..., ro, co]
            xp.add(dst, x[..., ri, ci], out=dst)
        if op.mode != "sum":
            out /= xp.asarray(_counts(op, *x.shape[-2:], ho, wo, x.dtype))
        return out

    return kernel


def check_output_grad(op, gz, x_shape, ho, wo):
    want = x_shape[:-2] + (ho, wo)
    if gz.shape != want:
        raise ValueError(f"{op}: output gradient of shape {gz.shape}, expected {want} for an input "
                         f"of shape {x_shape}")


def _zeros_like_layout(x, dtype=None, xp=np):
    out = empty_like_layout(x, x.shape, dtype, xp)
    out.fill(0)
    return out


@registry.register(MaxPoolGrad)
def max_pool_grad_kernel(node, xp=np):
    op = node.op

    def kernel(x, maxout, gz):
        x, maxout, gz = xp.asarray(x), xp.asarray(maxout), xp.asarray(gz)
        ho, wo, tp = _pool_taps(op, x.shape)
        check_output_grad(op, gz, x.shape, ho, wo)
        if maxout.shape != gz.shape:
            raise ValueError(f"{op}: pooled output of shape {maxout.shape}, expected {gz.shape}")
        gx = _zeros_like_layout(x, gz.dtype, xp)
        disjoint = op.stride[0] >= op.ws[0] and op.stride[1] >= op.ws[1]
        for _, _, ro, co, ri, ci in tp:  # every maximal element of a window gets its gradient
            hit = xp.equal(x[..., ri, ci], maxout[..., ro, co])
            if disjoint:  # windows do not overlap: each input element is written once
                # hit * gz: a non-finite gz also reaches the window's other elements as nan
                xp.multiply(hit, gz[..., ro, co], out=gx[..., ri, ci])
            else:
                gx[..., ri, ci] += xp.where(hit, gz[..., ro, co], xp.zeros((), gz.dtype))
        return gx

    return kernel


@registry.register(MaxPoolReluBiasGrad)
def max_pool_relu_bias_grad_kernel(node, xp=np):
    """``MaxPoolGrad``'s kernel, then ``ReluBiasGrad``'s mask ``g * (x > 0)`` (in place) and
    its sum over the axes but the channels: the unfused pair's values, by construction."""
    pool_grad = max_pool_grad_kernel(node, xp)

    def kernel(x, maxout, gz):
        x = xp.asarray(x)
        gx = pool_grad(x, maxout, gz)
        xp.multiply(gx, x > 0, out=gx)
        return gx, gx.sum(axis=(0, 2, 3))

    return kernel


@registry.register(MaxPoolGradGrad)
def max_pool_grad_grad_kernel(node, xp=np):
    op = node.op

    def kernel(x, maxout, g):
        x, maxout, g = xp.asarray(x), xp.asarray(maxout), xp.asarray(g)
        ho, wo, tp = _pool_taps(op, x.shape)
        out = _zeros_like_layout(maxout, g.dtype, xp)
        zero = xp.zeros((), dtype=g.dtype)
        for _, _, ro, co, ri, ci in tp:
            hit = x[..., ri, ci] == maxout[..., ro, co]
            out[..., ro, co] += xp.where(hit, g[..., ri, ci], zero)
        return out

    return kernel


@registry.register(AveragePoolGrad)
def average_pool_grad_kernel(node, xp=np):
    op = node.op

    def kernel(x, gz):
        x, gz = xp.asarray(x), xp.asarray(gz)
        ho, wo, tp = _pool_taps(op, x.shape)
        check_output_grad(op, gz, x.shape, ho, wo)
        counts = None if op.mode == "sum" else _counts(op, *x.shape[-2:], ho, wo, gz.dtype)
        g = gz if counts is None else gz / xp.asarray(counts)
        gx = _zeros_like_layout(x, gz.dtype, xp)
        for _, _, ro, co, ri, ci in tp:
            gx[..., ri, ci] += g[..., ro, co]
        return gx

    return kernel
