"""C kernel of ``MaxPoolReluBiasGrad``: the max-pool gradient, the ReLU mask and the bias
gradient's sum in one pass over the input (pool.py's per-image loop).

Tiling windows (no overlap, no padding: the Keras ``MaxPooling2D`` case) write each input
element once: ``gz * (maxout > 0)`` at a window's maximal elements, zero elsewhere, and add
it to the image's part of the bias gradient. Overlapping or padded windows add into the
image's gradient as ``MaxPoolGrad`` does, then mask and sum it in a second pass over the
image while it is in cache. The parts (one per image) are added in image order: the same
result at any thread count. The channels must be the batch-like axis of smallest stride
(channels-last memory); other layouts run the numpy kernel.
"""
from __future__ import annotations

import numpy as np

from core.tensor.signal.pool import MaxPoolReluBiasGrad

from . import generators
from .pool import (_batch_inner, _desc, _ptr, _source, _supported, _tiling, _zero_uncovered,
                   grad_bind, whole_window)
from .result_ring import Parts
from .spec import KernelSpec

# operands as in pool.py's gradient: x (x*), maxout (y*), gz (g*), gx (q*); acc: this
# image's part of the bias gradient (B = the channels), d[28] elements after the last
_PROLOGUE = """
    {t} *restrict acc = ({t} *)partp + a * d[28];
    for (int64_t b = 0; b < B; b++) acc[b] = 0;
    {t} *restrict q0 = ({t} *)gxp + a * qa;
    const {t} *restrict x0 = (const {t} *)xp + a * xa;
    if (!{tiling})  /* overlapping windows add into the image's gradient: zero it first */
        for (int64_t r = 0; r < H; r++)
        for (int64_t c = 0; c < W; c++)
        for (int64_t b = 0; b < B; b++) q0[r * qr + c * qc + b * qb] = 0;
"""

_BODY = """
        const {t} *restrict m = (const {t} *)mp + a * ya + i * yr + j * yc;
        const {t} *restrict g = (const {t} *)gp + a * ga + i * gr + j * gc;{whole}
        for (int64_t r = rs; r < re; r++)
        for (int64_t c = cs; c < ce; c++) {{
            const {t} *restrict xw = x0 + r * xr + c * xc;
            {t} *restrict qw = q0 + r * qr + c * qc;
            if ({tiling} && unit) {{
                /* at a maximum x == maxout: (gz if hit else 0) * (x > 0), NaN kept */
                #pragma omp simd
                for (int64_t b = 0; b < B; b++) {{
                    const {t} v = xw[b] == m[b] ? g[b] * ({t})(m[b] > 0) : ({t})0;
                    qw[b] = v;
                    acc[b] += v;
                }}
            }} else if ({tiling}) {{
                for (int64_t b = 0; b < B; b++) {{
                    const {t} v = xw[b * xb] == m[b * yb] ? g[b * gb] * ({t})(m[b * yb] > 0)
                                                          : ({t})0;
                    qw[b * qb] = v;
                    acc[b] += v;
                }}
            }} else {{
                for (int64_t b = 0; b < B; b++)
                    qw[b * qb] += xw[b * xb] == m[b * yb] ? g[b * gb] : ({t})0;
            }}
        }}
    }}
    if (!{tiling})  /* the mask and the sum, as ReluBiasGrad: g * (x > 0) */
        for (int64_t r = 0; r < H; r++)
        for (int64_t c = 0; c < W; c++) {{
            const {t} *restrict xw = x0 + r * xr + c * xc;
            {t} *restrict qw = q0 + r * qr + c * qc;
            for (int64_t b = 0; b < B; b++) {{
                const {t} v = qw[b * qb] * ({t})(xw[b * xb] > 0);
                qw[b * qb] = v;
                acc[b] += v;
            }}
        }}
}}"""

# the images' parts of the bias gradient, added in image order
_EPILOGUE = """
    {t} *parts = ({t} *)partp, *bias = ({t} *)biasp;
    for (int64_t b = 0; b < d[1]; b++) bias[b] = 0;
    for (int64_t a = 0; a < d[0]; a++)
        for (int64_t b = 0; b < d[1]; b++) bias[b] += parts[a * d[28] + b];"""

_PARAMS = ["xp", "mp", "gp", "gxp", "partp", "biasp"]


def _channels_inner(x: np.ndarray) -> bool:
    """The layout the C loop takes: channels the batch-like axis of smallest stride (the
    bias parts are indexed by channel), and innermost as pool.py's loops want."""
    return abs(x.strides[1]) <= abs(x.strides[0]) and _batch_inner(x)


@generators.register(MaxPoolReluBiasGrad)
def max_pool_relu_bias_grad_spec(node):
    if not _supported(node):
        return None
    op, dtype = node.op, node.inputs[0].dtype
    tiling, parts = _tiling(op), Parts(dtype)

    def run(fn, gx, x, maxout, gz, ho, wo):
        bias = np.empty(x.shape[1], dtype)
        if gz.size == 0:
            gx.fill(0)
            bias.fill(0)
            return gx, bias
        if tiling:
            _zero_uncovered(op, gx, ho, wo)
        scratch, stride = parts(x.shape[0], x.shape[1])
        d = np.append(_desc(op, x, ho, wo, (x, maxout, gz, gx)), stride)  # alive in the call
        fn(_ptr(d), _ptr(x), _ptr(maxout), _ptr(gz), _ptr(gx), _ptr(scratch), _ptr(bias))
        return gx, bias

    whole = whole_window(op, dtype, "v = {x} == mb ? gm : ({t})0; {q} = v; s += v;",
                         first="const {t} mb = m[b], gm = g[b] * ({t})(mb > 0); {t} s = 0, v;",
                         last="acc[b] += s;",
                         decl="{t} *restrict qw = q0 + rs * qr + cs * qc;") if tiling else ""
    source = _source(_BODY, "prbg", _PARAMS, dtype, prologue=_PROLOGUE, epilogue=_EPILOGUE,
                     tiling=int(tiling), whole=whole)
    return KernelSpec(source, [("prbg", "ppppppp")], grad_bind(node, _channels_inner, run))
