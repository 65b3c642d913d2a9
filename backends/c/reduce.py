"""C reductions: CAReduce (sum, prod, max, min, all, any over any axes), Argmax/Argmin.

A reduction walks the input once in its memory order and folds each element
into the output, whose strides are 0 along the reduced axes; adjacent axes
that are contiguous in both arrays are merged first. When the innermost axis
is reduced, the inner loop accumulates in a register (SIMD for sum and prod;
float32 sums accumulate in double).
"""
from __future__ import annotations

import math

import numpy as np

from core.tensor import scalar_ops as ps
from core.tensor.math import Argmax, Argmin, CAReduce

from . import generators
from .scalar import Unsupported, ctype, literal
from .spec import KernelSpec, ffi_from_buffer

fb = ffi_from_buffer

_COMBINE = {ps.Add: "({a} + {b})", ps.Mul: "({a} * {b})", ps.AND: "({a} && {b})",
            ps.OR: "({a} || {b})"}
_SIMD = {ps.Add: "+", ps.Mul: "*"}


def _identity(op, dtype: str):
    dt = np.dtype(dtype)
    if isinstance(op, ps.Add) or isinstance(op, ps.OR):
        return 0
    if isinstance(op, (ps.Mul, ps.AND)):
        return 1
    if dt.kind == "f":
        return -np.inf if isinstance(op, ps.Maximum) else np.inf
    if dt.kind == "b":
        return 0 if isinstance(op, ps.Maximum) else 1
    info = np.iinfo(dt)
    return info.min if isinstance(op, ps.Maximum) else info.max


def _combine(op, dtype: str, a: str, b: str) -> str:
    for cls, tpl in _COMBINE.items():
        if isinstance(op, cls):
            return tpl.format(a=a, b=b)
    is_max = isinstance(op, ps.Maximum)
    if np.dtype(dtype).kind == "f":
        return f"lg_{'max' if is_max else 'min'}_{'f32' if dtype == 'float32' else 'f64'}({a}, {b})"
    return f"(({a}) {'>' if is_max else '<'} ({b}) ? ({a}) : ({b}))"


def collapse(shape, *strides_lists):
    """Merge adjacent axes that are contiguous in every operand; drop size-1 axes."""
    axes = [d for d in range(len(shape)) if shape[d] != 1]
    out_shape = []
    out_strides = [[] for _ in strides_lists]
    for d in axes:
        if out_shape and all(st[d] * shape[d] == os_[-1] for st, os_ in zip(strides_lists, out_strides)):
            out_shape[-1] *= shape[d]
            for st, os_ in zip(strides_lists, out_strides):
                os_[-1] = st[d]
        else:
            out_shape.append(shape[d])
            for st, os_ in zip(strides_lists, out_strides):
                os_.append(st[d])
    if not out_shape:
        return [1], [[0] for _ in strides_lists]
    return out_shape, out_strides


def careduce_spec(node) -> KernelSpec:
    op = node.op
    scalar = op.scalar_op
    if not isinstance(scalar, (ps.Add, ps.Mul, ps.Maximum, ps.Minimum, ps.AND, ps.OR)):
        raise Unsupported(f"reduction with {scalar}")
    in_dt, out_dt = node.inputs[0].dtype, node.outputs[0].dtype
    ti, to = ctype(in_dt), ctype(out_dt)
    acc_dt = "float64" if (out_dt == "float32" and isinstance(scalar, ps.Add)) else out_dt
    ta = ctype(acc_dt)
    load = f"(({ta})*(const {ti} *)(px + j * sx))"
    load_c = f"(({ta})((const {ti} *)px)[j])"
    simd = _SIMD.get(type(scalar))
    simd_pragma = f"#pragma omp simd reduction({simd}:acc)" if simd else ""
    ident = literal(_identity(scalar, acc_dt), acc_dt)
    source = f"""
int @K@_r(char *desc_) {{
    const int64_t *d = (const int64_t *)desc_;
    const int nd = (int)d[0];
    const int64_t *shape = d + 1;
    char *bx = (char *)(intptr_t)d[1 + nd]; const int64_t *stx = d + 2 + nd;
    char *bo = (char *)(intptr_t)d[2 + 2 * nd]; const int64_t *sto = d + 3 + 2 * nd;
    const int64_t inner = shape[nd - 1], sx = stx[nd - 1], so = sto[nd - 1];
    int64_t outer = 1;
    for (int a = 0; a < nd - 1; a++) outer *= shape[a];
    for (int64_t o = 0; o < outer; o++) {{
        int64_t r = o, ox = 0, oo = 0;
        for (int a = nd - 2; a >= 0; a--) {{
            int64_t i = r % shape[a]; r /= shape[a]; ox += i * stx[a]; oo += i * sto[a];
        }}
        const char *px = bx + ox; {to} *po = ({to} *)(bo + oo);
        if (so == 0) {{
            {ta} acc = {ident};
            if (sx == (int64_t)sizeof({ti})) {{
                {simd_pragma}
                for (int64_t j = 0; j < inner; j++) acc = {_combine(scalar, acc_dt, "acc", load_c)};
            }} else {{
                for (int64_t j = 0; j < inner; j++) acc = {_combine(scalar, acc_dt, "acc", load)};
            }}
            *po = ({to}){_combine(scalar, acc_dt, f"(({ta})*po)", "acc")};
        }} else {{
            for (int64_t j = 0; j < inner; j++) {{
                {to} *q = ({to} *)((char *)po + j * so);
                *q = ({to}){_combine(scalar, out_dt, "*q", f"(({to})*(const {ti} *)(px + j * sx))")};
            }}
        }}
    }}
    return 0;
}}"""
    source += f"""
int @K@_b(intptr_t a, intptr_t r, intptr_t b, char *xp, char *op) {{
    const {ti} *x = (const {ti} *)xp; {to} *out = ({to} *)op;
    for (intptr_t i = 0; i < a; i++) {{
        if (b == 1) {{
            {ta} acc = {ident};
            const {ti} *px = x + i * r;
            {simd_pragma}
            for (intptr_t j = 0; j < r; j++) acc = {_combine(scalar, acc_dt, "acc", f"(({ta})px[j])")};
            out[i] = ({to})acc;
        }} else {{
            {to} *po = out + i * b;
            for (intptr_t k = 0; k < b; k++) po[k] = ({to}){ident};
            for (intptr_t j = 0; j < r; j++) {{
                const {ti} *px = x + (i * r + j) * b;
                #pragma omp simd
                for (intptr_t k = 0; k < b; k++) po[k] = {_combine(scalar, out_dt, "po[k]", f"(({to})px[k])")};
            }}
        }}
    }}
    return 0;
}}"""
    identity = _identity(scalar, out_dt)
    needs_data = isinstance(scalar, (ps.Maximum, ps.Minimum))
    axes = op.axis
    in_dtype, out_dtype = np.dtype(in_dt), np.dtype(out_dt)

    ndim = node.inputs[0].ndim
    block = list(axes) == list(range(axes[0], axes[-1] + 1)) if axes else False
    lo, hi = (axes[0], axes[-1] + 1) if block else (0, 0)
    kept_dims = [d for d in range(ndim) if d not in axes]
    prod = math.prod

    def bind(funcs):
        fn, fn_block = funcs

        def kernel(x):
            if (block and (x.dtype is in_dtype or x.dtype == in_dtype) and x.flags.c_contiguous
                    and x.ndim == ndim):
                shape = x.shape
                r = prod(shape[lo:hi])
                if r or not needs_data:
                    out = np.empty([shape[d] for d in kept_dims], out_dtype)
                    fn_block(prod(shape[:lo]), r, prod(shape[hi:]), fb(x), fb(out))
                    return out
            if x.dtype != in_dtype:
                x = np.asarray(x).astype(in_dtype)
            kept = tuple(s for d, s in enumerate(x.shape) if d not in axes)
            out = np.empty(kept, out_dtype)
            if x.size == 0:
                if needs_data:
                    raise ValueError(f"{op}: cannot reduce an empty array of shape {x.shape}")
                out.fill(identity)
                return out
            out.fill(identity)
            ost, it = [], iter(out.strides)
            for d in range(x.ndim):
                ost.append(0 if d in axes else next(it))
            order = sorted(range(x.ndim), key=lambda a: -abs(x.strides[a]))
            shape, (sx, so) = collapse([x.shape[a] for a in order],
                                       [x.strides[a] for a in order], [ost[a] for a in order])
            desc = np.array([len(shape), *shape, x.ctypes.data, *sx, out.ctypes.data, *so],
                            dtype=np.int64)
            fn(ffi_from_buffer(desc))
            return out

        return kernel

    return KernelSpec(source, [("r", "p"), ("b", "iiipp")], bind)


def argmax_spec(node) -> KernelSpec:
    is_min = isinstance(node.op, Argmin)
    dt = node.inputs[0].dtype
    t = ctype(dt)
    better = "<" if is_min else ">"
    nan_check = "if (v != v) { best = v; idx = j; break; }" if np.dtype(dt).kind == "f" else ""
    source = f"""
int @K@_a(char *desc_) {{
    const int64_t *d = (const int64_t *)desc_;
    const int nd = (int)d[0];              /* kept axes, then the reduced one last */
    const int64_t *shape = d + 1;
    char *bx = (char *)(intptr_t)d[1 + nd]; const int64_t *stx = d + 2 + nd;
    int64_t *out = (int64_t *)(intptr_t)d[2 + 2 * nd];
    const int64_t n = shape[nd - 1], sx = stx[nd - 1];
    int64_t outer = 1;
    for (int a = 0; a < nd - 1; a++) outer *= shape[a];
    for (int64_t o = 0; o < outer; o++) {{
        int64_t r = o, ox = 0;
        for (int a = nd - 2; a >= 0; a--) {{ int64_t i = r % shape[a]; r /= shape[a]; ox += i * stx[a]; }}
        const char *px = bx + ox;
        {t} best = *(const {t} *)px; int64_t idx = 0;
        if (!(best != best)) {{
            for (int64_t j = 1; j < n; j++) {{
                {t} v = *(const {t} *)(px + j * sx);
                {nan_check}
                if (v {better} best) {{ best = v; idx = j; }}
            }}
        }}
        out[o] = idx;
    }}
    return 0;
}}"""
    axis = node.op.axis
    dtype = np.dtype(dt)
    name = "argmin" if is_min else "argmax"

    def bind(funcs):
        (fn,) = funcs

        def kernel(x):
            if x.dtype != dtype:
                x = np.asarray(x).astype(dtype)
            if axis is None:
                x = x.reshape(-1)
                ax = 0
            else:
                ax = axis
            if x.shape[ax] == 0:
                raise ValueError(f"{node.op}: attempt to get {name} of an empty sequence "
                                 f"(shape {x.shape})")
            kept = [a for a in range(x.ndim) if a != ax]
            out = np.empty([x.shape[a] for a in kept], np.int64)
            if out.size == 0:
                return out
            order = kept + [ax]
            desc = np.array([len(order), *[x.shape[a] for a in order], x.ctypes.data,
                             *[x.strides[a] for a in order], out.ctypes.data], dtype=np.int64)
            fn(ffi_from_buffer(desc))
            return out

        return kernel

    return KernelSpec(source, [("a", "p")], bind)


generators.register(CAReduce)(careduce_spec)
generators.register(Argmax)(argmax_spec)
