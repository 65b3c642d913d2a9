"""The loop interpreter behind ``scan_loop``: one C function, compiled once per machine
(cached like every module), that runs a planned step for t = t0, t0 + dt, ... .

A step is a flat int64 array of instructions over "slots" (pointers the loop moves:
slot s points at ``base + t * step``, or at ``alt`` when ``t == alt_t``):

* ``EW f k rows n (slot, offset, row stride) * k``: call the elementwise kernel ``f``
  (its contiguous entry ``f(n, p0, ..., pk-1)``) once per row;
* ``GEMM double ta tb m n k lda ldb ldc alpha beta (slot, offset) * 3``: one BLAS gemm
  (numpy's CBLAS, ``backends.c.blas``), alpha and beta stored as the bits of doubles;
* ``COPY size rows cols dst(slot, offset, row stride, col stride) src(...)``;
* ``ADD double rows cols dst(slot, offset, row stride) x(...) y(...)``.
"""
from __future__ import annotations

import _cffi_backend
import numpy as np

from .blas import GEMM_C, blas_gemm
from .compiler import INT64_ARRAY, CompileError, ffi, function_type, load_module

MAX_ARGS = 48  # most operands of one elementwise kernel the interpreter can call
EW, GEMM, COPY, ADD = range(4)


def _interpreter_source() -> str:
    calls = []
    for k in range(1, MAX_ARGS + 1):
        params = ", ".join(["intptr_t"] + ["char *"] * k)
        args = ", ".join(["n"] + [f"a[{i}]" for i in range(k)])
        calls.append(f"    case {k}: return ((int (*)({params}))f)({args});")
    calls = "\n".join(calls)
    return f"""
#include <stdint.h>
#include <string.h>
{GEMM_C}
static int call_kernel(void *f, int k, intptr_t n, char **a) {{
    switch (k) {{
{calls}
    }}
    return -1;
}}

/* One instruction: see scan_loop.py (EW, GEMM, COPY, ADD). */
static int run_step(const int64_t *c, int64_t nc, char **P, const int64_t *blas) {{
    int64_t i = 0;
    while (i < nc) {{
        const int64_t op = c[i];
        if (op == {EW}) {{
            void *f = (void *)(intptr_t)c[i + 1];
            const int k = (int)c[i + 2];
            const int64_t rows = c[i + 3], n = c[i + 4];
            const int64_t *arg = c + i + 5;
            char *a[{MAX_ARGS}];
            for (int64_t r = 0; r < rows; r++) {{
                for (int j = 0; j < k; j++)
                    a[j] = arg[3 * j] < 0 ? 0 : P[arg[3 * j]] + arg[3 * j + 1] + r * arg[3 * j + 2];
                if (call_kernel(f, k, (intptr_t)n, a)) return 1;
            }}
            i += 5 + 3 * k;
        }} else if (op == {GEMM}) {{
            const int64_t dbl = c[i + 1], ta = c[i + 2], tb = c[i + 3], m = c[i + 4], n = c[i + 5],
                          kk = c[i + 6], lda = c[i + 7], ldb = c[i + 8], ldc = c[i + 9];
            double alpha, beta;  /* stored as the bits of doubles */
            memcpy(&alpha, c + i + 10, sizeof alpha);
            memcpy(&beta, c + i + 11, sizeof beta);
            lg_gemm((const void *)(intptr_t)blas[dbl], (int)blas[2], (int)dbl, (int)ta, (int)tb,
                    m, n, kk, alpha, P[c[i + 12]] + c[i + 13], lda, P[c[i + 14]] + c[i + 15],
                    ldb, beta, P[c[i + 16]] + c[i + 17], ldc);
            i += 18;
        }} else if (op == {COPY}) {{
            const int64_t size = c[i + 1], rows = c[i + 2], cols = c[i + 3];
            char *d = P[c[i + 4]] + c[i + 5];
            const int64_t drs = c[i + 6], dcs = c[i + 7];
            const char *s = P[c[i + 8]] + c[i + 9];
            const int64_t srs = c[i + 10], scs = c[i + 11];
            for (int64_t r = 0; r < rows; r++) {{
                if (dcs == size && scs == size) memcpy(d + r * drs, s + r * srs, cols * size);
                else for (int64_t j = 0; j < cols; j++)
                    memcpy(d + r * drs + j * dcs, s + r * srs + j * scs, size);
            }}
            i += 12;
        }} else if (op == {ADD}) {{
            const int64_t dbl = c[i + 1], rows = c[i + 2], cols = c[i + 3];
            for (int64_t r = 0; r < rows; r++) {{
                char *d = P[c[i + 4]] + c[i + 5] + r * c[i + 6];
                const char *x = P[c[i + 7]] + c[i + 8] + r * c[i + 9];
                const char *y = P[c[i + 10]] + c[i + 11] + r * c[i + 12];
                if (dbl) {{
                    #pragma omp simd
                    for (int64_t j = 0; j < cols; j++)
                        ((double *)d)[j] = ((const double *)x)[j] + ((const double *)y)[j];
                }} else {{
                    #pragma omp simd
                    for (int64_t j = 0; j < cols; j++)
                        ((float *)d)[j] = ((const float *)x)[j] + ((const float *)y)[j];
                }}
            }}
            i += 13;
        }} else return 2;
    }}
    return 0;
}}

/* Steps t = t0, t0 + dt, ... (not t1). Slot s points at base + t * step, or at alt when
   t == alt_t. Returns 0, or 1 + the index of the step whose kernel failed. */
int64_t lg_scan_run(const int64_t *code, int64_t ncode, const int64_t *slots, int64_t nslots,
                    int64_t t0, int64_t t1, int64_t dt, const int64_t *blas) {{
    char *P[nslots > 0 ? nslots : 1];
    for (int64_t t = t0; dt > 0 ? t < t1 : t > t1; t += dt) {{
        for (int64_t s = 0; s < nslots; s++) {{
            const int64_t *d = slots + 4 * s;
            P[s] = (char *)(intptr_t)(t == d[2] ? d[3] : d[0] + t * d[1]);
        }}
        if (run_step(code, ncode, P, blas)) return 1 + (t - t0) / dt;
    }}
    return 0;
}}

static void *lg_table[] = {{(void *)lg_scan_run}};
void *lg_get(int i) {{ return lg_table[i]; }}
"""


_runner: list = []  # [cffi function] once compiled, [None] when it cannot be


def _run_function():
    if not _runner:
        try:
            pointer = load_module(_interpreter_source(), 1)[0]
            p, i = INT64_ARRAY, _cffi_backend.new_primitive_type("int64_t")
            _runner.append(ffi.cast(function_type((p, i, p, i, i, i, i, p), i), pointer))
        except CompileError:
            _runner.append(None)
    return _runner[0]


def execute(code: np.ndarray, slots: np.ndarray, t0: int, t1: int, dt: int) -> int:
    """Run the step ``code`` over ``slots`` (rows of base, step, alt_t, alt) for t = t0,
    t0 + dt, ... (not t1); 0, or 1 + the index of the step whose kernel failed."""
    return _run_function()(ffi.from_buffer(INT64_ARRAY, code), len(code),
                           ffi.from_buffer(INT64_ARRAY, slots), len(slots), t0, t1, dt,
                           ffi.from_buffer(INT64_ARRAY, blas_gemm()))


def available() -> bool:
    """True when the interpreter compiles here and numpy's BLAS is found."""
    return blas_gemm() is not None and _run_function() is not None
