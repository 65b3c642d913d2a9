"""Direct (implicit-GEMM) C convolution kernels for channels-last float arrays.

No im2col matrix and no BLAS: a register tile of up to 12 output pixels by 2 vectors of
output channels is accumulated straight from the (zero-padded) input image and the
``(kh*kw*C, F)`` filter matrix, one FMA per (pixel, vector) for each input element of the
window, the input element broadcast from memory. The im2col route copies the data twice
(its own matrix, then BLAS's packing of it), which cost as much as the product for a
CIFAR-sized layer; this route reads each input element where it lies.

- forward: ``out[n, oy, ox, :] = sum over window (i, j, c) of x[...] * W[(i, j, c), :]``,
  the output channels in vectors (``F`` a multiple of the vector length); an optional
  bias and ReLU are applied to the tile before it is stored;
- input gradient (stride 1): the same forward kernel on the output gradient padded by
  ``(k - 1) * d - p``, with the filters rotated and their channel axes swapped;
- Winograd F(4x4, 3x3) (stride 1, 3x3 filters, input channels a multiple of the vector
  length too) replaces these kernels (``conv_winograd``, which reuses the register tiles);
- filter gradient: a register tile of up to 12 filter rows (window elements) by 2
  vectors of output channels (6 by 4 where F allows), summed over blocks of output
  pixels whose gradient rows stay in L1.

Along a filter row with dilation 1 the ``kw * C`` input elements are contiguous, so the
window is ``R`` runs of ``L`` elements (``kh`` runs of ``kw * C``; with dilation
``kh * kw`` runs of ``C``); this keeps a 3-channel first layer efficient (runs of 9).

Each image is first copied into a per-thread zero-padded buffer unless it can be read in
place (no padding, channels contiguous). The worker pool's threads (``workers.py``) take
images one at a time (a thread the OS delays holds up no fixed half); the filter gradient
splits the images into chunks (one per thread), each summed into its own part, and the
parts are added in chunk order (the same result whichever thread took which chunk).
"""
from __future__ import annotations

import numpy as np

# vector width in bytes: 64 (one AVX-512 register; GCC splits it where the CPU is narrower)
VECTOR_BYTES = 64
TILE = 12  # pixels (forward) or filter rows (filter gradient) per register tile
PIXEL_BLOCK = 256  # output pixels per block of the filter gradient (their rows of g in L1)


def lanes(dtype) -> int:
    """Elements of ``dtype`` per vector: the output channels must be a multiple."""
    return VECTOR_BYTES // np.dtype(dtype).itemsize


# shared by every node of one dtype in a module: {s} is the dtype's suffix
# (DESC_C, c_names and the register tiles are also conv_winograd's)
_COMMON = """
#ifndef LG_DIRECT_{s}
#define LG_DIRECT_{s}
typedef {t} lg_v{s} __attribute__((vector_size(64)));
typedef {it} lg_vi{s} __attribute__((vector_size(64)));
#define LG_VL{s} ((int)(64 / sizeof({t})))
#define LG_INLINE static inline __attribute__((always_inline))

LG_INLINE lg_v{s} lg_ld{s}(const {t} *p) {{
    lg_v{s} v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}}
LG_INLINE void lg_st{s}({t} *p, lg_v{s} v) {{ __builtin_memcpy(p, &v, sizeof v); }}

/* out[t * F + 0 : NV vectors] = (bias +) sum over runs r and k < L of
   x[(r / kwr) * ri + (r % kwr) * rj + t * xs + k] * w[(r * L + k) * F + 0 : NV vectors],
   then ReLU (NaN kept, as maximum(x, 0)) when relu */
LG_INLINE void lg_fwd_tile{s}(const {t} *restrict x, const {t} *restrict w, {t} *restrict out,
                              const {t} *restrict bias, int relu, int64_t F, int64_t R,
                              int64_t L, int64_t kwr, int64_t ri, int64_t rj, int64_t xs,
                              const int T, const int NV) {{
    const int VL = LG_VL{s};
    lg_v{s} acc[{tile}][2];
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++)
        #pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[t][v] = bias ? lg_ld{s}(bias + v * VL) : (lg_v{s}){{0}};
    for (int64_t r = 0; r < R; r++) {{
        const {t} *restrict xr = x + (r / kwr) * ri + (r % kwr) * rj;
        const {t} *restrict wr = w + r * L * F;
        for (int64_t k = 0; k < L; k++) {{
            const lg_v{s} w0 = lg_ld{s}(wr + k * F);
            const lg_v{s} w1 = NV > 1 ? lg_ld{s}(wr + k * F + VL) : (lg_v{s}){{0}};
            #pragma GCC unroll 12
            for (int t = 0; t < T; t++) {{
                const {t} xv = xr[t * xs + k];
                acc[t][0] += w0 * xv;
                if (NV > 1) acc[t][1] += w1 * xv;
            }}
        }}
    }}
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++)
        #pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {{
            lg_v{s} a = acc[t][v];
            if (relu) a = (lg_v{s})((lg_vi{s})a & ~(lg_vi{s})(a <= 0));
            lg_st{s}(out + t * F + v * VL, a);
        }}
}}

#define LG_FWD_CASE{s}(n) \
    case n: lg_fwd_tile{s}(x, w, out, bias, relu, F, R, L, kwr, ri, rj, xs, n, NV); break;
/* one output row (Wo pixels) for NV vectors of channels: tiles of 12, then the rest */
LG_INLINE void lg_fwd_row{s}(const {t} *restrict x, const {t} *restrict w, {t} *restrict out,
                             const {t} *restrict bias, int relu, int64_t Wo, int64_t F,
                             int64_t R, int64_t L, int64_t kwr, int64_t ri, int64_t rj,
                             int64_t xs, const int NV) {{
    int64_t ox = 0;
    for (; ox + {tile} <= Wo; ox += {tile})
        lg_fwd_tile{s}(x + ox * xs, w, out + ox * F, bias, relu, F, R, L, kwr, ri, rj, xs,
                       {tile}, NV);
    x += ox * xs;
    out += ox * F;
    switch ((int)(Wo - ox)) {{
        LG_FWD_CASE{s}(1) LG_FWD_CASE{s}(2) LG_FWD_CASE{s}(3) LG_FWD_CASE{s}(4)
        LG_FWD_CASE{s}(5) LG_FWD_CASE{s}(6) LG_FWD_CASE{s}(7) LG_FWD_CASE{s}(8)
        LG_FWD_CASE{s}(9) LG_FWD_CASE{s}(10) LG_FWD_CASE{s}(11) default: break;
    }}
}}

/* gw[t * F + 0 : NV vectors] += (or with zero, =) sum over pixels p < P of
   x[px[p] + t] * dy[p * F + ...]; NV 1, 2 (T up to 12) or 4 (T up to 6) */
LG_INLINE void lg_gw_tile{s}(const {t} *restrict x, const int64_t *restrict px,
                             const {t} *restrict dy, {t} *restrict gw, int64_t P, int64_t F,
                             int zero, const int T, const int NV) {{
    const int VL = LG_VL{s};
    lg_v{s} acc[{tile}][4];
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++)
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[t][v] = zero ? (lg_v{s}){{0}} : lg_ld{s}(gw + t * F + v * VL);
    for (int64_t p = 0; p < P; p++) {{
        lg_v{s} e[4];
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++) e[v] = lg_ld{s}(dy + p * F + v * VL);
        const {t} *restrict xp = x + px[p];
        #pragma GCC unroll 12
        for (int t = 0; t < T; t++) {{
            const {t} xv = xp[t];
            #pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[t][v] += e[v] * xv;
        }}
    }}
    #pragma GCC unroll 12
    for (int t = 0; t < T; t++)
        #pragma GCC unroll 4
        for (int v = 0; v < NV; v++) lg_st{s}(gw + t * F + v * VL, acc[t][v]);
}}

#define LG_GW_CASE{s}(n) case n: lg_gw_tile{s}(x, px, dy, gw, P, F, zero, n, NV); break;
LG_INLINE void lg_gw_rows{s}(const {t} *restrict x, const int64_t *restrict px,
                             const {t} *restrict dy, {t} *restrict gw, int64_t P, int64_t F,
                             int zero, int T, const int NV) {{
    switch (T) {{
        LG_GW_CASE{s}(1) LG_GW_CASE{s}(2) LG_GW_CASE{s}(3) LG_GW_CASE{s}(4)
        LG_GW_CASE{s}(5) LG_GW_CASE{s}(6) LG_GW_CASE{s}(7) LG_GW_CASE{s}(8)
        LG_GW_CASE{s}(9) LG_GW_CASE{s}(10) LG_GW_CASE{s}(11) LG_GW_CASE{s}(12) default: break;
    }}
}}

/* gw[k * F + f] += (with zero, =) sum over pixels p < P of x[px[p] + k] * dy[p * F + f] for
   k < L, f < F: 6 rows by 4 vectors where F allows (10 loads per 24 FMAs), else 12 rows by
   2 vectors; zero writes a part without clearing it first */
LG_INLINE void lg_gw_panel{s}(const {t} *restrict x, const int64_t *restrict px,
                              const {t} *restrict dy, {t} *restrict gw, int64_t P, int64_t F,
                              int64_t L, int zero) {{
    const int VL = LG_VL{s};
    const int wide = F % (4 * VL) == 0, step = wide ? {tile} / 2 : {tile};
    for (int64_t k0 = 0; k0 < L; k0 += step) {{
        const int TK = L - k0 < step ? (int)(L - k0) : step;
        {t} *g = gw + k0 * F;
        int64_t fb = 0;
        if (wide)
            for (; fb < F; fb += 4 * VL)
                lg_gw_rows{s}(x + k0, px, dy + fb, g + fb, P, F, zero, TK, 4);
        for (; fb + 2 * VL <= F; fb += 2 * VL)
            lg_gw_rows{s}(x + k0, px, dy + fb, g + fb, P, F, zero, TK, 2);
        for (; fb < F; fb += VL) lg_gw_rows{s}(x + k0, px, dy + fb, g + fb, P, F, zero, TK, 1);
    }}
}}

/* image n of x (element strides sn, sy, sx, sc) as a contiguous zero-padded (Hp, Wp, C)
   image in buf (its borders zeroed once by the caller), or x itself when it can be read
   in place; *row is then the row stride */
LG_INLINE const {t} *lg_padded{s}(const {t} *x, {t} *buf, int64_t n, int64_t H, int64_t W,
                                  int64_t C, int64_t ph, int64_t pw, int64_t sn, int64_t sy,
                                  int64_t sx, int64_t sc, int64_t *row) {{
    const {t} *img = x + n * sn;
    if (!ph && !pw && sc == 1 && sx == C) {{
        *row = sy;
        return img;
    }}
    const int64_t Wp = W + 2 * pw;
    *row = Wp * C;
    for (int64_t y = 0; y < H; y++) {{
        {t} *dst = buf + ((y + ph) * Wp + pw) * C;
        const {t} *src = img + y * sy;
        if (sc == 1 && sx == C) {{  /* a row of pixels is one run */
            __builtin_memcpy(dst, src, W * C * sizeof({t}));
            continue;
        }}
        for (int64_t xx = 0; xx < W; xx++, dst += C)
            for (int64_t c = 0; c < C; c++) dst[c] = src[xx * sx + c * sc];
    }}
    return buf;
}}

/* threads for a job: the worker pool's (lg_threads), no more than the scratch's slots */
static int lg_direct_threads{s}(const int64_t *d) {{
    const int t = lg_threads();
    return t > d[20] ? (int)d[20] : t;
}}

/* a convolution's job on the worker pool: descriptor, operands, scratch, and for the
   filter gradients the chunks of images (each summed into its own part) */
struct lg_conv_job{s} {{
    const char *dp, *a, *b, *c;
    char *out, *buf;
    int64_t chunks, parts;  /* images in chunks; the parts' offset in buf (elements) */
}};

/* chunks of images a filter gradient takes: one per thread (no more than the images), or
   one (the result itself) on one thread; the sum of the parts depends on the thread count
   only, not on which thread took which chunk. Two more chunks than threads (a thread the
   OS delays leaving a smaller share) cost a VGG step's Winograd filter gradients 17% more
   CPU time at 2 threads: four parts of up to 2.4 MB written and summed instead of two; a
   worker that starts late finds its chunk still free and the caller takes it */
static int64_t lg_chunks{s}(int64_t N, int T) {{
    return T < 2 ? 1 : N < T ? N : T;
}}

struct lg_sum_job{s} {{ {t} *out; const {t} *parts; int64_t n, P; }};
__attribute__((optimize("O3")))
static void lg_sum_block{s}(void *p, int64_t b, int t) {{
    const struct lg_sum_job{s} *cj = (const struct lg_sum_job{s} *)p;
    const int64_t lo = b * 16384, hi = lo + 16384 < cj->n ? lo + 16384 : cj->n;
    (void)t;
    for (int64_t k = 0; k + 1 < cj->P; k++) {{  /* in chunk order: the same at any split */
        const {t} *restrict part = cj->parts + k * cj->n;
        {t} *restrict out = cj->out;
        #pragma omp simd
        for (int64_t e = lo; e < hi; e++) out[e] += part[e];
    }}
}}
/* out[e] += the P - 1 parts after it (n elements each), on T threads */
static void lg_sum_parts{s}({t} *out, const {t} *parts, int64_t n, int64_t P, int T) {{
    struct lg_sum_job{s} j = {{out, parts, n, P}};
    if (P > 1) lg_run_all(lg_sum_block{s}, &j, (n + 16383) / 16384, T);
}}
#endif
"""

# d: [N, H, W, C, Ho, Wo, F, kh, kw, sh, sw, dh, dw, ph, pw, x's element strides along
#     (N, H, W, C), padded image size (elements), thread slots, relu, Winograd's tiles per
#     block and images per group]
DESC_C = """
    const int64_t *d = (const int64_t *)dp;
    const int64_t N = d[0], H = d[1], W = d[2], C = d[3], Ho = d[4], Wo = d[5], F = d[6];
    const int64_t kh = d[7], kw = d[8], sh = d[9], sw = d[10], dh = d[11], dw = d[12];
    const int64_t ph = d[13], pw = d[14], sn = d[15], sy = d[16], sx = d[17], sc = d[18];
    const int64_t img = d[19];
    const int64_t L = dw == 1 ? kw * C : C, R = dw == 1 ? kh : kh * kw, kwr = dw == 1 ? 1 : kw;
    const int VL = LG_VL{s};
    (void)Ho; (void)sh;
"""

# x (sn, sy, sx, sc strides), w (kh*kw*C, F), bias (F) or NULL, out (N, Ho, Wo, F); one
# image per block of the worker pool, padded in the thread's slot of the scratch
_FORWARD = """
__attribute__((optimize("O3")))
static void @K@_dfwd_image(void *job, int64_t n, int t) {{
    const struct lg_conv_job{s} *cj = (const struct lg_conv_job{s} *)job;
    const char *dp = cj->dp;
""" + DESC_C + """
    const int relu = (int)d[21];
    const {t} *wp = (const {t} *)cj->b, *bp = (const {t} *)cj->c;
    int64_t row;
    const {t} *x = lg_padded{s}((const {t} *)cj->a, ({t} *)cj->buf + t * img, n, H, W, C, ph,
                                pw, sn, sy, sx, sc, &row);
    const int64_t ri = dh * row, rj = dw * C, xs = sw * C;
    for (int64_t oy = 0; oy < Ho; oy++) {{
        const {t} *xrow = x + oy * sh * row;
        {t} *orow = ({t} *)cj->out + (n * Ho + oy) * Wo * F;
        int64_t fb = 0;
        for (; fb + 2 * VL <= F; fb += 2 * VL)
            lg_fwd_row{s}(xrow, wp + fb, orow + fb, bp ? bp + fb : 0, relu, Wo, F, R, L, kwr,
                          ri, rj, xs, 2);
        for (; fb < F; fb += VL)
            lg_fwd_row{s}(xrow, wp + fb, orow + fb, bp ? bp + fb : 0, relu, Wo, F, R, L, kwr,
                          ri, rj, xs, 1);
    }}
}}

int @K@_dfwd(char *dp, char *xp, char *wp, char *bp, char *op, char *bufp) {{
""" + DESC_C + """
    const int T = lg_direct_threads{s}(d);
    if (ph || pw || sc != 1 || sx != C)  /* the borders of each thread's padded image */
        memset(bufp, 0, (size_t)(T * img) * sizeof({t}));
    struct lg_conv_job{s} job = {{dp, xp, wp, bp, op, bufp, 0, 0}};
    lg_run_all(@K@_dfwd_image, &job, N, T);
    return 0;
}}
"""

# x as above, dy contiguous (N, Ho, Wo, F), gw (kh*kw*C, F); the scratch holds per thread
# a padded image and PIXEL_BLOCK pixel offsets, then a (kh*kw*C, F) part per chunk of
# images but the first (whose part is gw)
_GRAD_WEIGHTS = """
__attribute__((optimize("O3")))
static void @K@_dgw_chunk(void *job, int64_t b, int t) {{
    const struct lg_conv_job{s} *cj = (const struct lg_conv_job{s} *)job;
    const char *dp = cj->dp;
""" + DESC_C + """
    /* pixels per block: their rows of dy (PB x F) stay in L1 across the block's tiles */
    const int64_t fit = 24576 / (F * (int64_t)sizeof({t}));
    const int64_t K = kh * kw * C, PB = fit > {block} ? {block} : fit < 16 ? 16 : fit;
    const int64_t PX = {block} * (int64_t)(8 / sizeof({t}));  /* 64-bit offsets, in elements */
    {t} *buf = ({t} *)cj->buf + t * (img + PX);
    int64_t *px = (int64_t *)(buf + img);
    {t} *gw = b ? ({t} *)cj->buf + cj->parts + (b - 1) * K * F : ({t} *)cj->out;
    const int64_t lo = N * b / cj->chunks;
    if (!Ho || !Wo) memset(gw, 0, (size_t)(K * F) * sizeof({t}));
    for (int64_t n = lo; n < N * (b + 1) / cj->chunks; n++) {{
        int64_t row;
        const {t} *x = lg_padded{s}((const {t} *)cj->a, buf, n, H, W, C, ph, pw, sn, sy, sx,
                                    sc, &row);
        const int64_t ri = dh * row, rj = dw * C;
        const {t} *dyn = (const {t} *)cj->b + n * Ho * Wo * F;
        for (int64_t p0 = 0; p0 < Ho * Wo; p0 += PB) {{
            const int64_t P = Ho * Wo - p0 < PB ? Ho * Wo - p0 : PB;
            for (int64_t p = 0; p < P; p++)
                px[p] = (p0 + p) / Wo * sh * row + (p0 + p) % Wo * sw * C;
            for (int64_t r = 0; r < R; r++) {{
                const {t} *xr = x + (r / kwr) * ri + (r % kwr) * rj;
                lg_gw_panel{s}(xr, px, dyn + p0 * F, gw + r * L * F, P, F, L,
                               n == lo && p0 == 0);  /* its first pixels write the part */
            }}
        }}
    }}
}}

int @K@_dgw(char *dp, char *xp, char *dyp, char *gwp, char *bufp) {{
""" + DESC_C + """
    const int64_t K = kh * kw * C, slot = img + {block} * (int64_t)(8 / sizeof({t}));
    const int T = lg_direct_threads{s}(d);
    const int64_t P = lg_chunks{s}(N, T);
    if (ph || pw || sc != 1 || sx != C)
        for (int t = 0; t < T; t++) memset(({t} *)bufp + t * slot, 0, (size_t)img * sizeof({t}));
    struct lg_conv_job{s} job = {{dp, xp, dyp, 0, gwp, bufp, P, T * slot}};
    lg_run_all(@K@_dgw_chunk, &job, P, T);
    lg_sum_parts{s}(({t} *)gwp, ({t} *)bufp + T * slot, K * F, P, T);
    return 0;
}}
"""


def c_names(dtype) -> dict:
    """The format names of this module's C templates (and ``conv_winograd``'s) for ``dtype``."""
    dt = np.dtype(dtype)
    return dict(t="float" if dt == np.float32 else "double", s="f" if dt == np.float32 else "d",
                it="int32_t" if dt == np.float32 else "int64_t", tile=TILE, block=PIXEL_BLOCK)


def forward_source(dtype) -> str:
    """C of ``@K@_dfwd(desc, x, w, bias, out, scratch)`` (with the shared helpers)."""
    names = c_names(dtype)
    return _COMMON.format(**names) + _FORWARD.format(**names)


def grad_weights_source(dtype) -> str:
    """C of ``@K@_dgw(desc, x, dy, gw, scratch)`` (with the shared helpers)."""
    names = c_names(dtype)
    return _COMMON.format(**names) + _GRAD_WEIGHTS.format(**names)


def descriptor(n, h, w, c, ho, wo, f, kh, kw, stride, dilation, pads, strides, slots: int,
               relu: bool = False, padded: int | None = None,
               block: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The int64 descriptor the direct functions read (``strides``: x's element strides
    along (N, H, W, C); ``padded``: elements of a padded image, by default the direct
    kernels'; ``block``: Winograd's tiles per block and images per group)."""
    if padded is None:  # rounded up: the later parts of a thread's scratch start on a line
        padded = -(-(h + 2 * pads[0]) * (w + 2 * pads[1]) * c // 16) * 16
    return np.array([n, h, w, c, ho, wo, f, kh, kw, *stride, *dilation, *pads, *strides,
                     padded, slots, int(relu), *block], dtype=np.int64)


def chunk_parts(slots: int) -> int:
    """Filter-gradient parts beside the result for ``slots`` threads: one per chunk of
    images but the first (C's ``lg_chunks``: one per thread)."""
    return slots - 1


def grad_weights_scratch(desc: np.ndarray, itemsize: int) -> int:
    """Elements of scratch ``@K@_dgw`` needs for ``desc``'s slots."""
    k, f, slots = int(desc[7] * desc[8] * desc[3]), int(desc[6]), int(desc[20])
    per_pixel = 8 // itemsize  # the 64-bit pixel offsets, in elements
    return slots * (int(desc[19]) + PIXEL_BLOCK * per_pixel) + chunk_parts(slots) * k * f


def forward_scratch(desc: np.ndarray) -> int:
    """Elements of scratch ``@K@_dfwd`` needs for ``desc``'s slots."""
    return int(desc[20]) * int(desc[19])
