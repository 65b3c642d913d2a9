"""C conv2d: forward, filter gradient and input gradient.

Output (forward, filter gradient) or input (input gradient, stride 1) channels a multiple
of the vector length go to ``conv_direct``'s kernels: Winograd F(4x4, 3x3) for 3x3 filters
at stride 1, a direct register-tiled kernel otherwise, with ``Conv2dBiasAct``'s bias and
ReLU applied to the tile. The rest runs as blocked im2col + BLAS products.

The output pixels (rows of the im2col matrix, ``(n, oy, ox)``) are taken in blocks of
about ``BLOCK_BYTES`` of columns: C fills the block's columns from the input (zeros
under the padding; any strides, so channels-first input works too), and one call of
numpy's BLAS ``cblas_?gemm`` per block multiplies it, while the block is still in the
cache. The whole im2col matrix (66 MB for a CIFAR layer at batch 64) is never built:

- forward: ``out[block] = cols @ W`` with ``W`` the ``(kh*kw*C, F)`` filter matrix,
  written into a contiguous channels-last ``(N, Ho, Wo, F)`` output (returned as its
  (N, F, Ho, Wo) view: the layout the Keras layers read);
- filter gradient: ``gW += cols.T @ g[block]``, accumulated by BLAS (``beta = 1``);
- input gradient: ``dcols = g[block] @ W.T``, then added back into the zeroed input
  gradient tap by tap (col2im).

Only channels-last input (the Keras layers' layout) takes these kernels: channels-first
(Theano's) input runs the numpy kernel, which keeps that layout. float32 and float64.
"""
from __future__ import annotations

import os

import numpy as np

from core.tensor.conv import Conv2d, Conv2dBiasAct, Conv2dGradInputs, Conv2dGradWeights

from ..numpy.conv import (_channels_last, _check, _check_g, _geometry, _wmat, bias_act,
                          check_bias)
from . import conv_direct, conv_winograd, generators
from .blas import blas_gemm, blas_thread_local
from .compiler import char_ptr
from .result_ring import ResultRing, Scratch
from .scalar import Unsupported, ctype
from .spec import KernelSpec

BLOCK_BYTES = 1 << 19  # one block of the im2col matrix: stays in L2 across its product
SLOTS = max(1, os.cpu_count() or 1)  # threads the scratch buffers have room for

# d: [N, H, W, C, Ho, Wo, F, kh, kw, sh, sw, dh, dw, ph, pw, image element strides along
#     (N, H, W, C), rows per block, gemm address, 64-bit BLAS ints, address of BLAS's
#     set-thread-local-thread-count (0: none), thread slots in the scratch buffer]
_HEAD = """
#define LG_CONV_DESC \\
    const int64_t *d = (const int64_t *)dp; \\
    const int64_t N = d[0], H = d[1], W = d[2], C = d[3], Ho = d[4], Wo = d[5], F = d[6]; \\
    const int64_t kh = d[7], kw = d[8], sh = d[9], sw = d[10], dh = d[11], dw = d[12]; \\
    const int64_t ph = d[13], pw = d[14], sn = d[15], sy = d[16], sx = d[17], sc = d[18]; \\
    const int64_t rows = d[19], K = kh * kw * C, M = N * Ho * Wo; \\
    const void *gemm = (const void *)(intptr_t)d[20]; const int wide = (int)d[21]; \\
    (void)F; (void)rows; (void)gemm; (void)wide; (void)M;
#ifndef LG_CONV_THREADS
#define LG_CONV_THREADS
/* Threads for a convolution: each takes a contiguous range of images (their im2col
   blocks and, for the input gradient, their part of the result) with its own scratch,
   and calls BLAS single-threaded (OpenBLAS's count set to 1), also when one thread
   runs: many small products each split across BLAS threads cost more in
   synchronisation than they gain (10x slower on a busy machine). Without that BLAS
   function one thread runs and BLAS threads each product itself. */
static int lg_conv_threads(const int64_t *d) {
#ifdef _OPENMP
    int64_t t = omp_get_max_threads();
    if (t > d[23]) t = d[23];
    if (t > d[0]) t = d[0];
    return d[22] && t > 1 ? (int)t : 1;
#else
    return 1;
#endif
}
static int lg_conv_tid(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
typedef int (*lg_blas_local_fn)(int);
#endif
"""

# im2col of rows [r0, r1) into col (row-major, K per row, taps (i, j) then channels)
_IM2COL = """
__attribute__((optimize("O3")))  /* the module is built at -O1; these loops need vectorizing */
static void @K@_im2col(const char *dp, const {t} *restrict x, {t} *restrict col,
                       int64_t r0, int64_t r1) {{
    LG_CONV_DESC
    for (int64_t r = r0; r < r1; r++) {{
        const int64_t n = r / (Ho * Wo), oy = (r / Wo) % Ho, ox = r % Wo;
        {t} *restrict dst = col + (r - r0) * K;
        for (int64_t i = 0; i < kh; i++) {{
            const int64_t iy = oy * sh - ph + i * dh;
            for (int64_t j = 0; j < kw; j++, dst += C) {{
                const int64_t ix = ox * sw - pw + j * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) {{
                    for (int64_t c = 0; c < C; c++) dst[c] = 0;
                    continue;
                }}
                const {t} *restrict src = x + n * sn + iy * sy + ix * sx;
                if (sc == 1) {{
                    #pragma omp simd
                    for (int64_t c = 0; c < C; c++) dst[c] = src[c];
                }} else {{
                    for (int64_t c = 0; c < C; c++) dst[c] = src[c * sc];
                }}
            }}
        }}
    }}
}}
"""

# one thread's share: images [N*t/T, N*(t+1)/T) in blocks; {{work}} sees r0, r1, col, t
_THREADED = """
    const int T = lg_conv_threads(d);
    /* BLAS at one thread until every thread's products are done: the count is the
       process's in OpenBLAS's pthreads builds (numpy's wheels) */
    const lg_blas_local_fn local = (lg_blas_local_fn)(intptr_t)d[22];
    const int old = local ? local(1) : 0;
    #pragma omp parallel num_threads(T) if (T > 1)
    {{{{
        const int t = lg_conv_tid();
        if (local) local(1);  /* where the count is thread-local */
        {{t}} *col = ({{t}} *)colp + (int64_t)t * rows * K;
        const int64_t lo = N * t / T * Ho * Wo, hi = N * (t + 1) / T * Ho * Wo;
        for (int64_t r0 = lo; r0 < hi; r0 += rows) {{{{
            const int64_t r1 = r0 + rows < hi ? r0 + rows : hi;
            {work}
        }}}}
    }}}}
    if (local) local(old);
"""

_FORWARD = """
int @K@_fwd(char *dp, char *xp, char *wp, char *op, char *colp) {{
    LG_CONV_DESC
""" + _THREADED.format(work="""@K@_im2col(dp, (const {t} *)xp, col, r0, r1);
            lg_gemm(gemm, wide, {dbl}, 0, 0, r1 - r0, F, K, 1.0, (char *)col, K, wp, F, 0.0,
                    op + r0 * F * (int64_t)sizeof({t}), F);""") + """
    return 0;
}}
"""

# each thread sums its images' products into its own (K, F) part (after the column
# slots in the scratch buffer; thread 0's part is the result), then the parts are added
_GRAD_WEIGHTS = """
int @K@_gw(char *dp, char *xp, char *gp, char *gwp, char *colp) {{
    LG_CONV_DESC
    {t} *parts = ({t} *)colp + d[23] * rows * K;
""" + _THREADED.format(work="""@K@_im2col(dp, (const {t} *)xp, col, r0, r1);
            {t} *part = t ? parts + (int64_t)(t - 1) * K * F : ({t} *)gwp;
            lg_gemm(gemm, wide, {dbl}, 1, 0, K, F, r1 - r0, 1.0, (char *)col, K,
                    gp + r0 * F * (int64_t)sizeof({t}), F, r0 > lo ? 1.0 : 0.0, (char *)part, F);""") + """
    {t} *gw = ({t} *)gwp;
    for (int t = 1; t < T; t++)
        for (int64_t e = 0; e < K * F; e++) gw[e] += parts[(int64_t)(t - 1) * K * F + e];
    return 0;
}}
"""

# the input gradient is a contiguous (N, H, W, C) array; sn.. are its strides here
_GRAD_INPUTS = """
__attribute__((optimize("O3")))
static void @K@_col2im(const char *dp, {t} *restrict dx, const {t} *restrict col,
                       int64_t r0, int64_t r1) {{
    LG_CONV_DESC
    for (int64_t r = r0; r < r1; r++) {{
        const int64_t n = r / (Ho * Wo), oy = (r / Wo) % Ho, ox = r % Wo;
        const {t} *restrict src = col + (r - r0) * K;
        for (int64_t i = 0; i < kh; i++) {{
            const int64_t iy = oy * sh - ph + i * dh;
            for (int64_t j = 0; j < kw; j++, src += C) {{
                const int64_t ix = ox * sw - pw + j * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                {t} *restrict dst = dx + ((n * H + iy) * W + ix) * C;
                #pragma omp simd
                for (int64_t c = 0; c < C; c++) dst[c] += src[c];
            }}
        }}
    }}
}}

int @K@_gx(char *dp, char *wp, char *gp, char *dxp, char *colp) {{
    LG_CONV_DESC
""" + _THREADED.format(work="""if (r0 == lo)  /* this thread's images of the result */
                memset(({t} *)dxp + lo / (Ho * Wo) * H * W * C, 0,
                       (size_t)((hi - lo) / (Ho * Wo) * H * W * C) * sizeof({t}));
            lg_gemm(gemm, wide, {dbl}, 0, 1, r1 - r0, K, F, 1.0,
                    gp + r0 * F * (int64_t)sizeof({t}), F, wp, F, 0.0, (char *)col, K);
            @K@_col2im(dp, ({t} *)dxp, col, r0, r1);""") + """
    return 0;
}}
"""


_NULL = char_ptr(0)


def _ptr(a: np.ndarray):
    """The address of element [0, ..., 0] (any strides)."""
    return char_ptr(a.ctypes.data)


def _plan(op, n, h, w, c, f, kh, kw, strides, blas, itemsize) -> tuple:
    """(descriptor for the C functions, output (Ho, Wo), rows per block, K = kh*kw*C)."""
    ph, pw, ho, wo = _geometry(op, (h, w), (kh, kw))
    k = kh * kw * c
    rows = _rows(n * ho * wo, k, itemsize)
    d = np.array([n, h, w, c, ho, wo, f, kh, kw, *op.subsample, *op.filter_dilation, ph, pw,
                  *strides, rows, blas[0], blas[1], blas[2], SLOTS], dtype=np.int64)
    return d, (ho, wo), rows, k


def _rows(m: int, k: int, itemsize: int) -> int:
    """Rows of the im2col matrix per block."""
    return int(max(16, min(m, BLOCK_BYTES // max(1, k * itemsize))))


class _Scratch(Scratch):
    """The block's column buffer (the call) and the transformed filters (``filters``),
    kept between calls."""

    def __init__(self, dtype):
        super().__init__(dtype)
        self.filters = Scratch(dtype)


def _image_strides(x: np.ndarray) -> tuple:
    """Element strides of a (N, C, H, W) array along (N, H, W, C)."""
    s = [st // x.itemsize for st in x.strides]
    return s[0], s[2], s[3], s[1]


def _rows_matrix(g: np.ndarray) -> np.ndarray:
    """The (N*Ho*Wo, F) row-major matrix of a (N, F, Ho, Wo) gradient (a view when
    channels-last contiguous, else a copy)."""
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, g.shape[1])


def _filter_matrix(w: np.ndarray, op) -> np.ndarray:
    return np.ascontiguousarray(_wmat(w, op, True))


def _numpy_kernel(node):
    from ..numpy import registry

    return registry.make_kernel(node)


def _spec(node, body: str, name: str, make):
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or any(v.dtype != dtype for v in node.inputs[:2]):
        raise Unsupported(f"conv2d on {dtype}")
    blas = blas_gemm()
    if blas is None:
        raise Unsupported("no BLAS gemm found")
    dt = np.dtype(dtype)
    address = (int(blas[1] if dt == np.float64 else blas[0]), int(blas[2]), blas_thread_local())
    t = ctype(dtype)
    source = (_HEAD + _IM2COL.format(t=t) if name != "gx" else _HEAD) + body.format(
        t=t, dbl=int(dt == np.float64))
    if name == "gw":
        source += conv_direct.grad_weights_source(dt) + conv_winograd.source(dt, True)
        symbols = [(name, "ppppp"), ("dgw", "ppppp"), ("wgw", "pppppp")]
    else:  # the input gradient runs the forward kernels on the output gradient
        source += conv_direct.forward_source(dt) + conv_winograd.source(dt, False)
        symbols = [(name, "ppppp"), ("dfwd", "pppppp"), ("wino", "pppppp"), ("wfilt", "ppii")]

    def bind(funcs):
        return make(node.op, funcs, _numpy_kernel(node), dt, address)

    return KernelSpec(source, symbols, bind)


def _direct(channels: int, dtype) -> bool:
    """Whether the direct kernels take a product with ``channels`` output channels."""
    return channels % conv_direct.lanes(dtype) == 0


def _slots(n: int) -> int:
    """Thread slots the direct and Winograd kernels' scratch gets for a batch of ``n``: no
    more than the images, the CPUs, or the threads OpenMP is set to (``core.config.threads``,
    else ``OMP_NUM_THREADS``); the C side never runs more threads than this."""
    from core.config import config

    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    threads = config.threads or (int(first) if first.isdigit() else 0) or SLOTS
    return max(1, min(SLOTS, n, threads))


def _winograd_descriptor(xshape, oshape, pads, strides, relu: bool, itemsize: int,
                         gradient: bool) -> np.ndarray:
    """The descriptor of a Winograd kernel: x (N, H, W, C), output (N, Ho, Wo, F)."""
    n, h, wd, c = xshape
    ho, wo, f = oshape[1:]
    return conv_direct.descriptor(n, h, wd, c, ho, wo, f, 3, 3, (1, 1), (1, 1), pads, strides,
                                  _slots(n), relu, conv_winograd.padded(ho, wo, c),
                                  conv_winograd.block(c, f, ho, wo, itemsize, gradient))


def _run_direct(fns, x, wm, bias, out, khw, stride, dilation, pads, strides, relu: bool,
                scratch, rotated: bool = False) -> None:
    """``out`` (N, Ho, Wo, F) = relu?(x (N, H, W, C) conv (K, F) filters ``wm`` + bias) by
    Winograd F(4x4, 3x3) where it applies, else the direct kernel (``fns``: the module's
    functions; ``scratch``: the kernel's buffers). ``rotated``: ``wm`` is the (kh*kw*F, C)
    matrix of filters to rotate by 180 degrees with their channel axes swapped (the input
    gradient's correlation): Winograd's filter transform does that as it reads them."""
    _, direct, wino, wfilt = fns
    n, h, wd, c = x.shape
    _, ho, wo, f = out.shape
    b = _ptr(bias) if bias is not None else _NULL
    if conv_winograd.applies(khw, stride, dilation, c, f, out.dtype):
        d = _winograd_descriptor(x.shape, out.shape, pads, strides, relu, out.itemsize, False)
        u = scratch.filters(36 * c * f)  # the transformed filters
        wfilt(_ptr(wm), _ptr(u), c * f, f if rotated else 0)
        wino(_ptr(d), _ptr(x), _ptr(u), b, _ptr(out),
             _ptr(scratch(conv_winograd.scratch(d, False))))
        return
    if rotated:
        wm = np.ascontiguousarray(
            wm.reshape(*khw, f, c)[::-1, ::-1].transpose(0, 1, 3, 2)).reshape(-1, f)
    d = conv_direct.descriptor(n, h, wd, c, ho, wo, f, *khw, stride, dilation, pads, strides,
                               _slots(n), relu)
    direct(_ptr(d), _ptr(x), _ptr(wm), b, _ptr(out),
           _ptr(scratch(conv_direct.forward_scratch(d))))


def _forward_kernel(op, fns, fallback, dtype, blas):
    """The kernel of ``Conv2d`` (x, w) or of ``Conv2dBiasAct`` (x, w, bias)."""
    fn, scratch, results = fns[0], _Scratch(dtype), ResultRing(dtype)
    relu = getattr(op, "activation", "linear") == "relu"

    def kernel(x, w, *bias):
        if (not _channels_last(x) or x.dtype != dtype or w.dtype != dtype or 0 in x.shape
                or 0 in w.shape):
            return fallback(x, w, *bias)
        _check(x.shape, w.shape, op)
        f, c, kh, kw = w.shape
        n, _, h, wd = x.shape
        if bias:
            b = np.ascontiguousarray(check_bias(op, bias[0], f), dtype)
        wm = _filter_matrix(w, op)
        if _direct(f, dtype):
            ph, pw, ho, wo = _geometry(op, (h, wd), (kh, kw))
            out = results((n, ho, wo, f))
            _run_direct(fns, x.transpose(0, 2, 3, 1), wm, b if bias else None, out, (kh, kw),
                        op.subsample, op.filter_dilation, (ph, pw), _image_strides(x), relu,
                        scratch)
            return out.transpose(0, 3, 1, 2)
        d, (ho, wo), rows, k = _plan(op, n, h, wd, c, f, kh, kw, _image_strides(x), blas,
                                     dtype.itemsize)
        out = results((n, ho, wo, f))
        fn(_ptr(d), _ptr(x), _ptr(wm), _ptr(out), _ptr(scratch(SLOTS * rows * k)))
        out = out.transpose(0, 3, 1, 2)
        return bias_act(out, b, op.activation) if bias else out

    return kernel


def _weights_kernel(op, fns, fallback, dtype, blas):
    (fn, direct, wino), scratch, results = fns, _Scratch(dtype), ResultRing(dtype)

    def kernel(x, g, kshape):
        if (not _channels_last(x) or x.dtype != dtype or g.dtype != dtype or 0 in x.shape
                or 0 in g.shape):
            return fallback(x, g, kshape)
        kh, kw = (int(k) for k in kshape)
        n, c, h, wd = x.shape
        f = g.shape[1]
        d, (ho, wo), rows, k = _plan(op, n, h, wd, c, f, kh, kw, _image_strides(x), blas,
                                     dtype.itemsize)
        _check_g(op, g, (n, f, ho, wo))
        gm = _rows_matrix(g)
        gw = results((kh, kw, c, f))  # the Keras kernel's own layout
        pads = (int(d[13]), int(d[14]))
        if conv_winograd.applies((kh, kw), op.subsample, op.filter_dilation, c, f, dtype):
            dd = _winograd_descriptor((n, h, wd, c), (n, ho, wo, f), pads, _image_strides(x),
                                      False, dtype.itemsize, True)
            du = scratch.filters(36 * c * f)  # the transformed filter gradient
            wino(_ptr(dd), _ptr(x), _ptr(gm), _ptr(du),
                 _ptr(scratch(conv_winograd.scratch(dd, True))), _ptr(gw))
        elif _direct(f, dtype):
            dd = conv_direct.descriptor(n, h, wd, c, ho, wo, f, kh, kw, op.subsample,
                                        op.filter_dilation, pads, _image_strides(x), _slots(n))
            direct(_ptr(dd), _ptr(x), _ptr(gm), _ptr(gw),
                   _ptr(scratch(conv_direct.grad_weights_scratch(dd, dtype.itemsize))))
        else:
            fn(_ptr(d), _ptr(x), _ptr(gm), _ptr(gw),
               _ptr(scratch(SLOTS * rows * k + (SLOTS - 1) * k * f)))  # + per-thread parts
        gw = gw.transpose(3, 2, 0, 1)
        return gw[:, :, ::-1, ::-1] if op.filter_flip else gw

    return kernel


def _inputs_kernel(op, fns, fallback, dtype, blas):
    fn, scratch, results = fns[0], _Scratch(dtype), ResultRing(dtype)

    def kernel(w, g, ishape):
        if (not _channels_last(g) or w.dtype != dtype or g.dtype != dtype or 0 in g.shape
                or 0 in w.shape):
            return fallback(w, g, ishape)
        h, wd = (int(s) for s in ishape)
        f, c, kh, kw = w.shape
        n = g.shape[0]
        d, (ho, wo), rows, k = _plan(op, n, h, wd, c, f, kh, kw, (h * wd * c, wd * c, c, 1),
                                     blas, dtype.itemsize)
        _check_g(op, g, (n, f, ho, wo))
        wm, gm = _filter_matrix(w, op), _rows_matrix(g)
        dx = results((n, h, wd, c))
        pads = ((kh - 1) * op.filter_dilation[0] - int(d[13]),
                (kw - 1) * op.filter_dilation[1] - int(d[14]))
        if _direct(c, dtype) and op.subsample == (1, 1) and min(pads) >= 0:
            # a correlation of the padded output gradient with the rotated filters
            _run_direct(fns, gm.reshape(n, ho, wo, f), wm, None, dx, (kh, kw), (1, 1),
                        op.filter_dilation, pads, (ho * wo * f, wo * f, f, 1), False, scratch,
                        rotated=True)
        else:
            fn(_ptr(d), _ptr(wm), _ptr(gm), _ptr(dx), _ptr(scratch(SLOTS * rows * k)))
        return dx.transpose(0, 3, 1, 2)

    return kernel


@generators.register(Conv2d, Conv2dBiasAct)
def conv2d_spec(node):
    return _spec(node, _FORWARD, "fwd", _forward_kernel)


@generators.register(Conv2dGradWeights)
def conv2d_grad_weights_spec(node):
    return _spec(node, _GRAD_WEIGHTS, "gw", _weights_kernel)


@generators.register(Conv2dGradInputs)
def conv2d_grad_inputs_spec(node):
    return _spec(node, _GRAD_INPUTS, "gx", _inputs_kernel)
