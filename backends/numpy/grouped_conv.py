"""Grouped (and depthwise) conv2d kernels: one vectorized product per kernel tap.

Arrays are handled channels-last inside ((N, H, W, groups, channels per group)), the memory
layout the Keras layers feed, and outputs are returned as (N, C, H, W) views of
channels-last arrays, as the conv2d kernels do. A depthwise group (one input channel) is a
broadcast multiply; a wider group an einsum over its channels. Written against the array
module ``xp`` (numpy here; the CUDA backend registers the same factories with ``xp=cupy``).
"""
from __future__ import annotations

import numpy as np

from core.tensor.conv import conv_padding
from core.tensor.grouped_conv import (GroupedConv2d, GroupedConv2dBiasAct,
                                      GroupedConv2dGradInputs, GroupedConv2dGradWeights)

from . import registry
from .conv import check_bias


def _geometry(op, hw, khw):
    """Paddings and output size of ``op`` for input size ``hw`` and kernel size ``khw``."""
    pads = conv_padding(op.border_mode, khw, op.filter_dilation)
    out = tuple((n + 2 * p - ((k - 1) * d + 1)) // s + 1 for n, p, k, d, s in zip(
        hw, pads, khw, op.filter_dilation, op.subsample))
    if min(out) < 1:
        raise ValueError(f"{op}: an input of spatial shape {tuple(hw)} is smaller than the "
                         f"(dilated) filters {tuple(khw)} with border_mode={op.border_mode!r}")
    return pads, out


def _window(op, i: int, j: int, out_hw) -> tuple:
    """The (rows, cols) slices of the padded input that kernel tap (i, j) reads."""
    (dh, dw), (sh, sw) = op.filter_dilation, op.subsample
    return (slice(i * dh, i * dh + (out_hw[0] - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (out_hw[1] - 1) * sw + 1, sw))


def _grouped_last(x: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> a (N, H, W, G, C // G) view."""
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n, h, w, groups, c // groups)


def _filters(w: np.ndarray, op) -> np.ndarray:
    """(F, Cg, kh, kw) -> (kh, kw, G, Fg, Cg), flipped for a true convolution."""
    f, cg, kh, kw = w.shape
    if op.filter_flip:
        w = w[:, :, ::-1, ::-1]
    return w.reshape(op.num_groups, f // op.num_groups, cg, kh, kw).transpose(3, 4, 0, 1, 2)


def _as_nchw(out: np.ndarray) -> np.ndarray:
    """(N, H, W, G, K) -> (N, G*K, H, W) view."""
    n, h, w, g, k = out.shape  # (explicit sizes: -1 is ambiguous in an empty batch)
    return out.reshape(n, h, w, g * k).transpose(0, 3, 1, 2)


def _tap_product(patch: np.ndarray, w_tap: np.ndarray, xp=np) -> np.ndarray:
    """(N, H, W, G, Cg) x (G, Fg, Cg) -> (N, H, W, G, Fg)."""
    if patch.shape[-1] == 1:
        return patch * w_tap[:, :, 0]
    return xp.einsum("nhwgc,gfc->nhwgf", patch, w_tap)


def _check_g(op, g: np.ndarray, shape: tuple) -> None:
    if g.shape != shape:
        raise ValueError(f"{op}: the output gradient has shape {g.shape}, expected {shape}")


@registry.register(GroupedConv2d)
def grouped_conv2d_kernel(node, xp=np):
    op = node.op

    def kernel(x, w):
        x, w = xp.asarray(x), xp.asarray(w)
        (ph, pw), out_hw = _geometry(op, x.shape[2:], w.shape[2:])
        if x.shape[1] != w.shape[1] * op.num_groups:
            raise ValueError(f"{op}: input of shape {x.shape} does not match filters of shape "
                             f"{w.shape} in {op.num_groups} groups")
        xl = xp.pad(_grouped_last(x, op.num_groups), ((0, 0), (ph, ph), (pw, pw), (0, 0), (0, 0)))
        wl = _filters(w, op)
        out = None
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                rows, cols = _window(op, i, j, out_hw)
                term = _tap_product(xl[:, rows, cols], wl[i, j], xp)
                out = term if out is None else xp.add(out, term, out=out)
        return _as_nchw(out)

    return kernel


@registry.register(GroupedConv2dBiasAct)
def grouped_conv2d_bias_act_kernel(node, xp=np):
    """``activation(grouped_conv2d(x, w) + b)``: the forward kernel, then the bias and the
    activation in place on its fresh result."""
    conv, relu = grouped_conv2d_kernel(node, xp), node.op.activation == "relu"

    def kernel(x, w, b):
        out = conv(x, w)
        out += check_bias(node.op, xp.asarray(b), out.shape[1]).reshape(-1, 1, 1)
        return xp.maximum(out, 0, out=out) if relu else out

    return kernel


@registry.register(GroupedConv2dGradInputs)
def grouped_conv2d_grad_inputs_kernel(node, xp=np):
    op = node.op

    def kernel(w, g, ishape):
        w, g = xp.asarray(w), xp.asarray(g)
        h, wd = (int(s) for s in ishape)
        (ph, pw), out_hw = _geometry(op, (h, wd), w.shape[2:])
        n = g.shape[0]
        _check_g(op, g, (n, w.shape[0]) + out_hw)
        groups, cg = op.num_groups, w.shape[1]
        gl = _grouped_last(g, groups)
        wl = _filters(w, op)
        dx = xp.zeros((n, h + 2 * ph, wd + 2 * pw, groups, cg), dtype=g.dtype)
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                rows, cols = _window(op, i, j, out_hw)
                if cg == 1:
                    dx[:, rows, cols, :, 0] += xp.einsum("nhwgf,gf->nhwg", gl, wl[i, j, :, :, 0])
                else:
                    dx[:, rows, cols] += xp.einsum("nhwgf,gfc->nhwgc", gl, wl[i, j])
        return _as_nchw(dx[:, ph:ph + h, pw:pw + wd])

    return kernel


@registry.register(GroupedConv2dGradWeights)
def grouped_conv2d_grad_weights_kernel(node, xp=np):
    op = node.op

    def kernel(x, g, kshape):
        x, g = xp.asarray(x), xp.asarray(g)
        kh, kw = (int(k) for k in kshape)
        (ph, pw), out_hw = _geometry(op, x.shape[2:], (kh, kw))
        f = g.shape[1]
        _check_g(op, g, (x.shape[0], f) + out_hw)
        groups = op.num_groups
        xl = xp.pad(_grouped_last(x, groups), ((0, 0), (ph, ph), (pw, pw), (0, 0), (0, 0)))
        gl = _grouped_last(g, groups)
        gw = xp.empty((kh, kw, groups, f // groups, x.shape[1] // groups), dtype=g.dtype)
        for i in range(kh):
            for j in range(kw):
                rows, cols = _window(op, i, j, out_hw)
                gw[i, j] = xp.einsum("nhwgc,nhwgf->gfc", xl[:, rows, cols], gl)
        gw = gw.transpose(2, 3, 4, 0, 1).reshape(f, x.shape[1] // groups, kh, kw)
        return xp.ascontiguousarray(gw[:, :, ::-1, ::-1] if op.filter_flip else gw)

    return kernel
