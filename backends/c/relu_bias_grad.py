"""C kernel of ``ReluBiasGrad``: ``g * (out > 0)`` and its column sums in one pass.

The operands are read as (rows, F) matrices (the last axis contiguous, as the conv layers'
channels-last gradients are); each thread sums its range of rows into its own part of the
bias gradient, then the parts are added. Other layouts and dtypes run the numpy kernel.
"""
from __future__ import annotations

import os

import numpy as np

from core.tensor.conv import ReluBiasGrad

from ..numpy.conv import relu_bias_grad
from . import generators
from .compiler import char_ptr
from .result_ring import ResultRing
from .scalar import ctype
from .spec import KernelSpec

SLOTS = max(1, os.cpu_count() or 1)  # threads the partial sums have room for

_SOURCE = """
__attribute__((optimize("O3")))
int @K@_rbg(intptr_t rows, intptr_t F, char *outp, char *gp, char *prep, char *bp,
            char *partp) {{
    const {t} *out = (const {t} *)outp, *g = (const {t} *)gp;
    {t} *pre = ({t} *)prep, *parts = ({t} *)partp;
    int T = 1;
#ifdef _OPENMP
    T = omp_get_max_threads();
    if (T > {slots}) T = {slots};
    if (T > rows / 64) T = rows / 64 > 1 ? (int)(rows / 64) : 1;
#endif
    #pragma omp parallel num_threads(T) if (T > 1)
    {{
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        {t} *acc = parts + (intptr_t)t * F;
        for (intptr_t f = 0; f < F; f++) acc[f] = 0;
        for (intptr_t r = rows * t / T; r < rows * (t + 1) / T; r++) {{
            const {t} *o = out + r * F, *gr = g + r * F;
            {t} *p = pre + r * F;
            #pragma omp simd
            for (intptr_t f = 0; f < F; f++) {{
                const {t} v = gr[f] * ({t})(o[f] > 0);  /* as g * (out > 0): NaN * 0 stays NaN */
                p[f] = v;
                acc[f] += v;
            }}
        }}
    }}
    {t} *b = ({t} *)bp;
    for (intptr_t f = 0; f < F; f++) {{
        {t} s = 0;
        for (int t = 0; t < T; t++) s += parts[(intptr_t)t * F + f];
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
        results, parts = ResultRing(dt), np.empty(0, dt)

        def kernel(out, g):
            nonlocal parts
            if (out.shape != g.shape or out.dtype != dt or g.dtype != dt or 0 in g.shape
                    or not (out.flags.c_contiguous and g.flags.c_contiguous)):
                return relu_bias_grad(out, g)
            f = g.shape[-1]
            pre, bias = results(g.shape), np.empty(f, dt)
            if parts.size < SLOTS * f:
                parts = np.empty(SLOTS * f, dt)
            fn(g.size // f, f, _ptr(out), _ptr(g), _ptr(pre), _ptr(bias), _ptr(parts))
            return pre, bias

        return kernel

    return KernelSpec(_SOURCE.format(t=ctype(dtype), slots=SLOTS), [("rbg", "iippppp")], bind)
