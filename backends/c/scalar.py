"""The C backend's use of the shared scalar-op table (``backends/scalar_c.py``): the
module preamble (helpers, libm declarations, the OpenMP chunk runner, GEMM)."""
from __future__ import annotations

from ..scalar_c import (C_TYPES, TABLE, TRANSCENDENTAL, VECTOR_MATH, Arg, Unsupported,  # noqa: F401
                        cast, ctype, helpers, literal, scalar_c)
from .blas import GEMM_C


def preamble() -> str:
    """Declarations and helpers every generated module starts with."""
    simd = "".join(f"#pragma omp declare simd notinbranch\nextern {t} {n}{s}({t}{', ' + t if n == 'pow' else ''});\n"
                   for n in VECTOR_MATH for t, s in (("double", ""), ("float", "f")))
    return ("#include <stdint.h>\n#include <math.h>\n#include <string.h>\n"
            "#ifdef _OPENMP\n#include <omp.h>\n#endif\n"
            "typedef uint8_t npy_bool;\n" + simd + helpers() + GEMM_C + _RUN)


# Runs a chunk function over [0, n), in blocks shared by the OpenMP threads when n > threshold.
_RUN = """
typedef void (*lg_chunk_fn)(intptr_t, intptr_t, char **, int *);
struct lg_run_job { lg_chunk_fn f; char **p; intptr_t n; _Atomic int err; };
static void lg_run_block(void *ctx, int64_t b, int t) {
    struct lg_run_job *j = (struct lg_run_job *)ctx;
    int e = 0;
    j->f(b * 16384, (b + 1) * 16384 < j->n ? (b + 1) * 16384 : j->n, j->p, &e);
    if (e) j->err |= e;
}
__attribute__((noinline)) static int lg_run(intptr_t n, intptr_t threshold, lg_chunk_fn f, char **p) {
    int err = 0;
    if (n > threshold && lg_threads() > 1) {  /* the worker pool (workers.py), when set */
        struct lg_run_job j = {f, p, n, 0};
        if (lg_pool_run(lg_run_block, &j, (n + 16383) / 16384, lg_threads())) return j.err;
        f(0, n, p, &err);  /* the pool says: this thread alone */
        return err;
    }
#ifdef _OPENMP
    if (n > threshold && omp_get_max_threads() > 1) {
        /* blocks handed out dynamically: a thread the OS delays does not hold up the rest */
        const intptr_t block = 16384, nb = (n + block - 1) / block;
        #pragma omp parallel for schedule(dynamic, 1) reduction(|:err)
        for (intptr_t b = 0; b < nb; b++) {
            int e = 0;
            f(b * block, b + 1 == nb ? n : (b + 1) * block, p, &e);
            err |= e;
        }
        return err;
    }
#endif
    f(0, n, p, &err);
    return err;
}

/* Outputs larger than this are written with non-temporal (streaming) stores, by a chunk
   generated for it (an elementwise node's "_nt" chunk): a huge result leaves the caches
   anyway, and a streaming store does not read the destination first. */
#define LG_STREAM_MIN ((intptr_t)32 << 20)
#if defined(__x86_64__) && defined(__AVX512F__) && defined(__GNUC__)
/* gcc's builtins, not <immintrin.h>: parsing that header costs ~0.1 s per module */
typedef long long lg_v8di __attribute__((vector_size(64)));
#define LG_STREAMING 1
#define LG_STREAM64(dst, src) __builtin_ia32_movntdq512((lg_v8di *)(dst), *(const lg_v8di *)(src))
#define LG_SFENCE() __builtin_ia32_sfence()
#endif
static int lg_run_out(intptr_t n, intptr_t threshold, lg_chunk_fn f, lg_chunk_fn nt,
                      intptr_t out_size, char **p) {
    return lg_run(n, threshold, nt && n * out_size >= LG_STREAM_MIN ? nt : f, p);
}
"""
