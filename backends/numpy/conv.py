"""conv2d kernels: im2col by kernel taps into one buffer, then BLAS products.

The layout follows the input's memory, so that no pass transposes a whole tensor:

- channels-last memory (what the Keras layers feed: (N, C, H, W) views of NHWC arrays): the
  im2col matrix has a row per output pixel, ``(N*Ho*Wo, kh*kw*C)``, one GEMM gives a
  channels-last output (returned as an (N, C, H, W) view), and the filter gradient comes out
  in (kh, kw, in, out) order, the Keras kernel's own layout;
- channels-first memory (Theano's layout): im2col ``(N, C*kh*kw, Ho*Wo)`` and one GEMM per
  batch entry, so outputs are contiguous (N, C, H, W).

The im2col matrix is filled by one strided copy per kernel tap, each reading only the input
rows/cols it needs, so the padded input is never built; a matrix over ``KEEP_BYTES`` is
allocated per call, and in channels-first layout it is then filled in one sequential pass
from a strided window view of the padded input instead.
"""
from __future__ import annotations

import numpy as np

from core.tensor.conv import (Conv2d, Conv2dBiasAct, Conv2dGradInputs, Conv2dGradWeights,
                              ReluBiasGrad, conv_padding)

from . import registry
from .pool import taps


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


def _channels_last(x: np.ndarray) -> bool:
    """True when ``x`` (N, C, H, W) has its channels innermost in memory."""
    return abs(x.strides[1]) <= abs(x.strides[3])


def _conv_taps(op, hw, khw, ho, wo, ph, pw):
    (dh, dw) = op.filter_dilation
    return taps(ho, wo, hw[0], hw[1], khw, op.subsample,
                (lambda i: i * dh - ph, lambda j: j * dw - pw))


def _col_shape(n, c, kh, kw, ho, wo, last: bool) -> tuple:
    return (n, ho, wo, kh, kw, c) if last else (n, c, kh, kw, ho, wo)


def _tap(cols, i: int, j: int, last: bool):
    """The (N, C, Ho, Wo) view of the im2col buffer that holds kernel tap (i, j)."""
    return cols[:, :, :, i, j, :].transpose(0, 3, 1, 2) if last else cols[:, :, i, j]


class _Taps:
    """The kernel taps of one op, cached for the last geometry seen."""

    def __init__(self, op):
        self.op, self.key, self.taps = op, None, None

    def __call__(self, hw, khw, ho, wo, ph, pw):
        key = (hw, khw)
        if key != self.key:
            self.taps, self.key = _conv_taps(self.op, hw, khw, ho, wo, ph, pw), key
        return self.taps


KEEP_BYTES = 1 << 22  # scratch matrices up to this size are kept between calls


def scratch(key, shape, dtype, store: dict) -> tuple[np.ndarray, bool]:
    """A work array of ``shape`` and whether it is new: kept in ``store`` between calls when
    small (no allocation or page faults per call); larger ones are allocated per call, so that
    a big convolution does not hold its matrices (and the allocator keeps reusing memory)."""
    if store.get("key") == key:
        return store["buf"], False
    buf = np.empty(shape, dtype)
    if buf.nbytes <= KEEP_BYTES:
        store.update(key=key, buf=buf)
    return buf, True


class _Cols:
    """im2col into a scratch buffer; the zeros under the padding are written when it is new."""

    def __init__(self, op):
        self.op, self.store = op, {}
        self.taps = _Taps(op)

    def __call__(self, x, kh, kw, ph, pw, ho, wo, last: bool):
        n, c, h, w = x.shape
        shape = _col_shape(n, c, kh, kw, ho, wo, last)
        tp = self.taps((h, w), (kh, kw), ho, wo, ph, pw)
        cols, new = scratch((shape, x.dtype), shape, x.dtype, self.store)
        if new and not last:
            # a fresh channels-first matrix is filled in one sequential pass over its memory
            view = _window_view(x, kh, kw, ho, wo, ph, pw, self.op)
            np.copyto(cols, view)
            return cols.reshape(n, c * kh * kw, ho * wo)
        if new:
            _zero_padding(cols, tp, kh, kw, last)
        for i, j, ro, co, ri, ci in tp:
            _tap(cols, i, j, last)[..., ro, co] = x[..., ri, ci]
        # explicit sizes: -1 is ambiguous in a batch of zero samples
        return cols.reshape(n * ho * wo, c * kh * kw) if last else cols.reshape(n, c * kh * kw,
                                                                               ho * wo)


def _window_view(x, kh, kw, ho, wo, ph, pw, op):
    """The (N, C, kh, kw, Ho, Wo) windows of ``x`` zero-padded, as a strided view."""
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    if ph or pw:
        xp = np.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), x.dtype)
        xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
        x = xp
    s0, s1, s2, s3 = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (x.shape[0], x.shape[1], kh, kw, ho, wo),
        (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw), writeable=False)


def _zero_padding(cols, tp, kh: int, kw: int, last: bool) -> None:
    """Zero the im2col entries that read padding: the rows/cols outside each tap's range."""
    read = {(t[0], t[1]): t for t in tp}
    for i in range(kh):
        for j in range(kw):
            view = _tap(cols, i, j, last)
            if (i, j) not in read:
                view[...] = 0
                continue
            ro, co = read[i, j][2:4]
            view[..., :ro.start, :] = 0
            view[..., ro.stop:, :] = 0
            view[..., :, :co.start] = 0
            view[..., :, co.stop:] = 0


def _wmat(w, op, last: bool):
    """The filters as a matrix matching the im2col columns: ``(kh*kw*C, F)`` or ``(F, C*kh*kw)``."""
    if op.filter_flip:
        w = w[:, :, ::-1, ::-1]
    f = w.shape[0]
    return w.transpose(2, 3, 1, 0).reshape(-1, f) if last else w.reshape(f, -1)


def _check(x_shape, w_shape, op):
    if x_shape[1] != w_shape[1]:
        raise ValueError(f"{op}: the input has {x_shape[1]} channels (shape {x_shape}) but the "
                         f"filters of shape {w_shape} expect {w_shape[1]}")


def _check_g(op, g, want):
    if g.shape != want:
        raise ValueError(f"{op}: output gradient of shape {g.shape}, expected {want}")


def _forward(op, im2col, x, w):
    """``conv2d(x, w)`` for ``op``'s geometry, in the layout of ``x``'s memory."""
    _check(x.shape, w.shape, op)
    f, c, kh, kw = w.shape
    n = x.shape[0]
    ph, pw, ho, wo = _geometry(op, x.shape[2:], (kh, kw))
    last = _channels_last(x)
    cols = im2col(x, kh, kw, ph, pw, ho, wo, last)
    if last:
        return (cols @ _wmat(w, op, True)).reshape(n, ho, wo, f).transpose(0, 3, 1, 2)
    return np.matmul(_wmat(w, op, False), cols).reshape(n, f, ho, wo)


@registry.register(Conv2d)
def conv2d_kernel(node):
    op = node.op
    im2col = _Cols(op)
    return lambda x, w: _forward(op, im2col, x, w)


def check_bias(op, bias: np.ndarray, channels: int) -> np.ndarray:
    if bias.shape != (channels,):
        raise ValueError(f"{op}: a bias of shape {bias.shape} for {channels} output channels")
    return bias


def bias_act(out: np.ndarray, bias: np.ndarray, activation: str) -> np.ndarray:
    """``activation(out + bias)`` along axis 1 of (N, F, H, W) ``out``, in place (``out`` is
    a kernel's fresh result), keeping its memory layout."""
    np.add(out, bias.reshape(-1, 1, 1), out=out)
    if activation == "relu":
        np.maximum(out, 0, out=out)
    return out


@registry.register(Conv2dBiasAct)
def conv2d_bias_act_kernel(node):
    op = node.op
    im2col = _Cols(op)

    def kernel(x, w, b):
        out = _forward(op, im2col, x, w)
        return bias_act(out, check_bias(op, b, w.shape[0]), op.activation)

    return kernel


def relu_bias_grad(out: np.ndarray, g: np.ndarray,
                   inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(g * (out > 0), its sum over every axis but the last)``; ``inplace``: the first
    written into ``g`` (numpy or cupy arrays)."""
    if out.shape != g.shape:
        raise ValueError(f"ReluBiasGrad: output of shape {out.shape} and gradient of shape "
                         f"{g.shape} differ")
    if inplace and getattr(g.flags, "writeable", True):
        g_pre = g
        g_pre *= out > 0
    else:
        g_pre = g * (out > 0)
    return g_pre, g_pre.reshape(-1, g.shape[-1]).sum(axis=0)


@registry.register(ReluBiasGrad)
def relu_bias_grad_kernel(node):
    inplace = node.op.inplace
    return lambda out, g: relu_bias_grad(out, g, inplace)


@registry.register(Conv2dGradWeights)
def conv2d_grad_weights_kernel(node):
    op = node.op
    im2col = _Cols(op)

    def kernel(x, g, kshape):
        kh, kw = (int(k) for k in kshape)
        n, c = x.shape[:2]
        f = g.shape[1]
        ph, pw, ho, wo = _geometry(op, x.shape[2:], (kh, kw))
        _check_g(op, g, (n, f, ho, wo))
        last = _channels_last(x)
        cols = im2col(x, kh, kw, ph, pw, ho, wo, last)
        if last:  # (K, F) in (kh, kw, C, F) order
            gw = (cols.T @ g.transpose(0, 2, 3, 1).reshape(-1, f))
            gw = gw.reshape(kh, kw, c, f).transpose(3, 2, 0, 1)
        else:  # one GEMM per batch entry, then a sum: no transposed copy of g
            gw = np.matmul(g.reshape(n, f, ho * wo), cols.transpose(0, 2, 1)).sum(axis=0)
            gw = gw.reshape(f, c, kh, kw)
        return gw[:, :, ::-1, ::-1] if op.filter_flip else gw

    return kernel


def _complement(op, khw):
    """For stride 1, the input gradient is a convolution of the output gradient with the
    filters transposed (in <-> out) and flipped, over the complementary padding; None when
    that padding would be negative (explicit paddings wider than the dilated kernel)."""
    pads = conv_padding(op.border_mode, khw, op.filter_dilation)
    full = [(k - 1) * d for k, d in zip(khw, op.filter_dilation)]
    comp = tuple(fl - p for fl, p in zip(full, pads))
    if min(comp) < 0:
        return None
    return Conv2d(border_mode=comp, filter_flip=not op.filter_flip,
                  filter_dilation=op.filter_dilation)


@registry.register(Conv2dGradInputs)
def conv2d_grad_inputs_kernel(node):
    op = node.op
    conv_taps = _Taps(op)
    transposed, im2col, store = {}, {}, {}

    def kernel(w, g, ishape):
        h, wd = (int(s) for s in ishape)
        f, c, kh, kw = w.shape
        n = g.shape[0]
        ph, pw, ho, wo = _geometry(op, (h, wd), (kh, kw))
        _check_g(op, g, (n, f, ho, wo))
        if op.subsample == (1, 1) and f <= c:
            # im2col of g and one GEMM: no zero fill and no strided adds (col2im); it pays
            # while g's im2col (F columns per tap) is no larger than the col2im matrix (C):
            # at F = 2C it measured faster alone but slower inside a training step (cache)
            if (kh, kw) not in transposed:
                transposed[kh, kw] = _complement(op, (kh, kw))
                im2col[kh, kw] = _Cols(transposed[kh, kw]) if transposed[kh, kw] else None
            op_t = transposed[kh, kw]
            if op_t is not None:
                return _forward(op_t, im2col[kh, kw], g, w.transpose(1, 0, 2, 3))
        last = _channels_last(g)
        shape = _col_shape(n, c, kh, kw, ho, wo, last)
        dcols = scratch((shape, g.dtype), shape, g.dtype, store)[0]  # the col2im matrix
        if last:
            np.matmul(g.transpose(0, 2, 3, 1).reshape(n * ho * wo, f), _wmat(w, op, True).T,
                      out=dcols.reshape(n * ho * wo, c * kh * kw))
            dx = np.zeros((n, h, wd, c), dtype=dcols.dtype).transpose(0, 3, 1, 2)
        else:
            np.matmul(_wmat(w, op, False).T, g.reshape(n, f, ho * wo),
                      out=dcols.reshape(n, c * kh * kw, ho * wo))
            dx = np.zeros((n, c, h, wd), dtype=dcols.dtype)
        for i, j, ro, co, ri, ci in conv_taps((h, wd), (kh, kw), ho, wo, ph, pw):
            dx[..., ri, ci] += _tap(dcols, i, j, last)[..., ro, co]  # col2im: one add per tap
        return dx

    return kernel
