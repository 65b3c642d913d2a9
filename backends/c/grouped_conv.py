"""C grouped and depthwise conv2d: forward (with ``GroupedConv2dBiasAct``'s bias and ReLU),
input gradient and filter gradient, for channels-last float32/float64 arrays.

No im2col and no BLAS (a depthwise group has no product to speak of; wider groups run a
direct product per group, where per-group BLAS calls would pay from about 32 channels per
group on: not done). Two loop shapes:

- depthwise (one input channel per group, any channel multiplier ``M``): the channels are
  the innermost, vectorized axis everywhere. The filters are laid out ``(kh, kw, M, C)``,
  so that for each multiplier index ``m`` a vector of channels ``c`` reads a vector of
  input channels and of filters; output channel ``c * M + m`` (Keras's order) is stored
  from it (a scattered store when ``M > 1``). The forward pass keeps one vector of output
  channels in a register across the window's taps; the filter gradient sums a tap's
  products along an output row in a register; the input gradient gathers, for each input
  pixel, the output pixels whose windows read it (no zero fill, no scattered adds).
  The output gradient is read in ``(N, Ho, Wo, M, C)`` order (a transposed copy when
  ``M > 1``).
- general groups (``Cg > 1`` input channels per group): one small product per group and
  pixel, filters ``(kh, kw, G, Cg, Fg)`` (the input gradient's ``(kh, kw, G, Fg, Cg)``).
  Where the group's output channels ``Fg`` (input gradient: input channels ``Cg``) are a
  multiple of the vector length, a vector of them stays in a register across the window
  (filter gradient: along an output row); otherwise the group's channels are the
  innermost, vectorized loop over memory.

The worker pool's threads (``workers.py``) take blocks of output rows (forward) or input
rows (input gradient): no two blocks write one element, so any split gives the same
result. The filter gradient splits the images into chunks (threads + 2, or 1 on one
thread), each summed into its own part, and adds the parts in chunk order: the result
depends on the thread count only. The input may have any strides with channels innermost
(``abs(stride of C) <= abs(stride of W)``); a channel stride other than 1 takes the
scalar loops. Channels-first input and other dtypes run the numpy kernels.
"""
from __future__ import annotations

import os

import numpy as np

from core.tensor.grouped_conv import (GroupedConv2d, GroupedConv2dBiasAct,
                                      GroupedConv2dGradInputs, GroupedConv2dGradWeights)

from ..numpy.conv import _channels_last, check_bias
from ..numpy.grouped_conv import _check_g, _geometry
from . import generators
from .compiler import char_ptr
from .result_ring import ResultRing, Scratch
from .scalar import ctype
from .spec import KernelSpec

SLOTS = max(1, os.cpu_count() or 1)  # threads the filter gradient's parts have room for

# d: [N, H, W, C, Ho, Wo, F, kh, kw, sh, sw, dh, dw, ph, pw, x's element strides along
#     (N, H, W, C), groups G, input channels per group Cg, output channels per group Fg,
#     relu, thread slots]
_COMMON = """
#ifndef LG_GROUPED_{s}
#define LG_GROUPED_{s}
typedef {t} lg_gv{s} __attribute__((vector_size(64)));
typedef {it} lg_gvi{s} __attribute__((vector_size(64)));
#define LG_GVL{s} ((int64_t)(64 / sizeof({t})))
static inline __attribute__((always_inline)) lg_gv{s} lg_gld{s}(const {t} *p) {{
    lg_gv{s} v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}}
static inline __attribute__((always_inline)) void lg_gst{s}({t} *p, lg_gv{s} v) {{
    __builtin_memcpy(p, &v, sizeof v);
}}
/* maximum(v, 0): NaN stays NaN (NaN < 0 is false) */
static inline __attribute__((always_inline)) lg_gv{s} lg_grelu{s}(lg_gv{s} v) {{
    return (lg_gv{s})((lg_gvi{s})v & ~(lg_gvi{s})(v < 0));
}}
#endif
#ifndef LG_GROUPED_TAPS
#define LG_GROUPED_TAPS
/* [lo, hi): the k < K for which base + k * step lies in [0, n) */
static inline void lg_gtaps(int64_t base, int64_t step, int64_t n, int64_t K, int64_t *lo,
                            int64_t *hi) {{
    const int64_t a = base < 0 ? (-base + step - 1) / step : 0;
    int64_t b = base >= n ? 0 : (n - 1 - base) / step + 1;
    if (b > K) b = K;
    *lo = a;
    *hi = b > a ? b : a;
}}
/* the output index o < O that reads position p through tap k (o * s - pad + k * dil == p),
   or -1 */
static inline int64_t lg_gsource(int64_t p, int64_t k, int64_t s, int64_t pad, int64_t dil,
                                 int64_t O) {{
    const int64_t q = p + pad - k * dil;
    if (s == 1) return q >= 0 && q < O ? q : -1;  /* (no division: the usual case) */
    if (q < 0 || q % s) return -1;
    return q / s < O ? q / s : -1;
}}
#endif
"""

_DESC = """
    const int64_t *d = j->d;
    const int64_t N = d[0], H = d[1], W = d[2], C = d[3], Ho = d[4], Wo = d[5], F = d[6];
    const int64_t kh = d[7], kw = d[8], sh = d[9], sw = d[10], dh = d[11], dw = d[12];
    const int64_t ph = d[13], pw = d[14], sn = d[15], sy = d[16], sx = d[17], sc = d[18];
    const int64_t G = d[19], Cg = d[20], Fg = d[21], M = Fg;
    const int64_t VL = LG_GVL{s};
    (void)N; (void)H; (void)W; (void)C; (void)Ho; (void)Wo; (void)F; (void)kh; (void)kw;
    (void)sh; (void)sw; (void)dh; (void)dw; (void)ph; (void)pw; (void)sn; (void)sy; (void)sx;
    (void)sc; (void)G; (void)Cg; (void)Fg; (void)M; (void)VL;
"""

# the job of one call; blocks b of rows (forward, input gradient) or chunks of images
# (filter gradient, parts after the result)
_JOB = """
struct @K@_job {{ const int64_t *d; const {t} *a, *b, *bias; {t} *out, *parts;
                  int64_t blocks; }};
/* threads for this call: the pool's, no more than the slots, one for small work */
static int @K@_threads(const int64_t *d, int64_t work) {{
    const int t = work >= 65536 ? lg_threads() : 1;
    return t > d[23] ? (int)d[23] : t;
}}
"""


def _block(name: str) -> str:
    """The head of a block function of the worker pool: the job and the descriptor."""
    return ('__attribute__((optimize("O3")))\n'
            f"static void @K@_{name}(void *jp, int64_t blk, int t) {{{{\n"
            "    const struct @K@_job *j = (const struct @K@_job *)jp;\n" + _DESC)


# an entry point whose blocks are rows of the output (d[4]: Ho) or of the input (d[1]: H):
# several per thread (a thread the OS delays leaves a smaller share)
_ROWS_ENTRY = """
int @K@_{{name}}(char *dp, char *ap, char *bp, char *biasp, char *outp) {{
    const int64_t *d = (const int64_t *)dp;
    const int64_t R = d[0] * d[{{rows}}];
    const int T = @K@_threads(d, d[0] * d[4] * d[5] * d[6] * d[7] * d[8] * d[20]);
    struct @K@_job job = {{d, (const {t} *)ap, (const {t} *)bp, (const {t} *)biasp,
                          ({t} *)outp, 0, T > 1 ? (R < 8 * T ? R : 8 * T) : 1}};
    lg_run_all(@K@_{{name}}_rows, &job, job.blocks, T);
    return 0;
}}
"""

# x (any strides, channels innermost), w (kh, kw, M, C) or (kh, kw, G, Cg, Fg), bias in
# the same channel order as w's last axes or NULL, out (N, Ho, Wo, F) contiguous
_FORWARD = """
""" + _block("fwd_rows") + """
    const int relu = (int)d[22];
    const {t} *restrict x = j->a, *restrict w = j->b, *restrict bias = j->bias;
    const int64_t R = N * Ho;
    (void)t;
    for (int64_t r = R * blk / j->blocks; r < R * (blk + 1) / j->blocks; r++) {{
        const int64_t n = r / Ho, oy = r % Ho, y0 = oy * sh - ph;
        int64_t i0, i1;
        lg_gtaps(y0, dh, H, kh, &i0, &i1);
        for (int64_t ox = 0; ox < Wo; ox++) {{
            const int64_t x0 = ox * sw - pw;
            int64_t j0, j1;
            lg_gtaps(x0, dw, W, kw, &j0, &j1);
            const {t} *restrict xs = x + n * sn + y0 * sy + x0 * sx;  /* tap (0, 0) */
            {t} *restrict o = j->out + (r * Wo + ox) * F;
            if (Cg == 1) {{  /* depthwise: vectors of channels c, for each multiplier m */
                for (int64_t m = 0; m < M; m++) {{
                    const {t} *wm = w + m * C;
                    int64_t c = 0;
                    if (sc == 1)
                        for (; c + VL <= C; c += VL) {{
                            lg_gv{s} acc = bias ? lg_gld{s}(bias + m * C + c) : (lg_gv{s}){{0}};
                            for (int64_t i = i0; i < i1; i++)
                                for (int64_t jj = j0; jj < j1; jj++)
                                    acc += lg_gld{s}(xs + i * dh * sy + jj * dw * sx + c)
                                           * lg_gld{s}(wm + (i * kw + jj) * M * C + c);
                            if (relu) acc = lg_grelu{s}(acc);
                            if (M == 1) lg_gst{s}(o + c, acc);
                            else for (int64_t l = 0; l < VL; l++) o[(c + l) * M + m] = acc[l];
                        }}
                    for (; c < C; c++) {{
                        {t} acc = bias ? bias[m * C + c] : 0;
                        for (int64_t i = i0; i < i1; i++)
                            for (int64_t jj = j0; jj < j1; jj++)
                                acc += xs[i * dh * sy + jj * dw * sx + c * sc]
                                       * wm[(i * kw + jj) * M * C + c];
                        o[c * M + m] = relu && acc < 0 ? 0 : acc;
                    }}
                }}
                continue;
            }}
            if (Fg % VL == 0) {{  /* a vector of a group's outputs in a register */
                for (int64_t g = 0; g < G; g++)
                    for (int64_t fb = 0; fb < Fg; fb += VL) {{
                        lg_gv{s} acc = bias ? lg_gld{s}(bias + g * Fg + fb) : (lg_gv{s}){{0}};
                        for (int64_t i = i0; i < i1; i++)
                            for (int64_t jj = j0; jj < j1; jj++) {{
                                const {t} *xt = xs + i * dh * sy + jj * dw * sx + g * Cg * sc;
                                const {t} *wt = w + ((i * kw + jj) * G + g) * Cg * Fg + fb;
                                for (int64_t c = 0; c < Cg; c++)
                                    acc += xt[c * sc] * lg_gld{s}(wt + c * Fg);
                            }}
                        if (relu) acc = lg_grelu{s}(acc);
                        lg_gst{s}(o + g * Fg + fb, acc);
                    }}
                continue;
            }}
            /* general groups: o[g * Fg + f] += x[g * Cg + c] * w[i, j, g, c, f] */
            for (int64_t f = 0; f < F; f++) o[f] = bias ? bias[f] : 0;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t jj = j0; jj < j1; jj++) {{
                    const {t} *xt = xs + i * dh * sy + jj * dw * sx;
                    const {t} *wt = w + (i * kw + jj) * G * Cg * Fg;
                    for (int64_t g = 0; g < G; g++)
                        for (int64_t c = 0; c < Cg; c++) {{
                            const {t} xv = xt[(g * Cg + c) * sc];
                            const {t} *restrict wr = wt + (g * Cg + c) * Fg;
                            {t} *restrict og = o + g * Fg;
                            #pragma omp simd
                            for (int64_t f = 0; f < Fg; f++) og[f] += xv * wr[f];
                        }}
                }}
            if (relu)
                #pragma omp simd
                for (int64_t f = 0; f < F; f++) o[f] = o[f] < 0 ? 0 : o[f];
        }}
    }}
}}

""" + _ROWS_ENTRY.replace("{{name}}", "fwd").replace("{{rows}}", "4")

# x as above, dy (N, Ho, Wo, F) contiguous (depthwise: (N, Ho, Wo, M, C)), gw in w's
# layout; the parts of chunks 1.. after each other in parts
_GRAD_WEIGHTS = """
""" + _block("gw_chunk") + """
    const {t} *restrict x = j->a, *restrict dy = j->b;
    const int64_t K = kh * kw * Cg * F;
    {t} *restrict gw = blk ? j->parts + (blk - 1) * K : j->out;
    (void)t;
    for (int64_t e = 0; e < K; e++) gw[e] = 0;
    for (int64_t n = N * blk / j->blocks; n < N * (blk + 1) / j->blocks; n++)
    for (int64_t oy = 0; oy < Ho; oy++) {{
        const int64_t y0 = oy * sh - ph;
        const {t} *restrict dyr = dy + (n * Ho + oy) * Wo * F;
        int64_t i0, i1;
        lg_gtaps(y0, dh, H, kh, &i0, &i1);
        for (int64_t i = i0; i < i1; i++) {{
            const {t} *restrict xr = x + n * sn + (y0 + i * dh) * sy;
            if (Cg == 1) {{  /* depthwise: a tap's products along the row, in a register */
                for (int64_t jj = 0; jj < kw; jj++) {{
                    int64_t o0, o1;  /* the output columns whose tap jj is inside the image */
                    lg_gtaps(jj * dw - pw, sw, W, Wo, &o0, &o1);
                    const {t} *restrict xt = xr + (jj * dw - pw) * sx;
                    for (int64_t m = 0; m < M; m++) {{
                        {t} *restrict gt = gw + ((i * kw + jj) * M + m) * C;
                        int64_t c = 0;
                        if (sc == 1)
                            for (; c + VL <= C; c += VL) {{
                                lg_gv{s} acc = {{0}};
                                for (int64_t ox = o0; ox < o1; ox++)
                                    acc += lg_gld{s}(xt + ox * sw * sx + c)
                                           * lg_gld{s}(dyr + ox * F + m * C + c);
                                lg_gst{s}(gt + c, lg_gld{s}(gt + c) + acc);
                            }}
                        for (; c < C; c++) {{
                            {t} acc = 0;
                            for (int64_t ox = o0; ox < o1; ox++)
                                acc += xt[ox * sw * sx + c * sc] * dyr[ox * F + m * C + c];
                            gt[c] += acc;
                        }}
                    }}
                }}
                continue;
            }}
            if (Fg % VL == 0) {{  /* a tap's products along the row, in a register */
                for (int64_t jj = 0; jj < kw; jj++) {{
                    int64_t o0, o1;
                    lg_gtaps(jj * dw - pw, sw, W, Wo, &o0, &o1);
                    const {t} *restrict xt = xr + (jj * dw - pw) * sx;
                    {t} *restrict gt = gw + (i * kw + jj) * G * Cg * Fg;
                    for (int64_t g = 0; g < G; g++)
                        for (int64_t c = 0; c < Cg; c++)
                            for (int64_t fb = 0; fb < Fg; fb += VL) {{
                                lg_gv{s} acc = {{0}};
                                for (int64_t ox = o0; ox < o1; ox++)
                                    acc += xt[ox * sw * sx + (g * Cg + c) * sc]
                                           * lg_gld{s}(dyr + ox * F + g * Fg + fb);
                                {t} *p = gt + (g * Cg + c) * Fg + fb;
                                lg_gst{s}(p, lg_gld{s}(p) + acc);
                            }}
                }}
                continue;
            }}
            /* general groups: gw[i, j, g, c, f] += x[g * Cg + c] * dy[g * Fg + f] */
            for (int64_t ox = 0; ox < Wo; ox++) {{
                const int64_t x0 = ox * sw - pw;
                int64_t j0, j1;
                lg_gtaps(x0, dw, W, kw, &j0, &j1);
                for (int64_t jj = j0; jj < j1; jj++) {{
                    const {t} *xt = xr + (x0 + jj * dw) * sx;
                    {t} *gt = gw + (i * kw + jj) * G * Cg * Fg;
                    for (int64_t g = 0; g < G; g++)
                        for (int64_t c = 0; c < Cg; c++) {{
                            const {t} xv = xt[(g * Cg + c) * sc];
                            const {t} *restrict dr = dyr + ox * F + g * Fg;
                            {t} *restrict gr = gt + (g * Cg + c) * Fg;
                            #pragma omp simd
                            for (int64_t f = 0; f < Fg; f++) gr[f] += xv * dr[f];
                        }}
                }}
            }}
        }}
    }}
}}

int @K@_gw(char *dp, char *xp, char *dyp, char *gwp, char *partp) {{
    const int64_t *d = (const int64_t *)dp;
    const int T = @K@_threads(d, d[0] * d[4] * d[5] * d[6] * d[7] * d[8] * d[20]);
    const int64_t P = T < 2 ? 1 : d[0] < T + 2 ? d[0] : T + 2;
    const int64_t K = d[7] * d[8] * d[20] * d[6];
    struct @K@_job job = {{d, (const {t} *)xp, (const {t} *)dyp, 0, ({t} *)gwp, ({t} *)partp,
                          P}};
    lg_run_all(@K@_gw_chunk, &job, P, T);
    {t} *gw = ({t} *)gwp;
    for (int64_t k = 0; k + 1 < P; k++) {{  /* in chunk order: the same at any split */
        const {t} *part = ({t} *)partp + k * K;
        #pragma omp simd
        for (int64_t e = 0; e < K; e++) gw[e] += part[e];
    }}
    return 0;
}}
"""

# w as the forward's, dy (N, Ho, Wo, F) contiguous (depthwise: (N, Ho, Wo, M, C)),
# dx (N, H, W, C) contiguous: each input pixel gathers the output pixels that read it
_GRAD_INPUTS = """
""" + _block("gx_rows") + """
    const {t} *restrict w = j->a, *restrict dy = j->b;
    const int64_t R = N * H;
    (void)t;
    int64_t dyo[kh * kw], wof[kh * kw];  /* the valid taps' offsets into dy and w */
    for (int64_t r = R * blk / j->blocks; r < R * (blk + 1) / j->blocks; r++) {{
        const int64_t n = r / H, iy = r % H;
        for (int64_t ix = 0; ix < W; ix++) {{
            {t} *restrict dx = j->out + (r * W + ix) * C;
            int64_t K = 0;
            for (int64_t i = 0; i < kh; i++) {{
                const int64_t oy = lg_gsource(iy, i, sh, ph, dh, Ho);
                if (oy < 0) continue;
                for (int64_t jj = 0; jj < kw; jj++) {{
                    const int64_t ox = lg_gsource(ix, jj, sw, pw, dw, Wo);
                    if (ox < 0) continue;
                    dyo[K] = ((n * Ho + oy) * Wo + ox) * F;
                    wof[K++] = (i * kw + jj) * Cg * F;
                }}
            }}
            if (Cg == 1) {{  /* depthwise: dx[c] = sum over taps and m of dy[m, c] w[i, j, m, c] */
                int64_t c = 0;
                for (; c + VL <= C; c += VL) {{
                    lg_gv{s} acc = {{0}};
                    for (int64_t k = 0; k < K; k++)
                        for (int64_t m = 0; m < M; m++)
                            acc += lg_gld{s}(dy + dyo[k] + m * C + c)
                                   * lg_gld{s}(w + wof[k] + m * C + c);
                    lg_gst{s}(dx + c, acc);
                }}
                for (; c < C; c++) {{
                    {t} acc = 0;
                    for (int64_t k = 0; k < K; k++)
                        for (int64_t m = 0; m < M; m++)
                            acc += dy[dyo[k] + m * C + c] * w[wof[k] + m * C + c];
                    dx[c] = acc;
                }}
                continue;
            }}
            /* general groups, w as (kh, kw, G, Fg, Cg):
               dx[g * Cg + c] = sum over taps and f of dy[g * Fg + f] w[i, j, g, f, c] */
            if (Cg % VL == 0) {{  /* a vector of a group's input channels in a register */
                for (int64_t g = 0; g < G; g++)
                    for (int64_t cb = 0; cb < Cg; cb += VL) {{
                        lg_gv{s} acc = {{0}};
                        for (int64_t k = 0; k < K; k++) {{
                            const {t} *restrict dr = dy + dyo[k] + g * Fg;
                            const {t} *restrict wr = w + wof[k] + g * Fg * Cg + cb;
                            for (int64_t f = 0; f < Fg; f++) acc += dr[f] * lg_gld{s}(wr + f * Cg);
                        }}
                        lg_gst{s}(dx + g * Cg + cb, acc);
                    }}
                continue;
            }}
            for (int64_t c = 0; c < C; c++) dx[c] = 0;
            for (int64_t k = 0; k < K; k++)
                for (int64_t g = 0; g < G; g++)
                    for (int64_t f = 0; f < Fg; f++) {{
                        const {t} dv = dy[dyo[k] + g * Fg + f];
                        const {t} *restrict wr = w + wof[k] + (g * Fg + f) * Cg;
                        {t} *restrict dg = dx + g * Cg;
                        #pragma omp simd
                        for (int64_t c = 0; c < Cg; c++) dg[c] += dv * wr[c];
                    }}
        }}
    }}
}}

""" + _ROWS_ENTRY.replace("{{name}}", "gx").replace("{{rows}}", "1")

def _ptr(a: np.ndarray):
    """The address of element [0, ..., 0] (any strides)."""
    return char_ptr(a.ctypes.data)


_NULL = char_ptr(0)


def _descriptor(op, n, hw, c, ohw, f, khw, x_strides, cg: int, relu: bool = False) -> np.ndarray:
    (h, w), (ho, wo), (ph, pw) = hw, ohw, _geometry(op, hw, khw)[0]
    groups = op.num_groups
    return np.array([n, h, w, c, ho, wo, f, *khw, *op.subsample, *op.filter_dilation, ph, pw,
                     *x_strides, groups, cg, f // groups, int(relu), SLOTS], dtype=np.int64)


def _image_strides(x: np.ndarray) -> tuple:
    """Element strides of a (N, C, H, W) array along (N, H, W, C)."""
    s = [st // x.itemsize for st in x.strides]
    return s[0], s[2], s[3], s[1]


def _filters(w: np.ndarray, op, outputs_last: bool = True) -> np.ndarray:
    """(F, Cg, kh, kw) filters -> the C layout: depthwise (kh, kw, M, C), else
    (kh, kw, G, Cg, Fg) (``outputs_last``) or (kh, kw, G, Fg, Cg); flipped for a true
    convolution."""
    f, cg, kh, kw = w.shape
    if op.filter_flip:
        w = w[:, :, ::-1, ::-1]
    g = op.num_groups
    if cg == 1:  # output channel c * M + m
        return np.ascontiguousarray(w.reshape(g, f // g, kh, kw).transpose(2, 3, 1, 0))
    order = (3, 4, 0, 2, 1) if outputs_last else (3, 4, 0, 1, 2)
    return np.ascontiguousarray(w.reshape(g, f // g, cg, kh, kw).transpose(order))


def _unfilters(gw: np.ndarray, op, f: int, cg: int) -> np.ndarray:
    """The inverse of ``_filters``: the C layout back to (F, Cg, kh, kw)."""
    kh, kw, g = gw.shape[0], gw.shape[1], op.num_groups
    if cg == 1:
        out = gw.transpose(3, 2, 0, 1).reshape(f, 1, kh, kw)
    else:
        out = gw.transpose(2, 4, 3, 0, 1).reshape(f, cg, kh, kw)
    return np.ascontiguousarray(out[:, :, ::-1, ::-1] if op.filter_flip else out)


def _channel_order(v: np.ndarray, op, cg: int) -> np.ndarray:
    """(..., F) in Keras's order (c * M + m) -> the depthwise kernels' (..., M, C) order
    (a copy when M > 1); other groups keep it."""
    g = op.num_groups
    m = v.shape[-1] // g
    if cg != 1 or m == 1:
        return np.ascontiguousarray(v)
    return np.ascontiguousarray(np.swapaxes(v.reshape(v.shape[:-1] + (g, m)), -1, -2))


def _numpy_kernel(node):
    from ..numpy import registry

    return registry.make_kernel(node)


def _usable(dtype, *arrays) -> bool:
    return all(a.dtype == dtype and a.size for a in arrays)


def _forward_kernel(op, fn, fallback, dtype):
    results = ResultRing(dtype)
    relu = getattr(op, "activation", "linear") == "relu"

    def kernel(x, w, *bias):
        if not (_usable(dtype, x, w) and _channels_last(x)
                and x.shape[1] == w.shape[1] * op.num_groups and w.shape[0] % op.num_groups == 0):
            return fallback(x, w, *bias)
        f, cg, kh, kw = w.shape
        n, c, h, wd = x.shape
        _, (ho, wo) = _geometry(op, (h, wd), (kh, kw))
        b = None
        if bias:
            b = _channel_order(np.asarray(check_bias(op, bias[0], f), dtype), op, cg)
        d = _descriptor(op, n, (h, wd), c, (ho, wo), f, (kh, kw), _image_strides(x), cg, relu)
        out, wt = results((n, ho, wo, f)), _filters(w, op)  # (locals: alive through the call)
        fn(_ptr(d), _ptr(x), _ptr(wt), _NULL if b is None else _ptr(b), _ptr(out))
        return out.transpose(0, 3, 1, 2)

    return kernel


def _output_grad(g: np.ndarray, op, cg: int) -> np.ndarray:
    """A (N, F, Ho, Wo) output gradient as the kernels read it: (N, Ho, Wo, F) contiguous."""
    return _channel_order(g.transpose(0, 2, 3, 1), op, cg)


def _weights_kernel(op, fn, fallback, dtype):
    scratch = Scratch(dtype)

    def kernel(x, g, kshape):
        if not (_usable(dtype, x, g) and _channels_last(x) and x.shape[1] % op.num_groups == 0
                and g.shape[1] % op.num_groups == 0):
            return fallback(x, g, kshape)
        kh, kw = (int(k) for k in kshape)
        n, c, h, wd = x.shape
        f, cg = g.shape[1], c // op.num_groups
        _, (ho, wo) = _geometry(op, (h, wd), (kh, kw))
        _check_g(op, g, (n, f, ho, wo))
        d = _descriptor(op, n, (h, wd), c, (ho, wo), f, (kh, kw), _image_strides(x), cg)
        gw = np.empty((kh, kw, f // op.num_groups, op.num_groups) if cg == 1
                      else (kh, kw, op.num_groups, cg, f // op.num_groups), dtype)
        parts = scratch((SLOTS + 1) * gw.size)  # a part per chunk of images but the first
        dy = _output_grad(g, op, cg)
        fn(_ptr(d), _ptr(x), _ptr(dy), _ptr(gw), _ptr(parts))
        return _unfilters(gw, op, f, cg)

    return kernel


def _inputs_kernel(op, fn, fallback, dtype):
    results = ResultRing(dtype)

    def kernel(w, g, ishape):
        if not (_usable(dtype, w, g) and w.shape[0] % op.num_groups == 0):
            return fallback(w, g, ishape)
        h, wd = (int(s) for s in ishape)
        f, cg, kh, kw = w.shape
        n, c = g.shape[0], cg * op.num_groups
        _, (ho, wo) = _geometry(op, (h, wd), (kh, kw))
        _check_g(op, g, (n, f, ho, wo))
        d = _descriptor(op, n, (h, wd), c, (ho, wo), f, (kh, kw), (0, 0, 0, 1), cg)
        dx, wt, dy = results((n, h, wd, c)), _filters(w, op, False), _output_grad(g, op, cg)
        fn(_ptr(d), _ptr(wt), _ptr(dy), _NULL, _ptr(dx))
        return dx.transpose(0, 3, 1, 2)

    return kernel


def _spec(node, body: str, name: str, signature: str, make):
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or any(v.dtype != dtype for v in node.inputs[:2]):
        return None
    dt = np.dtype(dtype)
    names = dict(t=ctype(dtype), s="f" if dt == np.float32 else "d",
                 it="int32_t" if dt == np.float32 else "int64_t")
    source = _COMMON.format(**names) + _JOB.format(**names) + body.format(**names)

    def bind(funcs):
        return make(node.op, funcs[0], _numpy_kernel(node), dt)

    return KernelSpec(source, [(name, signature)], bind)


@generators.register(GroupedConv2d, GroupedConv2dBiasAct)
def grouped_conv2d_spec(node):
    return _spec(node, _FORWARD, "fwd", "ppppp", _forward_kernel)


@generators.register(GroupedConv2dGradWeights)
def grouped_conv2d_grad_weights_spec(node):
    return _spec(node, _GRAD_WEIGHTS, "gw", "ppppp", _weights_kernel)


@generators.register(GroupedConv2dGradInputs)
def grouped_conv2d_grad_inputs_spec(node):
    return _spec(node, _GRAD_INPUTS, "gx", "ppppp", _inputs_kernel)
