"""C kernel of ``ReluBiasGrad``: ``g * (out > 0)`` and its column sums in one pass.

The operands are read as (rows, F) matrices (the last axis contiguous, as the conv layers'
channels-last gradients are), in chunks of rows taken by the worker pool's threads; each
chunk sums into its own part of the bias gradient, then the parts are added in order.
Other layouts and dtypes run the numpy kernel.
"""
from __future__ import annotations

import numpy as np

from core.tensor.conv import ReluBiasGrad

from ..numpy.conv import relu_bias_grad
from . import generators
from .compiler import char_ptr
from .result_ring import Parts, ResultRing
from .scalar import ctype
from .spec import KernelSpec

PARTS = 16  # chunks of rows, each summed into its own part of the bias gradient

# chunks of rows (at least 256 each, at most PARTS) on the worker pool's threads; the
# parts are added in chunk order: the same result at any thread count
_SOURCE = """
struct @K@_rbg_job {{ intptr_t rows, F, S, P; const {t} *out, *g; {t} *pre, *parts; }};
__attribute__((optimize("O3")))
static void @K@_rbg_chunk(void *job, int64_t b, int t) {{
    const struct @K@_rbg_job *j = (const struct @K@_rbg_job *)job;
    const intptr_t F = j->F;
    {t} *restrict acc = j->parts + b * j->S;  /* a cache line of its own */
    (void)t;
    for (intptr_t f = 0; f < F; f++) acc[f] = 0;
    for (intptr_t r = j->rows * b / j->P; r < j->rows * (b + 1) / j->P; r++) {{
        /* p is gr in place: each element read, then written (no restrict between them) */
        const {t} *restrict o = j->out + r * F, *gr = j->g + r * F;
        {t} *p = j->pre + r * F;
        #pragma omp simd
        for (intptr_t f = 0; f < F; f++) {{
            const {t} v = gr[f] * ({t})(o[f] > 0);  /* as g * (out > 0): NaN * 0 stays NaN */
            p[f] = v;
            acc[f] += v;
        }}
    }}
}}

__attribute__((optimize("O3")))
int @K@_rbg(intptr_t rows, intptr_t F, intptr_t S, char *outp, char *gp, char *prep, char *bp,
            char *partp) {{
    const intptr_t P = rows / 256 < 1 ? 1 : rows / 256 > {parts} ? {parts} : rows / 256;
    struct @K@_rbg_job job = {{rows, F, S, P, (const {t} *)outp, (const {t} *)gp, ({t} *)prep,
                               ({t} *)partp}};
    lg_run_all(@K@_rbg_chunk, &job, P, rows * F >= 32768 ? lg_threads() : 1);
    {t} *b = ({t} *)bp, *parts = ({t} *)partp;
    for (intptr_t f = 0; f < F; f++) {{
        {t} s = 0;
        for (intptr_t k = 0; k < P; k++) s += parts[k * S + f];
        b[f] = s;
    }}
    return 0;
}}
"""


def _ptr(a: np.ndarray):
    return char_ptr(a.ctypes.data)


@generators.register(ReluBiasGrad)
def relu_bias_grad_spec(node):
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or node.inputs[0].ndim < 2:
        return None
    dt = np.dtype(dtype)

    def bind(funcs):
        (fn,) = funcs
        results, parts, inplace = ResultRing(dt), Parts(dt), node.op.inplace

        def kernel(out, g):
            if (out.shape != g.shape or out.dtype != dt or g.dtype != dt or 0 in g.shape
                    or not (out.flags.c_contiguous and g.flags.c_contiguous)):
                return relu_bias_grad(out, g, inplace)
            f = g.shape[-1]
            pre = g if inplace and g.flags.writeable else results(g.shape)
            bias = np.empty(f, dt)
            scratch, stride = parts(PARTS, f)
            fn(g.size // f, f, stride, _ptr(out), _ptr(g), _ptr(pre), _ptr(bias), _ptr(scratch))
            return pre, bias

        return kernel

    return KernelSpec(_SOURCE.format(t=ctype(dtype), parts=PARTS), [("rbg", "iiippppp")], bind)
