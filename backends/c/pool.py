"""C kernels for max pooling and its gradient on 4-d float arrays of any strides.

One pass over the outputs, the images (channels-last; else the outer of N and C) taken
one at a time by the worker pool's threads; for each output position the window's taps
are read with the innermost loop over the batch-like axis (N or C) of smallest stride, so
channels-last memory (the Keras layers' layout) is read in contiguous runs. The output
keeps the input's memory layout, as the numpy kernels do. Channels-first arrays, other
modes and other ranks run the numpy kernels.
"""
from __future__ import annotations

import numpy as np

from core.tensor.signal.pool import MaxPoolGrad, Pool

from ..numpy.pool import check_output_grad, empty_like_layout
from . import generators
from .compiler import char_ptr
from .result_ring import ResultRing
from .scalar import ctype
from .spec import KernelSpec


def _ptr(a: np.ndarray):
    """The address of element [0, ..., 0] (any strides, negative ones included)."""
    return char_ptr(a.ctypes.data)

# d: [A, B, Ho, Wo, H, W, kh, kw, sh, sw, ph, pw, then four operands' element strides
#     along (A, B, rows, cols)]
_HEAD = """
struct @K@_{name}_job {{ const char *dp; char *p[{count}]; }};
/* the outputs of index a along A (images, for channels-last memory): one block of the
   worker pool (different a never share an element) */
__attribute__((optimize("O3")))  /* the module is built at -O1; these loops need vectorizing */
static void @K@_{name}_rows(void *job, int64_t a, int t) {{
    const struct @K@_{name}_job *jb = (const struct @K@_{name}_job *)job;
    {unpack}
    const int64_t *d = (const int64_t *)jb->dp;
    const int64_t B = d[1], Ho = d[2], Wo = d[3], H = d[4], W = d[5];
    const int64_t kh = d[6], kw = d[7], sh = d[8], sw = d[9], ph = d[10], pw = d[11];
    /* element strides along (A, B, rows, cols): x, then the other operands */
    const int64_t xa = d[12], xb = d[13], xr = d[14], xc = d[15];
    const int64_t ya = d[16], yb = d[17], yr = d[18], yc = d[19];
    const int64_t ga = d[20], gb = d[21], gr = d[22], gc = d[23];
    const int64_t qa = d[24], qb = d[25], qr = d[26], qc = d[27];
    (void)ga; (void)gb; (void)gr; (void)gc; (void)qa; (void)qb; (void)qr; (void)qc; (void)t;
    const int unit = xb == 1 && yb == 1 && gb == 1 && qb == 1;
{prologue}
    for (int64_t i = 0; i < Ho; i++)
    for (int64_t j = 0; j < Wo; j++) {{
        int64_t r0 = i * sh - ph, c0 = j * sw - pw;
        int64_t rs = r0 > 0 ? r0 : 0, re = r0 + kh < H ? r0 + kh : H;
        int64_t cs = c0 > 0 ? c0 : 0, ce = c0 + kw < W ? c0 + kw : W;
"""

# the entry point: the A blocks on the pool's threads where the work is large enough
_ENTRY = """
int @K@_{name}(char *dp, {params}) {{
    const int64_t *d = (const int64_t *)dp;
    struct @K@_{name}_job job = {{dp, {{{args}}}}};
    const int big = d[0] * d[1] * d[2] * d[3] * d[6] * d[7] >= 65536;
    lg_run_all(@K@_{name}_rows, &job, d[0], big ? lg_threads() : 1);
{epilogue}
    return 0;
}}"""

# y[b] = max over the window; B innermost (contiguous runs for channels-last memory)
_FORWARD = """
        {t} *restrict y = ({t} *)yp + a * ya + i * yr + j * yc;
        const {t} *restrict x0 = (const {t} *)xp + a * xa;
        if (rs >= re || cs >= ce) {{
            for (int64_t b = 0; b < B; b++) y[b * yb] = -INFINITY;
            continue;
        }}{whole}
        const {t} *x1 = x0 + rs * xr + cs * xc;
        if (unit) for (int64_t b = 0; b < B; b++) y[b] = x1[b];
        else for (int64_t b = 0; b < B; b++) y[b * yb] = x1[b * xb];
        for (int64_t r = rs; r < re; r++)
        for (int64_t c = cs; c < ce; c++) {{
            const {t} *restrict xw = x0 + r * xr + c * xc;
            if (unit) {{
                #pragma omp simd
                for (int64_t b = 0; b < B; b++) {{
                    {t} v = xw[b], m = y[b];
                    y[b] = (v > m || v != v) ? v : m;  /* nan propagates, as np.maximum */
                }}
            }} else {{
                for (int64_t b = 0; b < B; b++) {{
                    {t} v = xw[b * xb], m = y[b * yb];
                    y[b * yb] = (v > m || v != v) ? v : m;
                }}
            }}
        }}
    }}
}}"""

# operands: x (x*), maxout (y*), gz (g*), gx (q*); every maximal element gets gz
_GRAD = """
        const {t} *restrict m = (const {t} *)mp + a * ya + i * yr + j * yc;
        const {t} *restrict g = (const {t} *)gp + a * ga + i * gr + j * gc;
        const {t} *restrict x0 = (const {t} *)xp + a * xa;
        {t} *restrict q0 = ({t} *)gxp + a * qa;
        for (int64_t r = rs; r < re; r++)
        for (int64_t c = cs; c < ce; c++) {{
            const {t} *restrict xw = x0 + r * xr + c * xc;
            {t} *restrict qw = q0 + r * qr + c * qc;
            if (unit) {{
                #pragma omp simd
                for (int64_t b = 0; b < B; b++) qw[b] {op} xw[b] == m[b] ? g[b] : ({t})0;
            }} else {{
                for (int64_t b = 0; b < B; b++)
                    qw[b * qb] {op} xw[b * xb] == m[b * yb] ? g[b * gb] : ({t})0;
            }}
        }}
    }}
}}"""


UNROLL = 16  # windows of at most this many taps get the unrolled loop below

# an output position whose window lies wholly inside the input, unit-stride operands: the
# window's taps unrolled in one vector loop over B, the result kept in registers (not read
# and written back per tap): 2x2 windows of 32 channels, in cache, 8-14% faster (max pooling
# and MaxPoolReluBiasGrad; MaxPoolGrad, which keeps nothing across taps, gains nothing)
_WHOLE = """
        if (unit && re - rs == kh && ce - cs == kw) {{
            const {t} *restrict xw = x0 + rs * xr + cs * xc;
            {decl}
            #pragma omp simd
            for (int64_t b = 0; b < B; b++) {{
                {first}
{taps}
                {last}
            }}
            continue;
        }}"""


def whole_window(op, dtype: str, tap: str, first: str = "", last: str = "",
                 decl: str = "") -> str:
    """C for ``_WHOLE``: ``first``, then ``tap`` once per tap of the window (``{x}``: its
    element of x, ``{q}``: of the gradient; ``{t}`` the C type), then ``last``; '' for a
    window of more than UNROLL taps."""
    (kh, kw), t = op.ws, ctype(dtype)
    if kh * kw > UNROLL:
        return ""
    taps = "\n".join(" " * 16 + tap.format(t=t, x=f"xw[{i} * xr + {j} * xc + b]",
                                           q=f"qw[{i} * qr + {j} * qc + b]")
                     for i in range(kh) for j in range(kw))
    return _WHOLE.format(t=t, decl=decl.format(t=t), first=first.format(t=t),
                         last=last.format(t=t), taps=taps)


def _supported(node) -> bool:
    op, x = node.op, node.inputs[0]
    return (op.mode == "max" and x.ndim == 4 and x.dtype in ("float32", "float64")
            and all(v.dtype == x.dtype for v in node.inputs))


def _desc(op, x, ho, wo, operands) -> np.ndarray:
    """The descriptor: sizes, window geometry, and each operand's element strides along
    (A, B, rows, cols), B being the batch-like axis of smallest stride in ``x``."""
    inner = 1 if abs(x.strides[1]) <= abs(x.strides[0]) else 0
    axes = (1 - inner, inner, 2, 3)
    d = [x.shape[1 - inner], x.shape[inner], ho, wo, x.shape[2], x.shape[3], *op.ws,
         *op.stride, *op.pad]
    for a in operands:
        d.extend(a.strides[k] // a.itemsize for k in axes)
    d.extend([0, 1, 0, 0] * (4 - len(operands)))  # unused operand slots
    return np.array(d, dtype=np.int64)


def _batch_inner(x: np.ndarray) -> bool:
    """True when a batch-like axis (N or C) is innermost in memory, as in channels-last
    arrays; otherwise (channels-first) the numpy kernels' strided slices over whole rows
    are faster than this loop order."""
    return min(abs(x.strides[0]), abs(x.strides[1])) <= abs(x.strides[3])


def _numpy_kernel(node):
    from ..numpy import registry

    return registry.make_kernel(node)


def _check_input(op, x, dtype: str) -> None:
    if x.ndim != 4 or x.dtype != dtype:
        raise ValueError(f"{op}: expected a 4-d {dtype} array, got {x.dtype} {x.shape}")


def _source(body: str, name: str, params: list[str], dtype: str, prologue: str = "",
            epilogue: str = "", **extra) -> str:
    """A kernel's C: the per-image block function (``prologue``, then ``body`` at each
    output position, both formatted with ``t``, the C type, and ``extra``) and its entry
    point, which runs ``epilogue`` after the blocks."""
    t = ctype(dtype)
    unpack = "char *" + ", *".join(f"{p} = jb->p[{i}]" for i, p in enumerate(params)) + ";"
    unpack += "".join(f" (void){p};" for p in params)
    return (_HEAD.format(name=name, unpack=unpack, count=len(params),
                         prologue=prologue.format(t=t, **extra))
            + body.format(t=t, **extra)
            + _ENTRY.format(name=name, params=", ".join(f"char *{p}" for p in params),
                            args=", ".join(params), epilogue=epilogue.format(t=t)))


def _like(x: np.ndarray, shape: tuple, results: ResultRing) -> np.ndarray:
    """An (N, C, H, W) result of ``shape`` in ``x``'s memory layout: for channels-last
    ``x`` a buffer of ``results`` (reused once free), else a fresh one."""
    if x.strides[1] == x.itemsize and min(x.shape) > 1:
        return results((shape[0], shape[2], shape[3], shape[1])).transpose(0, 3, 1, 2)
    return empty_like_layout(x, shape)


def _tiling(op) -> bool:
    """Whether the windows tile the input without overlap or padding: each input element
    is then in at most one window, and the gradient is written, not accumulated."""
    return op.pad == (0, 0) and all(s >= w for s, w in zip(op.stride, op.ws))


def _zero_uncovered(op, gx: np.ndarray, ho: int, wo: int) -> None:
    """Zero the elements of a tiling pool's gradient that no window reads: the gaps between
    windows and the rows/cols past the last window."""
    (kh, kw), (sh, sw) = op.ws, op.stride
    for k in range(kh, sh):  # gaps between windows (a stride longer than the window)
        gx[:, :, k::sh, :] = 0
    for k in range(kw, sw):
        gx[:, :, :, k::sw] = 0
    gx[:, :, ho * sh:, :] = 0
    gx[:, :, :, wo * sw:] = 0


def grad_bind(node, accepts, run):
    """``bind`` of a max-pool gradient's C kernel: the operands' shapes checked, layouts
    that ``accepts(x)`` refuses run the numpy kernel, else
    ``run(fn, gx, x, maxout, gz, Ho, Wo)``, ``gx`` a result buffer in ``x``'s layout."""
    op, dtype = node.op, node.inputs[0].dtype

    def bind(funcs):
        (fn,) = funcs
        fallback, results = _numpy_kernel(node), ResultRing(dtype)

        def kernel(x, maxout, gz):
            _check_input(op, x, dtype)
            if not accepts(x):
                return fallback(x, maxout, gz)
            ho, wo = op.out_shape(x.shape)[-2:]
            check_output_grad(op, gz, x.shape, ho, wo)
            if maxout.shape != gz.shape:
                raise ValueError(f"{op}: pooled output of shape {maxout.shape}, expected "
                                 f"{gz.shape}")
            maxout, gz = (np.asarray(a, dtype=dtype) for a in (maxout, gz))
            return run(fn, _like(x, x.shape, results), x, maxout, gz, ho, wo)

        return kernel

    return bind


@generators.register(Pool)
def pool_spec(node):
    if not _supported(node):
        return None
    op, dtype = node.op, node.inputs[0].dtype

    def bind(funcs):
        (fn,) = funcs
        fallback, results = _numpy_kernel(node), ResultRing(dtype)

        def kernel(x):
            _check_input(op, x, dtype)
            if not _batch_inner(x):
                return fallback(x)
            ho, wo = op.out_shape(x.shape)[-2:]
            y = _like(x, x.shape[:2] + (ho, wo), results)
            if y.size:
                d = _desc(op, x, ho, wo, (x, y))  # kept alive through the call
                fn(_ptr(d), _ptr(x), _ptr(y))
            return y

        return kernel

    whole = whole_window(op, dtype, "s = ({x} > s || {x} != {x}) ? {x} : s;",
                         first="{t} s = xw[b];", last="y[b] = s;")  # (NaN wins, as above)
    return KernelSpec(_source(_FORWARD, "pool", ["xp", "yp"], dtype, whole=whole),
                      [("pool", "ppp")], bind)


@generators.register(MaxPoolGrad)
def max_pool_grad_spec(node):
    if not _supported(node):
        return None
    op, dtype = node.op, node.inputs[0].dtype

    tiling = _tiling(op)

    def run(fn, gx, x, maxout, gz, ho, wo):
        if tiling:
            _zero_uncovered(op, gx, ho, wo)
        else:
            gx.fill(0)
        if gz.size:
            d = _desc(op, x, ho, wo, (x, maxout, gz, gx))  # kept alive through the call
            fn(_ptr(d), _ptr(x), _ptr(maxout), _ptr(gz), _ptr(gx))
        return gx

    return KernelSpec(_source(_GRAD, "grad", ["xp", "mp", "gp", "gxp"], dtype,
                              op="=" if tiling else "+="), [("grad", "ppppp")],
                      grad_bind(node, _batch_inner, run))
