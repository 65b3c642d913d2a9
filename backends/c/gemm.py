"""C kernel of ``Gemm`` (``b * z + a * x @ y``): one call of numpy's BLAS ``cblas_?gemm``
with ``beta = b``, accumulating into ``z`` itself when the node is inplace (else into a
copy of it). Transposed operands are passed as such, not copied."""
from __future__ import annotations

import numpy as np

from core.graph.basic import Constant
from core.tensor.blas import Gemm, gemm_reference

from . import generators
from .blas import blas_gemm, matrix_layout
from .compiler import char_ptr
from .scalar import Unsupported, ctype
from .spec import KernelSpec, ffi_from_buffer


def _operand(a: np.ndarray) -> tuple:
    """(pointer, transposed, leading dimension, keep-alive array) of a matrix for row-major
    BLAS: a contiguous copy when neither axis is contiguous."""
    if a.flags.c_contiguous:  # the common cases first: no stride arithmetic, no ctypes
        return ffi_from_buffer(a), 0, max(1, a.shape[1]), a
    if a.flags.f_contiguous:  # a transposed view (x.T)
        return ffi_from_buffer(a.T), 1, max(1, a.shape[0]), a
    layout = matrix_layout(*a.shape, *a.strides, a.itemsize)
    if layout is None:
        a = np.ascontiguousarray(a)
        layout = 0, max(1, a.shape[1])
    return (char_ptr(a.ctypes.data), *layout, a)


def _rows_pitch(z: np.ndarray) -> int | None:
    """The leading dimension BLAS writes ``z`` with in place: its row pitch when each row is
    contiguous (a C-contiguous matrix, or a block of columns of one); None otherwise (the
    kernel then writes ``z.T`` in place when its rows are: a column-split weight's block,
    stored transposed in shared memory)."""
    if z.flags.c_contiguous:
        return max(1, z.shape[1])
    layout = matrix_layout(*z.shape, *z.strides, z.itemsize)
    return layout[1] if layout is not None and layout[0] == 0 else None


@generators.register(Gemm)
def gemm_spec(node) -> KernelSpec:
    dtype = np.dtype(node.outputs[0].dtype)
    blas = blas_gemm()
    if blas is None:
        raise Unsupported("no BLAS gemm found")
    t = ctype(dtype.name)
    source = f"""
int @K@_gemm(intptr_t f, intptr_t wide, intptr_t ta, intptr_t tb, intptr_t m, intptr_t n,
             intptr_t k, intptr_t lda, intptr_t ldb, intptr_t ldc, char *a, char *x, char *y,
             char *b, char *z) {{
    lg_gemm_mt((const void *)f, (int)wide, {int(dtype == np.float64)}, (int)ta, (int)tb, m, n,
               k, *(const {t} *)a, x, lda, y, ldb, *(const {t} *)b, z, ldc);
    return 0;
}}"""
    fn_address = int(blas[1] if dtype == np.float64 else blas[0])
    wide = int(blas[2])
    inplace = node.op.inplace
    # Constant coefficients (a training step's learning rate and momentum) are converted once.
    fixed = [None if not isinstance(v, Constant) else
             ffi_from_buffer(np.array(v.data, dtype=dtype).reshape(1)) for v in node.inputs[1::3]]

    def coefficient(value, k):
        return fixed[k] if fixed[k] is not None else ffi_from_buffer(
            np.array(value, dtype=dtype).reshape(1))

    def bind(funcs):
        (fn,) = funcs

        def kernel(z, a, x, y, b):
            if (z.ndim != 2 or x.ndim != 2 or y.ndim != 2
                    or z.shape != (x.shape[0], y.shape[1]) or x.shape[1] != y.shape[0]
                    or 0 in x.shape or 0 in y.shape
                    or not (z.dtype == x.dtype == y.dtype == dtype)):
                return gemm_reference(z, a, x, y, b)  # shape errors and empty products
            own = inplace and z.flags.writeable
            ldc = _rows_pitch(z) if own else None
            if ldc is None and own and _rows_pitch(z.T) is not None:
                kernel(z.T, a, y.T, x.T, b)  # column-major z: z.T = b z.T + a y.T @ x.T
                return z
            if ldc is None:
                z = np.array(z, dtype=dtype, order="C")
                ldc = z.shape[1]
            px, ta, lda, x = _operand(x)
            py, tb, ldb, y = _operand(y)
            fn(fn_address, wide, ta, tb, x.shape[0], y.shape[1], x.shape[1], lda, ldb,
               ldc, coefficient(a, 0), px, py, coefficient(b, 1),
               ffi_from_buffer(z) if z.flags.c_contiguous else char_ptr(z.ctypes.data))
            return z

        return kernel

    return KernelSpec(source, [("gemm", "i" * 10 + "p" * 5)], bind)
