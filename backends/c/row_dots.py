"""C kernel of ``DotElemwiseDot``: ``X @ v``, the elementwise loop and ``X.T @ out`` in
one pass over ``X``, a block of rows at a time (the block stays in cache between its two
BLAS matrix-vector products). The elementwise part is the fused loop ``elemwise_spec``
generates for the inner node. Without numpy's BLAS, or for layouts the loop does not
take, the numpy kernel runs.
"""
from __future__ import annotations

import numpy as np

from core.tensor.rewritten_ops import DotElemwiseDot

from . import generators
from .blas import blas_gemv, matrix_layout
from .compiler import char_ptr
from .elemwise import elemwise_spec, input_roles
from .scalar import Unsupported, ctype
from .spec import KernelSpec, ffi_from_buffer, raise_status

BLOCK_BYTES = 1 << 17  # rows per block: about this many bytes of X (L2-resident)


@generators.register(DotElemwiseDot)
def dot_elemwise_dot_spec(node) -> KernelSpec:
    op = node.op
    inner = op.inner_node(node)
    dtype = np.dtype(node.outputs[0].dtype)
    if blas_gemv(dtype) is None:
        raise Unsupported(f"no BLAS gemv for {dtype}")
    spec = elemwise_spec(inner)
    t = ctype(dtype.name)
    n_out, n_in = len(inner.outputs), len(inner.inputs)
    outs = [f"o{k}" for k in range(n_out)]
    ins = [f"i{k}" for k in range(n_in)]  # i{z_position} is z
    params = ", ".join(["intptr_t n", "intptr_t f", "intptr_t ldx", "intptr_t block",
                        "intptr_t gemv", "intptr_t wide", "char *x", "char *v", "char *g"]
                       + [f"char *{p}" for p in outs + ins])
    z, gout = ins[op.z_position], outs[op.grad_output]
    call = "((void (*)(int, int, {i}, {i}, {t}, const {t} *, {i}, const {t} *, {i}, {t}, {t} *, {i}))gemv)"
    source = spec.source + f"""
int @K@_rows({params}) {{
    char *p[{n_out + n_in}] = {{{", ".join(outs + ins)}}};
    int err = 0;
    const {t} *X = (const {t} *)x;
    for (intptr_t s = 0; s < n; s += block) {{
        const intptr_t m = n - s < block ? n - s : block;
        const {t} beta = s ? 1 : 0;
        if (wide) {call.format(i="int64_t", t=t)}(101, 111, m, f, 1, X + s * ldx, ldx,
                  (const {t} *)v, 1, 0, ({t} *){z} + s, 1);
        else {call.format(i="int", t=t)}(101, 111, (int)m, (int)f, 1, X + s * ldx, (int)ldx,
                  (const {t} *)v, 1, 0, ({t} *){z} + s, 1);
        @K@_chunk(s, s + m, p, &err);
        if (wide) {call.format(i="int64_t", t=t)}(101, 112, m, f, 1, X + s * ldx, ldx,
                  (const {t} *){gout} + s, 1, beta, ({t} *)g, 1);
        else {call.format(i="int", t=t)}(101, 112, (int)m, (int)f, 1, X + s * ldx, (int)ldx,
                  (const {t} *){gout} + s, 1, beta, ({t} *)g, 1);
    }}
    return err;
}}"""
    symbols = [("rows", "iiiiii" + "p" * (3 + n_out + n_in))]
    roles = input_roles(inner)
    out_dtypes = [np.dtype(o.dtype) for o in inner.outputs]
    in_dtypes = [np.dtype(i.dtype) for i in node.inputs]
    isz = dtype.itemsize

    def bind(funcs):
        (fn,) = funcs
        from ..numpy import registry

        reference = registry.make_kernel(node)
        gemv, wide = blas_gemv(dtype)

        def kernel(x, v, *others):
            n, f = x.shape if x.ndim == 2 else (0, 0)
            layout = matrix_layout(n, f, *x.strides, isz) if x.ndim == 2 else None
            if (x.dtype != dtype or v.dtype != dtype or n == 0 or f == 0 or v.shape != (f,)
                    or layout is None or layout[0]  # rows of X contiguous (padded is fine)
                    or any(o.dtype != d for o, d in zip(others, in_dtypes[2:]))):
                return reference(x, v, *others)
            inputs = op.elemwise_inputs(None, list(others))
            for k, (a, role) in enumerate(zip(inputs, roles)):
                if k == op.z_position:
                    continue
                if role == "array" and a.shape != (n,):
                    return reference(x, v, *others)  # raises the broadcast error
                inputs[k] = np.ascontiguousarray(a)
            z = np.empty(n, dtype)
            inputs[op.z_position] = z
            results = [np.empty(n, d) for d in out_dtypes]
            g = np.empty(f, dtype)
            status = fn(n, f, layout[1], max(8, BLOCK_BYTES // (f * isz)), gemv, wide,
                        char_ptr(x.ctypes.data),  # rows may be padded: no buffer
                        ffi_from_buffer(np.ascontiguousarray(v)),
                        ffi_from_buffer(g), *[ffi_from_buffer(a) for a in results + inputs])
            if status:
                raise_status(node, status)
            return (z, *results, g)

        return kernel

    return KernelSpec(source, symbols, bind)
