"""The BLAS numpy links, called from C: addresses of its CBLAS gemm and gemv functions.

numpy's wheels ship OpenBLAS with 64-bit integers and prefixed names
(``scipy_cblas_dgemm64_``); other builds export plain ``cblas_dgemm``. The C loops
that call BLAS (``scan_loop``, ``row_dots``) get the addresses from here and run
their Python fallbacks where none is found.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

from .workers import POOL_API_C

# C that calls cblas_sgemm or cblas_dgemm through the address found here (``f``): one
# definition for every C caller (the loop interpreter, the Gemm kernel). ``wide``: the
# library's ints are 64-bit; ``dbl``: float64.
GEMM_C = """
#ifdef _OPENMP
#include <omp.h>
#endif
""" + POOL_API_C + """
static void lg_gemm(const void *f, int wide, int dbl, int ta, int tb, int64_t m, int64_t n,
                    int64_t k, double alpha, const char *A, int64_t lda, const char *B,
                    int64_t ldb, double beta, char *C, int64_t ldc) {
    const int TA = ta ? 112 : 111, TB = tb ? 112 : 111;  /* CblasTrans : CblasNoTrans */
    if (wide && dbl)
        ((void (*)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                   const double *, int64_t, double, double *, int64_t))f)(
            101, TA, TB, m, n, k, alpha, (const double *)A, lda, (const double *)B, ldb, beta,
            (double *)C, ldc);
    else if (wide)
        ((void (*)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                   const float *, int64_t, float, float *, int64_t))f)(
            101, TA, TB, m, n, k, (float)alpha, (const float *)A, lda, (const float *)B, ldb,
            (float)beta, (float *)C, ldc);
    else if (dbl)
        ((void (*)(int, int, int, int, int, int, double, const double *, int, const double *,
                   int, double, double *, int))f)(
            101, TA, TB, (int)m, (int)n, (int)k, alpha, (const double *)A, (int)lda,
            (const double *)B, (int)ldb, beta, (double *)C, (int)ldc);
    else
        ((void (*)(int, int, int, int, int, int, float, const float *, int, const float *,
                   int, float, float *, int))f)(
            101, TA, TB, (int)m, (int)n, (int)k, (float)alpha, (const float *)A, (int)lda,
            (const float *)B, (int)ldb, (float)beta, (float *)C, (int)ldc);
}

/* The same product shared by the worker pool's threads (workers.py): C's columns (or
   rows, when it has more of them) in blocks of >= 64, 2 per thread, each one
   single-threaded BLAS call. Small products, and one thread, run one plain call. */
#define LG_GEMM_MT_MIN 4000000.0  /* m * n * k below which one call is as fast */
struct lg_gemm_job {
    const void *f; int wide, dbl, ta, tb, by_cols; int64_t m, n, k, lda, ldb, ldc, bs, d;
    double alpha, beta; const char *A, *B; char *C;
};
static void lg_gemm_block(void *p, int64_t b, int t) {
    const struct lg_gemm_job *j = (const struct lg_gemm_job *)p;
    const int64_t lo = b * j->bs, len = lo + j->bs < j->d ? j->bs : j->d - lo;
    const int64_t es = j->dbl ? 8 : 4;
    if (j->by_cols)  /* columns lo .. lo + len of B and C */
        lg_gemm(j->f, j->wide, j->dbl, j->ta, j->tb, j->m, len, j->k, j->alpha, j->A, j->lda,
                j->B + (j->tb ? lo * j->ldb : lo) * es, j->ldb, j->beta, j->C + lo * es, j->ldc);
    else  /* rows lo .. lo + len of A and C */
        lg_gemm(j->f, j->wide, j->dbl, j->ta, j->tb, len, j->n, j->k, j->alpha,
                j->A + (j->ta ? lo : lo * j->lda) * es, j->lda, j->B, j->ldb, j->beta,
                j->C + lo * j->ldc * es, j->ldc);
}
static void lg_gemm_mt(const void *f, int wide, int dbl, int ta, int tb, int64_t m, int64_t n,
                       int64_t k, double alpha, const char *A, int64_t lda, const char *B,
                       int64_t ldb, double beta, char *C, int64_t ldc) {
    const int T = lg_threads(), by_cols = n >= m;
    const int64_t d = by_cols ? n : m;
    if (T > 1 && (double)m * (double)n * (double)k >= LG_GEMM_MT_MIN && d >= 128) {
        int64_t bs = (d + 2 * T - 1) / (2 * T);
        bs = bs < 64 ? 64 : (bs + 15) / 16 * 16;
        struct lg_gemm_job j = {f, wide, dbl, ta, tb, by_cols, m, n, k, lda, ldb, ldc, bs, d,
                                alpha, beta, A, B, C};
        if (lg_pool_run(lg_gemm_block, &j, (d + bs - 1) / bs, T)) return;
    }
    const int old = T > 1 && lg_blas_local ? lg_blas_local(1) : -1;
    lg_gemm(f, wide, dbl, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    if (old >= 0) lg_blas_local(old);
}
"""

_NAMES = (("scipy_cblas_", "64_", 1), ("cblas_", "64_", 1), ("scipy_cblas_", "", 0),
          ("cblas_", "", 0))


def _candidates() -> list[str]:
    """Shared libraries that may hold numpy's BLAS: those mapped into this process (numpy's
    own is, once imported), then the ones numpy's wheel ships."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    root = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/*blas*", "numpy/.dylibs/*blas*"):
        paths += [p for p in sorted(glob.glob(os.path.join(root, pattern))) if p not in paths]
    return paths


_found: list = []


def _functions() -> dict | None:
    if not _found:
        result = None
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix, suffix, wide in _NAMES:
                try:
                    fns = {f"{t}{kind}": getattr(lib, f"{prefix}{t}{kind}{suffix}")
                           for t in "sd" for kind in ("gemm", "gemv")}
                except AttributeError:
                    continue
                result = {k: ctypes.cast(f, ctypes.c_void_p).value for k, f in fns.items()}
                result["wide"] = wide
                local = getattr(lib, "openblas_set_num_threads_local", None)  # OpenBLAS >= 0.3.27
                result["local"] = ctypes.cast(local, ctypes.c_void_p).value if local else 0
                break
            if result is not None:
                break
        _found.append(result)
    return _found[0]


def matrix_layout(rows: int, cols: int, row_stride: int, col_stride: int,
                  itemsize: int) -> tuple[int, int] | None:
    """(transposed, leading dimension) of a matrix with these byte strides, as a row-major
    CBLAS call takes it; None when neither axis is contiguous."""
    if (col_stride == itemsize and row_stride % itemsize == 0
            and row_stride >= max(1, cols) * itemsize):
        return 0, row_stride // itemsize
    if (row_stride == itemsize and col_stride % itemsize == 0
            and col_stride >= max(1, rows) * itemsize):
        return 1, col_stride // itemsize
    return None


def blas_gemm() -> np.ndarray | None:
    """[address of cblas_sgemm, of cblas_dgemm, 1 when their ints are 64-bit], or None
    where numpy's BLAS is not found."""
    fns = _functions()
    if fns is None:
        return None
    return np.array([fns["sgemm"], fns["dgemm"], fns["wide"]], dtype=np.int64)


def blas_thread_local() -> int:
    """Address of OpenBLAS's ``int openblas_set_num_threads_local(int)`` (the calling
    thread's BLAS thread count, returning the previous one), or 0 where there is none."""
    fns = _functions()
    return fns["local"] if fns else 0


def blas_gemv(dtype) -> tuple[int, int] | None:
    """(address of cblas_sgemv or cblas_dgemv for ``dtype``, 1 when its ints are 64-bit),
    or None."""
    fns = _functions()
    if fns is None or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    return fns["sgemv" if np.dtype(dtype) == np.float32 else "dgemv"], fns["wide"]
