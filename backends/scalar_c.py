"""C expressions for each scalar op: one table, keyed by ScalarOp class, shared by the C
and CUDA backends (CUDA C accepts the same expressions and helpers).

Each entry turns the C expressions of an op's inputs into the C expression of
its output. Arithmetic runs in the output dtype (inputs are cast to it first,
which is what NumPy's type resolution does); comparisons run in the inputs'
common dtype. float16 and complex dtypes have no C kernels (numpy runs them).
"""
from __future__ import annotations

import math

import numpy as np

from core.tensor import scalar_ops as ps

C_TYPES = {"bool": "npy_bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
           "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
           "uint64": "uint64_t", "float32": "float", "float64": "double"}
_INT_SUFFIX = {"int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8",
               "uint16": "u16", "uint32": "u32", "uint64": "u64", "bool": "u8"}


class Unsupported(Exception):
    """No C code for this op or dtype (the C backend runs the numpy kernel instead)."""


class Arg:
    """A C expression of a known dtype; ``const`` holds its value when it is a literal."""

    __slots__ = ("expr", "dtype", "const")

    def __init__(self, expr: str, dtype: str, const=None):
        self.expr, self.dtype, self.const = expr, dtype, const


def ctype(dtype: str) -> str:
    try:
        return C_TYPES[str(dtype)]
    except KeyError:
        raise Unsupported(f"dtype {dtype}") from None


def literal(value, dtype: str) -> str:
    """A C literal of ``dtype`` for a Python/numpy scalar."""
    dtype = str(dtype)
    ctype(dtype)
    kind = np.dtype(dtype).kind
    if kind == "b":
        return "1" if bool(value) else "0"
    if kind in "iu":
        v = int(value)
        if dtype == "int64" and v == -2**63:
            return "INT64_MIN"
        return f"(({C_TYPES[dtype]}){v}{'ULL' if kind == 'u' else 'LL'})"
    v = float(value)
    if math.isnan(v):
        body = "NAN"
    elif math.isinf(v):
        body = "INFINITY" if v > 0 else "(-INFINITY)"
    else:
        body = repr(v) if dtype == "float64" else repr(float(np.float32(v))) + "f"
        if "e" not in body and "." not in body and "inf" not in body:
            body += ".0"
        body = f"({body})"
    return f"(({C_TYPES[dtype]}){body})"


def cast(arg: Arg, dtype: str) -> str:
    """``arg`` converted to ``dtype`` as NumPy converts (to bool: nonzero)."""
    if arg.dtype == dtype:
        return arg.expr
    if arg.const is not None:
        return literal(np.asarray(arg.const).astype(dtype), dtype)
    if dtype == "bool":
        return f"(({arg.expr}) != 0)"
    return f"(({ctype(dtype)})({arg.expr}))"


def _is_float(dtype: str) -> bool:
    return np.dtype(dtype).kind == "f"


def _fn(name: str, dtype: str) -> str:
    """libm name for a float dtype: expf for float32, exp for float64."""
    if dtype == "float32":
        return name + "f"
    if dtype == "float64":
        return name
    raise Unsupported(f"{name} on {dtype}")


TRANSCENDENTAL = {ps.Exp: "exp", ps.Log: "log", ps.Log2: "log2", ps.Log10: "log10",
                  ps.Log1p: "log1p", ps.Expm1: "expm1", ps.Sqrt: "sqrt", ps.Tanh: "tanh",
                  ps.Sin: "sin", ps.Cos: "cos", ps.Tan: "tan", ps.Arctan: "atan", ps.Erf: "erf",
                  ps.Floor: "floor", ps.Ceil: "ceil", ps.Round: "nearbyint"}
# libm functions glibc's libmvec vectorizes; declared ``omp declare simd`` in the preamble.
VECTOR_MATH = ("exp", "log", "log2", "log10", "log1p", "expm1", "tanh", "sin", "cos", "tan",
               "atan", "erf", "pow")


def _variadic(symbol: str):
    def gen(args, out):
        expr = "(" + f" {symbol} ".join(cast(a, out) for a in args) + ")"
        return f"({expr} != 0)" if out == "bool" else expr

    return gen


def _mul(args, out):
    product = _variadic("*")
    masks = [a for a in args if a.dtype == "bool"]
    rest = [a for a in args if a.dtype != "bool"]
    if not (_is_float(out) and masks and rest):
        return product(args, out)
    # x * mask as a select (a relu gradient): the same IEEE result, but a tiny (subnormal) x
    # passes through without a multiply, which costs a microcode assist per element on x86
    x = product(rest, out)
    cond = " && ".join(f"({m.expr})" for m in masks)
    return f"(({cond}) ? {x} : ({x} * {literal(0, out)}))"


def _int_pow(base: str, n: int, out: str) -> str | None:
    """``base ** n`` as multiplications for a small integer constant exponent."""
    if not 0 <= abs(n) <= 16:
        return None
    if n == 0:
        return literal(1, out)

    def power(k: int) -> str:  # by squaring: the compiler computes a repeated square once
        if k == 1:
            return f"({base})"
        half = power(k // 2)
        return f"({half} * {half}{f' * ({base})' if k % 2 else ''})"

    terms = power(abs(n))
    if n > 0:
        return f"({terms})"
    if not _is_float(out):
        return None
    return f"({literal(1, out)} / ({terms}))"


def _pow(args, out):
    x, y = args
    bx = cast(x, out)
    if y.const is not None and float(y.const) == int(y.const) and (
            _is_float(out) or int(y.const) >= 0):
        expanded = _int_pow(bx, int(y.const), out)
        if expanded is not None:
            return expanded
    if _is_float(out):
        if y.const is not None and float(y.const) == 0.5:
            return f"{_fn('sqrt', out)}({bx})"
        return f"{_fn('pow', out)}({bx}, {cast(y, out)})"
    if out == "bool":
        raise Unsupported("pow on bool")
    return f"lg_ipow_{_INT_SUFFIX[out]}({bx}, {cast(y, out)}, &err)"


def _maxmin(op: str):
    def gen(args, out):
        a, b = (cast(x, out) for x in args)
        if _is_float(out):  # NaN propagates, as numpy's maximum/minimum
            return f"lg_{op}_{'f32' if out == 'float32' else 'f64'}({a}, {b})"
        return f"(({a}) {'>' if op == 'max' else '<'} ({b}) ? ({a}) : ({b}))"

    return gen


def _unary_float(name):
    def gen(args, out):
        (a,) = args
        if not _is_float(out):
            if name in ("floor", "ceil", "nearbyint"):
                return cast(a, out)
            raise Unsupported(f"{name} to {out}")
        return f"{_fn(name, out)}({cast(a, out)})"

    return gen


def _compare(symbol: str):
    def gen(args, out):
        common = str(np.result_type(*[np.dtype(a.dtype) for a in args]))
        ctype(common)
        a, b = (cast(x, common) for x in args)
        return f"(({a}) {symbol} ({b}))"

    return gen


def _bitwise(symbol: str):
    def gen(args, out):
        a, b = (cast(x, out) for x in args)
        if out == "bool":
            return f"(npy_bool)(({a}) {symbol} ({b}))"
        if _is_float(out):
            raise Unsupported(f"bitwise {symbol} on {out}")
        return f"(({a}) {symbol} ({b}))"

    return gen


def _div(args, out):
    a, b = (cast(x, out) for x in args)
    if not _is_float(out):
        raise Unsupported(f"true_div to {out}")
    return f"(({a}) / ({b}))"


def _numpy_division(helper: str, name: str):
    """floor_divide / mod with numpy's sign rules, through the lg_<helper>_<suffix> C helpers."""

    def emit(args, out):
        a, b = (cast(x, out) for x in args)
        if _is_float(out):
            return f"lg_{helper}_{'f32' if out == 'float32' else 'f64'}({a}, {b})"
        if out == "bool":
            raise Unsupported(f"{name} on bool")
        return f"lg_{helper}_{_INT_SUFFIX[out]}({a}, {b})"

    return emit


_floordiv = _numpy_division("floordiv", "floor_divide")
_mod = _numpy_division("mod", "mod")


def _neg(args, out):
    if out == "bool":
        raise Unsupported("negative of bool")
    return f"(-({cast(args[0], out)}))"


def _abs(args, out):
    a = cast(args[0], out)
    if _is_float(out):
        return f"{_fn('fabs', out)}({a})"
    if out == "bool" or out.startswith("u"):
        return a
    return f"(({a}) < 0 ? -({a}) : ({a}))"


def _sqr(args, out):
    a = cast(args[0], out)
    return f"(({a}) && 1)" if out == "bool" else f"(({a}) * ({a}))"


def _sign(args, out):
    a = cast(args[0], out)
    if out == "bool":
        return a
    one, mone, zero = literal(1, out), literal(-1, out) if not out.startswith("u") else "0", literal(0, out)
    tail = a if _is_float(out) else zero  # NaN stays NaN
    return f"(({a}) > 0 ? {one} : (({a}) < 0 ? {mone} : {tail}))"


def _reciprocal(args, out):
    if not _is_float(out):
        raise Unsupported(f"reciprocal to {out}")
    return f"({literal(1, out)} / ({cast(args[0], out)}))"


def _identity(args, out):
    return cast(args[0], out)


def _sigmoid(args, out):
    a = cast(args[0], out)
    one = literal(1, out)
    return f"({one} / ({one} + {_fn('exp', out)}(-({a}))))"


def _softplus(args, out):
    a = cast(args[0], out)
    # a ternary, not fmax: gcc vectorizes it (fmax needs -ffinite-math-only)
    return (f"((({a}) > 0 ? ({a}) : {literal(0, out)}) + "
            f"{_fn('log1p', out)}({_fn('exp', out)}(-{_fn('fabs', out)}({a}))))")


def _invert(args, out):
    a = cast(args[0], out)
    if out == "bool":
        return f"(!({a}))"
    if _is_float(out):
        raise Unsupported("invert on floats")
    return f"(({ctype(out)})(~({a})))"


def _isnan(args, out):
    a = args[0]
    return f"(isnan({a.expr}) != 0)" if _is_float(a.dtype) else "0"


def _isinf(args, out):
    a = args[0]
    return f"(isinf({a.expr}) != 0)" if _is_float(a.dtype) else "0"


def _switch(args, out):
    c, a, b = args
    return f"(({c.expr}) ? ({cast(a, out)}) : ({cast(b, out)}))"


def _clip(args, out):
    x, lo, hi = (cast(a, out) for a in args)
    if _is_float(out):
        return f"lg_clip_{'f32' if out == 'float32' else 'f64'}({x}, {lo}, {hi})"
    return f"(({x}) < ({lo}) ? ({lo}) : (({x}) > ({hi}) ? ({hi}) : ({x})))"


def _second(args, out):
    return cast(args[1], out)


def _cast(args, out):
    return cast(args[0], out)


TABLE = {
    ps.Add: _variadic("+"), ps.Mul: _mul, ps.Sub: _variadic("-"),
    ps.TrueDiv: _div, ps.IntDiv: _floordiv, ps.Mod: _mod, ps.Pow: _pow,
    ps.Maximum: _maxmin("max"), ps.Minimum: _maxmin("min"), ps.Neg: _neg, ps.Abs: _abs,
    ps.Sqr: _sqr, ps.Sign: _sign, ps.Reciprocal: _reciprocal, ps.Identity: _identity,
    ps.Sigmoid: _sigmoid, ps.Softplus: _softplus,
    ps.LT: _compare("<"), ps.GT: _compare(">"), ps.LE: _compare("<="), ps.GE: _compare(">="),
    ps.EQ: _compare("=="), ps.NEQ: _compare("!="), ps.AND: _bitwise("&"), ps.OR: _bitwise("|"),
    ps.XOR: _bitwise("^"), ps.Invert: _invert, ps.IsNan: _isnan, ps.IsInf: _isinf,
    ps.Switch: _switch, ps.Clip: _clip, ps.Second: _second, ps.Cast: _cast,
}
for _cls, _name in TRANSCENDENTAL.items():
    TABLE[_cls] = _unary_float(_name)


def scalar_c(op, args: list[Arg], out_dtype: str) -> str:
    """The C expression of ``op`` applied to ``args``, of dtype ``out_dtype``."""
    ctype(out_dtype)
    for a in args:
        ctype(a.dtype)
    for cls in type(op).__mro__:
        gen = TABLE.get(cls)
        if gen is not None:
            return gen(args, out_dtype)
    raise Unsupported(f"scalar op {op}")


def _int_helpers(t: str, suffix: str, signed: bool) -> str:
    neg_fix = ("if (b == -1) return (" + t + ")(0 - (uint64_t)a);" if signed else "")
    floordiv_adj = ("if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;" if signed else "")
    mod_adj = ("if (r != 0 && ((r < 0) != (b < 0))) r += b;" if signed else "")
    neg_exp = "if (e < 0) { *err = 1; return 0; }" if signed else ""
    return f"""
static inline {t} lg_floordiv_{suffix}({t} a, {t} b) {{
    if (b == 0) return 0; {neg_fix}
    {t} q = a / b; {floordiv_adj} return q; }}
static inline {t} lg_mod_{suffix}({t} a, {t} b) {{
    if (b == 0) return 0; {"if (b == -1) return 0;" if signed else ""}
    {t} r = a % b; {mod_adj} return r; }}
static inline {t} lg_ipow_{suffix}({t} b, {t} e, int *err) {{
    {neg_exp} {t} r = 1;
    while (e) {{ if (e & 1) r *= b; b *= b; e >>= 1; }} return r; }}
"""


def _float_helpers(t: str, suffix: str, f: str) -> str:
    return f"""
static inline {t} lg_max_{suffix}({t} a, {t} b) {{ return (a > b || a != a) ? a : b; }}
static inline {t} lg_min_{suffix}({t} a, {t} b) {{ return (a < b || a != a) ? a : b; }}
static inline {t} lg_clip_{suffix}({t} x, {t} lo, {t} hi) {{ return x < lo ? lo : (x > hi ? hi : x); }}
static inline {t} lg_mod_{suffix}({t} a, {t} b) {{
    {t} m = fmod{f}(a, b);
    if (!b) return m;
    if (m) {{ if ((b < 0) != (m < 0)) m += b; }} else m = copysign{f}(0, b);
    return m; }}
static inline {t} lg_floordiv_{suffix}({t} a, {t} b) {{
    if (!b) return a / b;
    {t} m = fmod{f}(a, b), d = (a - m) / b;
    if (m && ((b < 0) != (m < 0))) d -= 1;
    if (d) {{ {t} fd = floor{f}(d); if (d - fd > ({t})0.5) fd += 1; return fd; }}
    return copysign{f}(0, a / b); }}
"""


def helpers(qualifier: str = "static inline") -> str:
    """The ``lg_*`` helper functions the expressions call (integer and float division,
    modulo, powers, NaN-propagating max/min, clip), each declared with ``qualifier``
    (CUDA: ``static __device__ inline``)."""
    ints = "".join(_int_helpers(C_TYPES[d], _INT_SUFFIX[d], not d.startswith("u"))
                   for d in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                             "uint64"))
    floats = _float_helpers("float", "f32", "f") + _float_helpers("double", "f64", "")
    return (ints + floats).replace("static inline", qualifier)
