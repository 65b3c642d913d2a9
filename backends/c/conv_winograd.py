"""Winograd F(4x4, 3x3) C convolution kernels (stride 1, undilated 3x3 filters).

Each 6x6 input tile (step 4) is transformed, ``V = B^T d B``, along the channels in
vectors (channels-last memory), and:

- forward (and the input gradient, a forward correlation of the padded output gradient):
  multiplied with the transformed filters ``U = G g G^T`` (36 products of (tiles, C) by
  (C, F), by the direct kernel's register tile) and transformed back, ``Y = A^T M A``,
  then bias and ReLU, into a 4x4 output tile: 36 multiplies per 4x4 outputs and channel
  pair instead of 144;
- filter gradient: the output gradient's 4x4 tiles are transformed, ``D = A dY A^T``, and
  ``dU = sum over tiles of V (x) D`` (36 products of (C, tiles) by (tiles, F), by the
  direct filter gradient's register tile; the first product of a chunk of images writes
  its part, the rest add), then ``dg = G^T dU G`` in float64 (as the filter transform
  ``U = G g G^T`` of the forward), on the worker pool, fused with the sum of the chunks'
  parts.

Tiles go in blocks (``block``) so that the transformed tiles stay in L2 (forward) or
amortise the read and write of ``dU`` (filter gradient); images with fewer tiles than a
block are grouped. float32 rounding: about 1e-6 of the result's scale (the transforms'
constants are small integers and 1/24).
"""
from __future__ import annotations

import numpy as np

from .conv_direct import DESC_C, TILE, c_names, chunk_parts, lanes

# per dtype, shared by the nodes of a module: the 1-d transforms, padding a group of
# images, and the input transform of a block of tiles
_HELPERS = """
#ifndef LG_WINO_{s}
#define LG_WINO_{s}
/* y = B^T x for 6 vectors (the input transform along one axis) */
LG_INLINE void lg_bt{s}(const lg_v{s} *x, lg_v{s} *y) {{
    y[0] = 4 * x[0] - 5 * x[2] + x[4];
    y[1] = x[3] + x[4] - 4 * (x[1] + x[2]);
    y[2] = 4 * (x[1] - x[2]) - x[3] + x[4];
    y[3] = 2 * (x[3] - x[1]) - x[2] + x[4];
    y[4] = 2 * (x[1] - x[3]) - x[2] + x[4];
    y[5] = 4 * x[1] - 5 * x[3] + x[5];
}}
/* y = A^T x: 6 vectors to 4 (the output transform along one axis) */
LG_INLINE void lg_at{s}(const lg_v{s} *x, lg_v{s} *y) {{
    const lg_v{s} p1 = x[1] + x[2], m1 = x[1] - x[2], p3 = x[3] + x[4], m3 = x[3] - x[4];
    y[0] = x[0] + p1 + p3;
    y[1] = m1 + 2 * m3;
    y[2] = p1 + 4 * p3;
    y[3] = m1 + 8 * m3 + x[5];
}}
/* y = A x: 4 vectors to 6 (the output gradient's transform along one axis) */
LG_INLINE void lg_a{s}(const lg_v{s} *x, lg_v{s} *y) {{
    const lg_v{s} p0 = x[0] + x[2], m1 = x[1] + x[3], q1 = 2 * x[1] + 8 * x[3];
    y[0] = x[0];
    y[1] = p0 + m1;
    y[2] = p0 - m1;
    y[3] = x[0] + 4 * x[2] + q1;
    y[4] = x[0] + 4 * x[2] - q1;
    y[5] = x[3];
}}

/* images n0 .. n0 + ng - 1 of x inside zero rows/cols (ph above, pw left, up to the Hq x Wq
   of their tiles below and right), img elements apart: each thread pads its own groups,
   borders included (no serial clearing of every thread's buffer first) */
LG_INLINE void lg_wino_pad{s}(const {t} *x, {t} *buf, int64_t n0, int64_t ng, int64_t img,
                              int64_t H, int64_t W, int64_t C, int64_t ph, int64_t pw,
                              int64_t Hq, int64_t Wq, int64_t sn, int64_t sy, int64_t sx,
                              int64_t sc) {{
    const size_t px = (size_t)C * sizeof({t});
    for (int64_t gi = 0; gi < ng; gi++) {{
        {t} *im = buf + gi * img;
        memset(im, 0, (size_t)(ph * Wq) * px);
        memset(im + (ph + H) * Wq * C, 0, (size_t)((Hq - ph - H) * Wq) * px);
        for (int64_t y = 0; y < H; y++) {{
            {t} *dst = im + ((y + ph) * Wq + pw) * C;
            const {t} *src = x + (n0 + gi) * sn + y * sy;
            memset(dst - pw * C, 0, (size_t)pw * px);
            memset(dst + W * C, 0, (size_t)(Wq - pw - W) * px);
            if (sc == 1 && sx == C) {{
                __builtin_memcpy(dst, src, W * C * sizeof({t}));
                continue;
            }}
            for (int64_t xx = 0; xx < W; xx++, dst += C)
                for (int64_t c = 0; c < C; c++) dst[c] = src[xx * sx + c * sc];
        }}
    }}
}}

/* V[a * 6 + b][q][c] = (B^T d B)[a][b] for the tiles q0 .. q0 + nb - 1 of the padded
   group in buf (tiles per image, Tx per row), TB rows per plane */
LG_INLINE void lg_wino_in{s}(const {t} *buf, {t} *V, int64_t q0, int64_t nb, int64_t tiles,
                             int64_t Tx, int64_t Wq, int64_t img, int64_t C, int64_t TB) {{
    const int VL = LG_VL{s};
    for (int64_t q = 0; q < nb; q++) {{
        const int64_t tq = (q0 + q) % tiles;
        const {t} *d0 = buf + (q0 + q) / tiles * img + (tq / Tx * 4 * Wq + tq % Tx * 4) * C;
        for (int64_t c = 0; c < C; c += VL) {{
            lg_v{s} e[6], u[6][6], r[6];
            for (int j = 0; j < 6; j++) {{
                for (int i = 0; i < 6; i++) e[i] = lg_ld{s}(d0 + (i * Wq + j) * C + c);
                lg_bt{s}(e, r);
                for (int a = 0; a < 6; a++) u[a][j] = r[a];
            }}
            for (int a = 0; a < 6; a++) {{
                lg_bt{s}(u[a], r);
                for (int b = 0; b < 6; b++) lg_st{s}(V + ((a * 6 + b) * TB + q) * C + c, r[b]);
            }}
        }}
    }}
}}

/* the filter transforms in float64, 8 elements (c, f) at a time: forward, u[a * 6 + b] =
   (G g G^T)[a][b] of the 3x3 taps g[i * 3 + j]; back, g[i * 3 + j] = (G^T u G)[i][j] of u
   summed over the filter gradient's parts (in chunk order) */
typedef double lg_wd{s} __attribute__((vector_size(64)));
typedef {t} lg_w8{s} __attribute__((vector_size(8 * sizeof({t}))));
static const double lg_wino_g{s}[6][3] = {{
    {{1.0 / 4, 0, 0}}, {{-1.0 / 6, -1.0 / 6, -1.0 / 6}}, {{-1.0 / 6, 1.0 / 6, -1.0 / 6}},
    {{1.0 / 24, 1.0 / 12, 1.0 / 6}}, {{1.0 / 24, -1.0 / 12, 1.0 / 6}}, {{0, 0, 1}}}};
/* src (9, n) filters or (36, n) transformed gradient, dst (36, n) or (9, n); forward with
   cols > 0: the input gradient's filters, dst (36, n / cols, cols) of the taps rotated by
   180 degrees and each tap's (cols, n / cols) matrix transposed; back: P - 1 parts of
   36 * n elements after src's own added to it */
struct lg_wino_fjob{s} {{ const {t} *src, *parts; {t} *dst; int64_t n, cols, P; int back; }};
enum {{ LG_WINO_FBLOCK = 1024 }};  /* elements per block of the worker pool */
__attribute__((optimize("O3")))
static void lg_wino_filters{s}(void *p, int64_t blk, int t) {{
    const struct lg_wino_fjob{s} *fj = (const struct lg_wino_fjob{s} *)p;
    const double (*G)[3] = lg_wino_g{s};
    const int64_t n = fj->n, lo = blk * LG_WINO_FBLOCK;
    const int64_t hi = lo + LG_WINO_FBLOCK < n ? lo + LG_WINO_FBLOCK : n;
    (void)t;
    for (int64_t e = lo; e < hi; e += 8) {{
        lg_w8{s} v;
        if (!fj->back) {{
            lg_wd{s} g[9], s[6][3];
            for (int k = 0; k < 9; k++) {{
                if (fj->cols) {{  /* 8 of a row of the rotated, transposed tap */
                    const int64_t R = n / fj->cols, r = e / fj->cols, c = e % fj->cols;
                    const {t} *src = fj->src + (8 - k) * n + c * R + r;
                    for (int l = 0; l < 8; l++) v[l] = src[l * R];
                }} else
                    __builtin_memcpy(&v, fj->src + k * n + e, sizeof v);
                g[k] = __builtin_convertvector(v, lg_wd{s});
            }}
            for (int a = 0; a < 6; a++)
                for (int c = 0; c < 3; c++)
                    s[a][c] = G[a][0] * g[c] + G[a][1] * g[3 + c] + G[a][2] * g[6 + c];
            for (int a = 0; a < 6; a++)
                for (int b = 0; b < 6; b++) {{
                    const lg_wd{s} r = s[a][0] * G[b][0] + s[a][1] * G[b][1] + s[a][2] * G[b][2];
                    v = __builtin_convertvector(r, lg_w8{s});
                    __builtin_memcpy(fj->dst + (a * 6 + b) * n + e, &v, sizeof v);
                }}
        }} else {{
            lg_wd{s} u[36], s[3][6];
            for (int k = 0; k < 36; k++) {{
                __builtin_memcpy(&v, fj->src + k * n + e, sizeof v);
                for (int64_t q = 0; q + 1 < fj->P; q++) {{  /* the parts, in chunk order */
                    lg_w8{s} w;
                    __builtin_memcpy(&w, fj->parts + (q * 36 + k) * n + e, sizeof w);
                    v += w;
                }}
                u[k] = __builtin_convertvector(v, lg_wd{s});
            }}
            for (int i = 0; i < 3; i++)
                for (int b = 0; b < 6; b++) {{
                    s[i][b] = G[0][i] * u[b];
                    for (int a = 1; a < 6; a++) s[i][b] += G[a][i] * u[a * 6 + b];
                }}
            for (int i = 0; i < 3; i++)
                for (int c = 0; c < 3; c++) {{
                    lg_wd{s} r = s[i][0] * G[0][c];
                    for (int b = 1; b < 6; b++) r += s[i][b] * G[b][c];
                    v = __builtin_convertvector(r, lg_w8{s});
                    __builtin_memcpy(fj->dst + (i * 3 + c) * n + e, &v, sizeof v);
                }}
        }}
    }}
}}
/* the job above on the worker pool: T threads where there are two blocks or more */
static void lg_wino_filters_run{s}(struct lg_wino_fjob{s} *job, int T) {{
    const int64_t blocks = (job->n + LG_WINO_FBLOCK - 1) / LG_WINO_FBLOCK;
    lg_run_all(lg_wino_filters{s}, job, blocks, T);
}}
#endif
"""

# the forward's filter transform: u (36, n) of the (9, n) filters, n = C * F a multiple of
# 8; with cols > 0 the input gradient's (rotated, transposed: cols = its output channels)
_FILTERS = """
int @K@_wfilt(char *srcp, char *dstp, intptr_t n, intptr_t cols) {{
    struct lg_wino_fjob{s} job = {{(const {t} *)srcp, 0, ({t} *)dstp, n, cols, 1, 0}};
    lg_wino_filters_run{s}(&job, lg_threads());
    return 0;
}}
"""

# the setup both entry points share: tiles, block, group, the thread's scratch
_SETUP = """
    const int64_t Ty = (Ho + 3) / 4, Tx = (Wo + 3) / 4, Wq = 4 * Tx + 2, tiles = Ty * Tx;
    const int64_t Hq = 4 * Ty + 2;
    const int64_t TB = d[22], G = d[23];
    (void)R; (void)L; (void)kwr; (void)Hq; (void)dh; (void)dw; (void)kh; (void)kw;
"""

# x (sn, sy, sx, sc strides), u (36, C, F), bias (F) or NULL, out (N, Ho, Wo, F); one group
# of G images per block of the worker pool, in the thread's slot of the scratch
_FORWARD = """
__attribute__((optimize("O3")))
static void @K@_wino_group(void *job, int64_t blk, int t) {{
    const struct lg_conv_job{s} *cj = (const struct lg_conv_job{s} *)job;
    const char *dp = cj->dp;
""" + DESC_C + _SETUP + """
    const int relu = (int)d[21];
    const {t} *up = (const {t} *)cj->b, *bp = (const {t} *)cj->c;
    {t} *buf = ({t} *)cj->buf + t * (G * img + 36 * TB * (C + F));
    {t} *V = buf + G * img, *M = V + 36 * TB * C;
    const int64_t n0 = blk * G, ng = N - n0 < G ? N - n0 : G;  /* G images, their tiles in blocks */
    lg_wino_pad{s}((const {t} *)cj->a, buf, n0, ng, img, H, W, C, ph, pw, Hq, Wq, sn, sy, sx,
                      sc);
    for (int64_t q0 = 0; q0 < ng * tiles; q0 += TB) {{
        const int64_t nb = ng * tiles - q0 < TB ? ng * tiles - q0 : TB;
        lg_wino_in{s}(buf, V, q0, nb, tiles, Tx, Wq, img, C, TB);
        for (int xi = 0; xi < 36; xi++) {{  /* M[xi] = V[xi] U[xi] */
            const {t} *v = V + xi * TB * C, *u = up + xi * C * F;
            {t} *m = M + xi * TB * F;
            int64_t fb = 0;
            for (; fb + 2 * VL <= F; fb += 2 * VL)
                lg_fwd_row{s}(v, u + fb, m + fb, 0, 0, nb, F, 1, C, 1, 0, 0, C, 2);
            for (; fb < F; fb += VL)
                lg_fwd_row{s}(v, u + fb, m + fb, 0, 0, nb, F, 1, C, 1, 0, 0, C, 1);
        }}
        for (int64_t q = 0; q < nb; q++) {{  /* out tile = A^T M A (+ bias, ReLU) */
            const int64_t n = n0 + (q0 + q) / tiles, tq = (q0 + q) % tiles;
            const int64_t oy = tq / Tx * 4, ox = tq % Tx * 4;
            {t} *o = ({t} *)cj->out + ((n * Ho + oy) * Wo + ox) * F;
            for (int64_t f = 0; f < F; f += VL) {{
                lg_v{s} e[6], s4[4][6], r[4];
                for (int b = 0; b < 6; b++) {{
                    for (int a = 0; a < 6; a++)
                        e[a] = lg_ld{s}(M + ((a * 6 + b) * TB + q) * F + f);
                    lg_at{s}(e, r);
                    for (int i = 0; i < 4; i++) s4[i][b] = r[i];
                }}
                const lg_v{s} bias = bp ? lg_ld{s}(bp + f) : (lg_v{s}){{0}};
                for (int i = 0; i < 4 && oy + i < Ho; i++) {{
                    lg_at{s}(s4[i], r);
                    for (int j = 0; j < 4 && ox + j < Wo; j++) {{
                        lg_v{s} y = r[j] + bias;
                        if (relu) y = (lg_v{s})((lg_vi{s})y & ~(lg_vi{s})(y <= 0));
                        lg_st{s}(o + (i * Wo + j) * F + f, y);
                    }}
                }}
            }}
        }}
    }}
}}

int @K@_wino(char *dp, char *xp, char *up, char *bp, char *op, char *bufp) {{
""" + DESC_C + _SETUP + """
    const int T = lg_direct_threads{s}(d);
    struct lg_conv_job{s} job = {{dp, xp, up, bp, op, bufp, 0, 0}};
    lg_run_all(@K@_wino_group, &job, (N + G - 1) / G, T);
    return 0;
}}
"""

# x as above, dy contiguous (N, Ho, Wo, F), du (36, C, F) = sum of V (x) D; the scratch
# holds per thread the padded group, V, D and TB tile offsets, then a du part per chunk of
# images but the first (whose part is du)
_GRAD_WEIGHTS = """
__attribute__((optimize("O3")))
static void @K@_wgw_chunk(void *job, int64_t blk, int t) {{
    const struct lg_conv_job{s} *cj = (const struct lg_conv_job{s} *)job;
    const char *dp = cj->dp;
""" + DESC_C + _SETUP + """
    const int64_t PX = TB * (int64_t)(8 / sizeof({t}));  /* the 64-bit offsets, in elements */
    const int64_t U = 36 * C * F;
    {t} *buf = ({t} *)cj->buf + t * (G * img + 36 * TB * (C + F) + PX);
    {t} *V = buf + G * img, *D = V + 36 * TB * C;
    int64_t *px = (int64_t *)(D + 36 * TB * F);
    {t} *du = blk ? ({t} *)cj->buf + cj->parts + (blk - 1) * U : ({t} *)cj->out;
    for (int64_t q = 0; q < TB; q++) px[q] = q * C;  /* V's rows, as pixel offsets */
    const int64_t lo = N * blk / cj->chunks, hi = N * (blk + 1) / cj->chunks;
    for (int64_t n0 = lo; n0 < hi; n0 += G) {{
        const int64_t ng = hi - n0 < G ? hi - n0 : G;
        lg_wino_pad{s}((const {t} *)cj->a, buf, n0, ng, img, H, W, C, ph, pw, Hq, Wq, sn, sy, sx,
                      sc);
        for (int64_t q0 = 0; q0 < ng * tiles; q0 += TB) {{
            const int64_t nb = ng * tiles - q0 < TB ? ng * tiles - q0 : TB;
            lg_wino_in{s}(buf, V, q0, nb, tiles, Tx, Wq, img, C, TB);
            for (int64_t q = 0; q < nb; q++) {{  /* D[a * 6 + b][q][f] = (A dy A^T)[a][b] */
                const int64_t n = n0 + (q0 + q) / tiles, tq = (q0 + q) % tiles;
                const int64_t oy = tq / Tx * 4, ox = tq % Tx * 4;
                const {t} *g = (const {t} *)cj->b + ((n * Ho + oy) * Wo + ox) * F;
                for (int64_t f = 0; f < F; f += VL) {{
                    lg_v{s} e[4], s6[6][4], r[6];
                    for (int j = 0; j < 4; j++) {{  /* rows past the output read as zeros */
                        for (int i = 0; i < 4; i++)
                            e[i] = oy + i < Ho && ox + j < Wo
                                ? lg_ld{s}(g + (i * Wo + j) * F + f) : (lg_v{s}){{0}};
                        lg_a{s}(e, r);
                        for (int a = 0; a < 6; a++) s6[a][j] = r[a];
                    }}
                    for (int a = 0; a < 6; a++) {{
                        lg_a{s}(s6[a], r);
                        for (int b = 0; b < 6; b++)
                            lg_st{s}(D + ((a * 6 + b) * TB + q) * F + f, r[b]);
                    }}
                }}
            }}
            const int first = n0 == lo && q0 == 0;  /* du[xi] = (or +=) V[xi]^T D[xi] */
            for (int xi = 0; xi < 36; xi++)
                lg_gw_panel{s}(V + xi * TB * C, px, D + xi * TB * F, du + xi * C * F, nb, F, C,
                               first);
        }}
    }}
}}

int @K@_wgw(char *dp, char *xp, char *dyp, char *dup, char *bufp, char *gwp) {{
""" + DESC_C + _SETUP + """
    const int64_t PX = TB * (int64_t)(8 / sizeof({t})), slot = G * img + 36 * TB * (C + F) + PX;
    const int T = lg_direct_threads{s}(d);
    const int64_t P = lg_chunks{s}(N, T);
    struct lg_conv_job{s} job = {{dp, xp, dyp, 0, dup, bufp, P, T * slot}};
    lg_run_all(@K@_wgw_chunk, &job, P, T);
    /* gw = G^T (du + the other chunks' parts, in chunk order) G */
    struct lg_wino_fjob{s} back = {{({t} *)dup, ({t} *)bufp + T * slot, ({t} *)gwp, C * F, 0, P,
                                    1}};
    lg_wino_filters_run{s}(&back, T);
    return 0;
}}
"""

FORWARD_BYTES = 1 << 20  # one forward block's V and M: within L2 (2 MB per core measured)
# one filter-gradient block's V and D: where du (read and written per block) fits in L2
# beside them, as the forward's, else larger (fewer passes over du from L3). With 4 MB
# blocks a 64-channel layer streamed V and D through L3 too, and its two threads together
# took a quarter more CPU time than one
GRADIENT_BYTES = 1 << 22
DU_IN_L2_BYTES = 1 << 20


def source(dtype, gradient: bool) -> str:
    """C of ``@K@_wino(desc, x, u, bias, out, scratch)`` and ``@K@_wfilt(wm, u, n, cols)``
    (the filter transform), or with ``gradient`` of ``@K@_wgw(desc, x, dy, du, scratch,
    gw)`` (``du`` the transformed gradient, back-transformed into ``gw``); after
    ``conv_direct``'s source."""
    names = c_names(dtype)
    if gradient:
        return _HELPERS.format(**names) + _GRAD_WEIGHTS.format(**names)
    return _HELPERS.format(**names) + _FORWARD.format(**names) + _FILTERS.format(**names)


def applies(kshape, stride, dilation, in_channels: int, out_channels: int, dtype) -> bool:
    """Whether these kernels take a convolution: 3x3 filters at stride and dilation 1, input
    and output channels multiples of the vector length."""
    v = lanes(dtype)
    return (tuple(kshape) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and in_channels % v == 0 and out_channels % v == 0)


def block(c: int, f: int, ho: int, wo: int, itemsize: int, gradient: bool) -> tuple[int, int]:
    """(tiles per block, images per group): blocks of a multiple of the register tile whose
    transformed tiles fit the budget; images with fewer tiles than that are grouped so that
    one block spans several (a 16x16 image has only 16 tiles)."""
    du_fits = 36 * c * f * itemsize <= DU_IN_L2_BYTES
    budget = GRADIENT_BYTES if gradient and not du_fits else FORWARD_BYTES
    size = max(TILE, budget // (36 * (c + f) * itemsize) // TILE * TILE)
    tiles = ((ho + 3) // 4) * ((wo + 3) // 4)
    if tiles >= size:
        return size, 1
    group = -(-size // tiles)
    return group * tiles, group


def padded(ho: int, wo: int, c: int) -> int:
    """Elements of one image zero-padded for the tiles (rounded up as ``descriptor``: the
    parts of a thread's scratch after it start on a cache line)."""
    return -(-(4 * ((ho + 3) // 4) + 2) * (4 * ((wo + 3) // 4) + 2) * c // 16) * 16


def scratch(desc: np.ndarray, gradient: bool) -> int:
    """Elements of scratch ``@K@_wino`` (or ``@K@_wgw``) needs for ``desc``."""
    c, f, tb, slots = int(desc[3]), int(desc[6]), int(desc[22]), int(desc[20])
    offsets = tb * 2 if gradient else 0  # the tile offsets (counted as float32)
    parts = chunk_parts(slots) * 36 * c * f if gradient else 0
    return slots * (int(desc[23]) * int(desc[19]) + 36 * tb * (c + f) + offsets) + parts
