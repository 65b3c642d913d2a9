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

# C that calls cblas_sgemm or cblas_dgemm through the address found here (``f``): one
# definition for every C caller (the loop interpreter, the Gemm kernel). ``wide``: the
# library's ints are 64-bit; ``dbl``: float64.
GEMM_C = """
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
