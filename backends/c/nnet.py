"""C kernels for the softmax family and the crossentropies.

Softmax-like ops work on rows: the Python side moves the op's axis last and
makes the data C-contiguous (a copy only when it is not), the C loop runs over
rows (OpenMP across rows when the data is large), with vectorized exp/log.
"""
from __future__ import annotations

import numpy as np

from core.tensor.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                              LogSoftmax, Softmax, SoftmaxGrad)
from core.tensor.rewritten_ops import CrossentropySoftmax1Hot, CrossentropySoftmax1HotDx, LogSumExp

from . import generators
from .scalar import Unsupported, ctype
from .spec import KernelSpec, ffi_from_buffer

_PAR = 1 << 15  # elements above which rows are split across threads


def _float(dtype: str) -> tuple[str, str]:
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"dtype {dtype}")
    return ctype(dtype), "f" if dtype == "float32" else ""


_ROW_HEAD = """
int @K@_{suffix}(intptr_t rows, intptr_t m, {params}) {{
{small}    #pragma omp parallel for if(rows * m > {par} && rows > 1) schedule(static)
    for (intptr_t r = 0; r < rows; r++) {{
"""

# Short rows (a classifier's 10 classes): a vector loop per row would run its scalar tail
# only, so the exponentials of a block of rows go through one flat vector loop instead.
SHORT = 32
_SHORT_ROWS = """    if (m < {short}) {{
        {t} *Y = ({t} *)yp; const {t} *X = (const {t} *)xp;
        for (intptr_t r = 0; r < rows; r++) {{
            {t} mx = X[r * m];
            for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, X[r * m + j]);
            for (intptr_t j = 0; j < m; j++) Y[r * m + j] = X[r * m + j] - mx;
        }}
        #pragma omp simd
        for (intptr_t i = 0; i < rows * m; i++) Y[i] = exp{f}(Y[i]);
        for (intptr_t r = 0; r < rows; r++) {{
            {t} sum = 0;
            for (intptr_t j = 0; j < m; j++) sum += Y[r * m + j];
"""
_SOFTMAX_SHORT = _SHORT_ROWS + """            const {t} inv = ({t})1 / sum;
            for (intptr_t j = 0; j < m; j++) Y[r * m + j] *= inv;
        }}
        return 0;
    }}
"""
_LOG_SOFTMAX_SHORT = _SHORT_ROWS + """            {t} mx = X[r * m];
            for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, X[r * m + j]);
            const {t} lse = mx + log{f}(sum);
            for (intptr_t j = 0; j < m; j++) Y[r * m + j] = X[r * m + j] - lse;
        }}
        return 0;
    }}
"""

_SOFTMAX = """
        const {t} *x = (const {t} *)xp + r * m; {t} *y = ({t} *)yp + r * m;
        {t} mx = x[0];
        for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, x[j]);
        {t} sum = 0;
        #pragma omp simd reduction(+:sum)
        for (intptr_t j = 0; j < m; j++) {{ {t} e = exp{f}(x[j] - mx); y[j] = e; sum += e; }}
        {t} inv = ({t})1 / sum;
        #pragma omp simd
        for (intptr_t j = 0; j < m; j++) y[j] *= inv;
    }}
    return 0;
}}"""

_LOG_SOFTMAX = """
        const {t} *x = (const {t} *)xp + r * m; {t} *y = ({t} *)yp + r * m;
        {t} mx = x[0];
        for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, x[j]);
        {t} sum = 0;
        #pragma omp simd reduction(+:sum)
        for (intptr_t j = 0; j < m; j++) sum += exp{f}(x[j] - mx);
        {t} lse = mx + log{f}(sum);
        #pragma omp simd
        for (intptr_t j = 0; j < m; j++) y[j] = x[j] - lse;
    }}
    return 0;
}}"""

_SOFTMAX_GRAD = """
        const {t} *dy = (const {t} *)dyp + r * m, *sm = (const {t} *)smp + r * m;
        {t} *y = ({t} *)yp + r * m;
        {t} dot = 0;
        #pragma omp simd reduction(+:dot)
        for (intptr_t j = 0; j < m; j++) dot += dy[j] * sm[j];
        #pragma omp simd
        for (intptr_t j = 0; j < m; j++) y[j] = sm[j] * (dy[j] - dot);
    }}
    return 0;
}}"""


def _rows(x: np.ndarray, axis: int, dtype) -> tuple[np.ndarray, bool]:
    """``x`` with ``axis`` last, C-contiguous, of ``dtype``; and whether it was moved."""
    moved = axis != x.ndim - 1
    if moved:
        x = np.moveaxis(x, axis, -1)
    return np.ascontiguousarray(x, dtype=dtype), moved


def _row_spec(node, body: str, suffix: str, n_in: int) -> KernelSpec:
    dtype = node.outputs[0].dtype
    t, f = _float(dtype)
    for v in node.inputs:
        if v.dtype != dtype:
            raise Unsupported(f"mixed dtypes {[i.dtype for i in node.inputs]}")
    names = ["xp"] if n_in == 1 else ["dyp", "smp"]
    params = ", ".join(["char *yp"] + [f"char *{n}" for n in names])
    fmt = dict(t=t, f=f, s="f32" if f else "f64", short=SHORT)
    small = {"sm": _SOFTMAX_SHORT, "lsm": _LOG_SOFTMAX_SHORT}.get(suffix, "").format(**fmt)
    source = (_ROW_HEAD.format(suffix=suffix, params=params, par=_PAR, small=small)
              + body.format(**fmt))
    axis = node.op.axis
    dt = np.dtype(dtype)
    fb = ffi_from_buffer

    def bind(funcs):
        (fn,) = funcs

        def kernel(*xs):
            if xs[0].ndim == 0:
                raise ValueError(f"{node.op}: needs at least one dimension")
            arrays = [_rows(x, axis, dt) for x in xs]
            moved = arrays[0][1]
            arrays = [a for a, _ in arrays]
            if any(a.shape != arrays[0].shape for a in arrays):
                raise ValueError(f"{node.op}: input shapes {[x.shape for x in xs]} differ")
            y = np.empty_like(arrays[0])
            m = y.shape[-1] if y.ndim else 1
            if y.size:
                fn(y.size // m, m, fb(y), *[fb(a) for a in arrays])
            return np.moveaxis(y, -1, axis) if moved else y

        return kernel

    return KernelSpec(source, [(suffix, "iip" + "p" * n_in)], bind)


@generators.register(Softmax)
def softmax_spec(node):
    return _row_spec(node, _SOFTMAX, "sm", 1)


@generators.register(LogSoftmax)
def log_softmax_spec(node):
    return _row_spec(node, _LOG_SOFTMAX, "lsm", 1)


@generators.register(SoftmaxGrad)
def softmax_grad_spec(node):
    return _row_spec(node, _SOFTMAX_GRAD, "smg", 2)


def _check_rows(op, x, labels):
    if x.ndim != 2 or labels.ndim != 1:
        raise ValueError(f"{op}: expected a matrix and a vector of labels, got shapes "
                         f"{x.shape} and {labels.shape}")
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{op}: {x.shape[0]} rows of probabilities but {labels.shape[0]} labels")


def _label_error(op, x, labels):
    return ValueError(f"{op}: labels must lie in [0, {x.shape[1]}), got values from "
                      f"{labels.min()} to {labels.max()}")


def _xent_spec(node, body: str, suffix: str, n_float_in: int, out_rows: bool,
               short: str = "") -> KernelSpec:
    dtype = node.outputs[0].dtype
    t, f = _float(dtype)
    labels_var = node.inputs[-1]
    tl = ctype(labels_var.dtype)
    float_names = ["gp", "xp"] if n_float_in == 2 else ["xp"]
    params = ", ".join(["intptr_t rows", "intptr_t m", "char *yp"]
                       + [f"char *{n}" for n in float_names] + ["char *lp"])
    source = f"""
int @K@_{suffix}({params}) {{
    int bad = 0;
    const {tl} *lab = (const {tl} *)lp;
{short.format(t=t, f=f, s="f32" if f else "f64", short=SHORT)}    #pragma omp parallel for reduction(|:bad) if(rows * m > {_PAR}) schedule(static)
    for (intptr_t r = 0; r < rows; r++) {{
        const int64_t k = (int64_t)lab[r];
        if (k < 0 || k >= m) {{ bad = 1; continue; }}
{body.format(t=t, f=f, s="f32" if f else "f64")}
    }}
    return bad;
}}"""
    dt = np.dtype(dtype)
    ldt = np.dtype(labels_var.dtype)
    fb = ffi_from_buffer
    op = node.op

    def bind(funcs):
        (fn,) = funcs

        def kernel(*xs):
            labels = np.ascontiguousarray(xs[-1], dtype=ldt)
            x = np.ascontiguousarray(xs[-2], dtype=dt)
            _check_rows(op, x, labels)
            rows, m = x.shape
            args = [x, labels]
            if n_float_in == 2:
                g = np.ascontiguousarray(np.broadcast_to(np.asarray(xs[0], dtype=dt), (rows,)))
                args = [g, x, labels]
            y = np.empty(rows if out_rows else (rows, m), dt)
            if rows and fn(rows, m, fb(y), *[fb(a) for a in args]):
                raise _label_error(op, x, labels)
            return y

        return kernel

    sig = "iip" + "p" * (n_float_in + 1)
    return KernelSpec(source, [(suffix, sig)], bind)


_XENT = """        const {t} *x = (const {t} *)xp + r * m;
        (({t} *)yp)[r] = -log{f}(x[k]);"""

_XENT_GRAD = """        const {t} *x = (const {t} *)xp + r * m; {t} *y = ({t} *)yp + r * m;
        memset(y, 0, m * sizeof({t}));
        y[k] = -(({const_t} *)gp)[r] / x[k];"""

_XENT_SM_SHORT = """    if (m < {short}) {{
        const {t} *X = (const {t} *)xp; {t} *out = ({t} *)yp;
        {t} e[64 * {short}];
        for (intptr_t r0 = 0; r0 < rows; r0 += 64) {{
            const intptr_t r1 = rows - r0 < 64 ? rows : r0 + 64;
            for (intptr_t r = r0; r < r1; r++) {{
                const int64_t k = (int64_t)lab[r];
                if (k < 0 || k >= m) return 1;
                {t} mx = X[r * m];
                for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, X[r * m + j]);
                for (intptr_t j = 0; j < m; j++) e[(r - r0) * m + j] = X[r * m + j] - mx;
                out[r] = mx - X[r * m + k];
            }}
            #pragma omp simd
            for (intptr_t i = 0; i < (r1 - r0) * m; i++) e[i] = exp{f}(e[i]);
            for (intptr_t r = r0; r < r1; r++) {{
                {t} sum = 0;
                for (intptr_t j = 0; j < m; j++) sum += e[(r - r0) * m + j];
                out[r] += log{f}(sum);
            }}
        }}
        return 0;
    }}
"""

_XENT_SM = """        const {t} *x = (const {t} *)xp + r * m;
        {t} mx = x[0];
        for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, x[j]);
        {t} sum = 0;
        #pragma omp simd reduction(+:sum)
        for (intptr_t j = 0; j < m; j++) sum += exp{f}(x[j] - mx);
        (({t} *)yp)[r] = mx + log{f}(sum) - x[k];"""

_XENT_SM_DX = """        const {t} *x = (const {t} *)xp + r * m; {t} *y = ({t} *)yp + r * m;
        const {t} g = ((const {t} *)gp)[r];
        #pragma omp simd
        for (intptr_t j = 0; j < m; j++) y[j] = x[j] * g;
        y[k] -= g;"""


@generators.register(CrossentropyCategorical1Hot)
def xent_spec(node):
    return _xent_spec(node, _XENT, "xe", 1, True)


@generators.register(CrossentropyCategorical1HotGrad)
def xent_grad_spec(node):
    return _xent_spec(node, _XENT_GRAD.replace("{const_t}", "{t}"), "xeg", 2, False)


@generators.register(CrossentropySoftmax1Hot)
def xent_softmax_spec(node):
    return _xent_spec(node, _XENT_SM, "xsm", 1, True, _XENT_SM_SHORT)


@generators.register(CrossentropySoftmax1HotDx)
def xent_softmax_dx_spec(node):
    return _xent_spec(node, _XENT_SM_DX, "xsmd", 2, False)


_LOGSUMEXP = """
int @K@_lse(intptr_t rows, intptr_t m, char *yp, char *xp) {{
    #pragma omp parallel for if(rows * m > {par} && rows > 1) schedule(static)
    for (intptr_t r = 0; r < rows; r++) {{
        const {t} *x = (const {t} *)xp + r * m;
        {t} mx = x[0];
        for (intptr_t j = 1; j < m; j++) mx = lg_max_{s}(mx, x[j]);
        if (!isfinite(mx)) mx = 0;  /* all -inf (or an inf): exp and log give the answer */
        {t} sum = 0;
        #pragma omp simd reduction(+:sum)
        for (intptr_t j = 0; j < m; j++) sum += exp{f}(x[j] - mx);
        (({t} *)yp)[r] = log{f}(sum) + mx;
    }}
    return 0;
}}"""


@generators.register(LogSumExp)
def logsumexp_spec(node) -> KernelSpec:
    """log(sum(exp(x))) over the last axis, one row at a time (other axes: numpy)."""
    x = node.inputs[0]
    dtype = node.outputs[0].dtype
    if node.op.axis != (x.ndim - 1,) or x.dtype != dtype:
        raise Unsupported(f"{node.op} over axes {node.op.axis} of a {x.ndim}-d input")
    t, f = _float(dtype)
    source = _LOGSUMEXP.format(t=t, f=f, s="f32" if f else "f64", par=_PAR)
    dt = np.dtype(dtype)

    def bind(funcs):
        (fn,) = funcs
        from ..numpy import registry

        reference = registry.make_kernel(node)

        def kernel(x):
            x = np.ascontiguousarray(x, dtype=dt)
            if x.shape[-1] == 0:
                return reference(x)  # numpy's error (or empty result) for empty rows
            y = np.empty(x.shape[:-1], dt)
            if y.size:
                fn(y.size, x.shape[-1], ffi_from_buffer(y), ffi_from_buffer(x))
            return y

        return kernel

    return KernelSpec(source, [("lse", "iipp")], bind)
