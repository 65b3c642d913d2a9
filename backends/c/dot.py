"""C kernel of ``Dot`` for two float matrices: one BLAS ``?gemm`` call, or with several
threads the product's blocks shared by them (``lg_gemm_mt`` in ``blas.py``), as the
``Gemm`` kernel does. Vectors, mixed dtypes and integer products stay with numpy's
``dot`` (no kernel is generated for them; per call, arrays of other dtypes or empty ones
go to it too)."""
from __future__ import annotations

import numpy as np

from core.tensor.math import Dot

from . import generators
from .blas import blas_gemm
from .gemm import _operand
from .spec import KernelSpec, ffi_from_buffer


@generators.register(Dot)
def dot_spec(node) -> KernelSpec | None:
    x, y = node.inputs
    dtype = np.dtype(node.outputs[0].dtype)
    blas = blas_gemm()
    if (blas is None or x.ndim != 2 or y.ndim != 2 or dtype not in (np.float32, np.float64)
            or x.dtype != dtype or y.dtype != dtype):
        return None  # numpy's dot, silently: not a kernel this backend lacks
    source = f"""
int @K@_dot(intptr_t f, intptr_t wide, intptr_t ta, intptr_t tb, intptr_t m, intptr_t n,
            intptr_t k, intptr_t lda, intptr_t ldb, char *x, char *y, char *z) {{
    lg_gemm_mt((const void *)f, (int)wide, {int(dtype == np.float64)}, (int)ta, (int)tb, m, n, k,
               1.0, x, lda, y, ldb, 0.0, z, n);
    return 0;
}}"""
    fn_address = int(blas[1] if dtype == np.float64 else blas[0])
    wide = int(blas[2])

    def bind(funcs):
        (fn,) = funcs
        from ..numpy import registry

        reference = registry.make_kernel(node)

        def kernel(x, y):
            if (x.ndim != 2 or y.ndim != 2 or x.dtype != dtype or y.dtype != dtype
                    or x.shape[1] != y.shape[0] or 0 in x.shape or 0 in y.shape):
                return reference(x, y)  # shape errors, empty products, other dtypes
            px, ta, lda, x = _operand(x)
            py, tb, ldb, y = _operand(y)
            z = np.empty((x.shape[0], y.shape[1]), dtype)
            fn(fn_address, wide, ta, tb, x.shape[0], y.shape[1], x.shape[1], lda, ldb,
               px, py, ffi_from_buffer(z))
            return z

        return kernel

    return KernelSpec(source, [("dot", "i" * 9 + "p" * 3)], bind)
