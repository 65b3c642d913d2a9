"""C col2im for the conv2d input gradient on channels-last memory; the product stays on BLAS.

The numpy kernel scatters the column matrix back with one strided add per kernel tap after
a zero fill; here one C pass gathers, for each input pixel, the taps that read it, writing
each element once (234 -> 166 us on the digits CNN's second layer). Only channels-last
output gradients with at least ``MIN_CHANNELS`` channels take this path (the Keras layers'
layout); other layouts run the numpy kernel. A C im2col was tried for the forward pass and
the filter gradient: no faster than numpy's one copy per tap at 32 channels, twice as slow
at one channel, so those stay numpy.
"""
from __future__ import annotations

import numpy as np

from core.tensor.conv import Conv2dGradInputs

from ..numpy.conv import _channels_last, _check_g, _geometry, _wmat, scratch
from . import generators
from .compiler import ffi
from .scalar import ctype
from .spec import KernelSpec

MIN_CHANNELS = 8  # fewer channels: inner loops too short to beat numpy's whole-slice adds

# d: [N, H, W, C, Ho, Wo, kh, kw, sh, sw, dh, dw, ph, pw, then the image's element strides
#     along (N, H, W, C)]; the column matrix is contiguous (N, Ho, Wo, kh, kw, C)
_HEAD = """
__attribute__((optimize("O3")))  /* the module is built at -O1; these loops need vectorizing */
int @K@_{name}(char *dp, char *imp, char *colp) {{
    const int64_t *d = (const int64_t *)dp;
    const int64_t N = d[0], H = d[1], W = d[2], C = d[3], Ho = d[4], Wo = d[5];
    const int64_t kh = d[6], kw = d[7], sh = d[8], sw = d[9], dh = d[10], dw = d[11];
    const int64_t ph = d[12], pw = d[13], sn = d[14], sy = d[15], sx = d[16], sc = d[17];
    {t} *restrict im = ({t} *)imp;
    const {t} *restrict col = (const {t} *)colp;
"""

# the image is the contiguous (N, H, W, C) input gradient, written exactly once per element
_COL2IM = """
    (void)sn; (void)sy; (void)sx; (void)sc;
    for (int64_t n = 0; n < N; n++)
    for (int64_t y = 0; y < H; y++)
    for (int64_t x = 0; x < W; x++) {{
        {t} *restrict dst = im + ((n * H + y) * W + x) * C;
        for (int64_t c = 0; c < C; c++) dst[c] = 0;
        for (int64_t i = 0; i < kh; i++) {{
            const int64_t ty = y + ph - i * dh;
            if (ty < 0 || ty % sh) continue;
            const int64_t oy = ty / sh;
            if (oy >= Ho) continue;
            for (int64_t j = 0; j < kw; j++) {{
                const int64_t tx = x + pw - j * dw;
                if (tx < 0 || tx % sw) continue;
                const int64_t ox = tx / sw;
                if (ox >= Wo) continue;
                const {t} *restrict src =
                    col + ((((n * Ho + oy) * Wo + ox) * kh + i) * kw + j) * C;
                #pragma omp simd
                for (int64_t c = 0; c < C; c++) dst[c] += src[c];
            }}
        }}
    }}
    return 0;
}}"""


def _ptr(a: np.ndarray):
    """The address of element [0, ..., 0] (any strides)."""
    return ffi.cast("char *", a.ctypes.data)


def _desc(op, n, h, w, c, ho, wo, kh, kw, strides) -> np.ndarray:
    ph, pw = _geometry(op, (h, w), (kh, kw))[:2]
    return np.array([n, h, w, c, ho, wo, kh, kw, *op.subsample, *op.filter_dilation, ph, pw,
                     *strides], dtype=np.int64)


def _numpy_kernel(node):
    from ..numpy import registry

    return registry.make_kernel(node)


def _spec(node, body: str, name: str, make):
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or any(v.dtype != dtype for v in node.inputs[:2]):
        return None
    source = (_HEAD + body).format(name=name, t=ctype(dtype))

    def bind(funcs):
        return make(node.op, funcs[0], _numpy_kernel(node), np.dtype(dtype))

    return KernelSpec(source, [(name, "ppp")], bind)


def _inputs_kernel(op, fn, fallback, dtype):
    store = {}

    def kernel(w, g, ishape):
        if (not _channels_last(g) or w.shape[1] < MIN_CHANNELS or w.dtype != dtype
                or g.dtype != dtype):
            return fallback(w, g, ishape)
        h, wd = (int(s) for s in ishape)
        f, c, kh, kw = w.shape
        n = g.shape[0]
        ho, wo = _geometry(op, (h, wd), (kh, kw))[2:]
        _check_g(op, g, (n, f, ho, wo))
        shape = (n * ho * wo, kh * kw * c)
        dcols = scratch(shape, shape, dtype, store)[0]  # the column matrix
        np.matmul(g.transpose(0, 2, 3, 1).reshape(-1, f), _wmat(w, op, True).T, out=dcols)
        dx = np.empty((n, h, wd, c), dtype)
        d = _desc(op, n, h, wd, c, ho, wo, kh, kw, (0, 0, 0, 1))  # kept alive through the call
        fn(_ptr(d), _ptr(dx), _ptr(dcols))
        return dx.transpose(0, 3, 1, 2)

    return kernel


@generators.register(Conv2dGradInputs)
def conv2d_grad_inputs_spec(node):
    return _spec(node, _COL2IM, "col2im", _inputs_kernel)
