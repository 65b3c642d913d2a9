"""Scalar ops: the elementwise operations that ``Elemwise`` maps over tensors.

Each scalar op is an ``Op`` on 0-d ``ScalarVariable``s (so that a fused
``Composite`` can hold a graph of them) and states three things in one place:
how many inputs it takes, its output dtype rule, and its gradient, written as
tensor graph (``grad(inputs, outputs, output_grads)`` over the Elemwise's
tensor variables). Kernels live in the backends, keyed by class.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..graph.basic import Apply, Constant, Op, Type, Variable


_CANONICAL = frozenset(("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                        "uint64", "float16", "float32", "float64", "complex64", "complex128"))


@lru_cache(maxsize=None)
def _result_type(*dtypes: str) -> str:
    """NumPy's promotion of dtype names, as a name (cached: it runs for every node)."""
    return str(np.result_type(*[np.dtype(d) for d in dtypes]))


class ScalarType(Type):
    """The type of one element: just a dtype."""

    def __init__(self, dtype: str):
        self.dtype = dtype if dtype in _CANONICAL else str(np.dtype(dtype))

    def __eq__(self, other):
        return type(other) is ScalarType and other.dtype == self.dtype

    def __hash__(self):
        return hash((ScalarType, self.dtype))

    def filter(self, value, strict=False, allow_downcast=None):
        return np.asarray(value, dtype=self.dtype)

    def make_variable(self, name=None):
        return ScalarVariable(self, None, None, name)

    def __str__(self):
        return self.dtype

    __repr__ = __str__


class ScalarVariable(Variable):
    """One element inside a Composite's inner graph."""

    @property
    def dtype(self):
        return self.type.dtype


class ScalarConstant(Constant):
    @property
    def dtype(self):
        return self.type.dtype


def upgrade_to_float(dtype: str) -> str:
    """Theano's rule: small ints and bools become float32, other ints float64."""
    kind = np.dtype(dtype).kind
    if kind in "fc":
        return dtype
    return "float32" if dtype in ("bool", "int8", "uint8", "int16", "uint16") else "float64"


class ScalarOp(Op):
    """An elementwise operation on scalars.

    ``nin`` is the input count (-1: any, at least 2); ``output_rule`` is one of
    ``'upcast'`` (NumPy promotion of the inputs), ``'float'`` (that, then ints
    become floats), ``'bool'``, ``'same'`` (the first input's dtype) or
    ``'last'`` (the last input's dtype).
    """

    nin = 1
    output_rule = "upcast"
    commutative = False
    associative = False
    symbol: str | None = None  # infix symbol used by pp, e.g. '+'

    def output_dtype(self, *dtypes: str) -> str:
        rule = self.output_rule
        if rule == "bool":
            return "bool"
        if rule == "same":
            return dtypes[0]
        if rule == "last":
            return dtypes[-1]
        upcast = _result_type(*dtypes)
        return upgrade_to_float(upcast) if rule == "float" else upcast

    def make_node(self, *inputs) -> Apply:
        if self.nin >= 0 and len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}")
        out = ScalarType(self.output_dtype(*[i.type.dtype for i in inputs]))()
        return Apply(self, inputs, [out])

    def grad(self, inputs, outputs, output_grads):
        raise NotImplementedError(f"{self.name or type(self).__name__} has no gradient")

    def __str__(self):
        return self.name or type(self).__name__.lower()


class UnaryScalarOp(ScalarOp):
    nin = 1


class BinaryScalarOp(ScalarOp):
    nin = 2


def _t():
    """The tensor op library, imported lazily (it imports this module)."""
    from . import math

    return math


# --- arithmetic -----------------------------------------------------------

class Add(ScalarOp):
    nin, commutative, associative, symbol = -1, True, True, "+"

    def grad(self, inputs, outputs, gz):
        return [gz[0]] * len(inputs)


class Mul(ScalarOp):
    nin, commutative, associative, symbol = -1, True, True, "*"

    def grad(self, inputs, outputs, gz):
        m = _t()
        grads = []
        for i in range(len(inputs)):
            others = inputs[:i] + inputs[i + 1:]
            grads.append(m.mul(gz[0], *others) if others else gz[0])
        return grads


class Sub(BinaryScalarOp):
    symbol = "-"

    def grad(self, inputs, outputs, gz):
        return [gz[0], -gz[0]]


class TrueDiv(BinaryScalarOp):
    output_rule, symbol = "float", "/"

    def grad(self, inputs, outputs, gz):
        x, y = inputs
        return [gz[0] / y, -gz[0] * outputs[0] / y]


class IntDiv(BinaryScalarOp):
    symbol = "//"

    def grad(self, inputs, outputs, gz):
        return [None, None]


class Mod(BinaryScalarOp):
    symbol = "%"

    def grad(self, inputs, outputs, gz):
        x, y = inputs
        return [gz[0], -gz[0] * _t().floor_div(x, y)]


class Pow(BinaryScalarOp):
    symbol = "**"

    def grad(self, inputs, outputs, gz):
        m = _t()
        x, y = inputs
        gx = gz[0] * y * x ** (y - 1)
        gy = gz[0] * outputs[0] * m.log(m.switch(m.gt(x, 0), x, 1)) if y.dtype[0] in "fc" else None
        return [gx, gy]


class Maximum(BinaryScalarOp):
    commutative = True

    def grad(self, inputs, outputs, gz):
        m = _t()
        # The mask reads the output, not x: relu's gradient then needs only relu(x), so
        # x's buffer can be overwritten (a dense layer's pre-activation). A tie sends the
        # gradient to y: relu'(0) = 0, as in PyTorch and Keras.
        mask = m.gt(outputs[0], inputs[1])
        return [gz[0] * mask, gz[0] * m.invert(mask)]


class Minimum(BinaryScalarOp):
    commutative = True

    def grad(self, inputs, outputs, gz):
        m = _t()
        mask = m.lt(outputs[0], inputs[1])  # as Maximum: reads the output, ties go to y
        return [gz[0] * mask, gz[0] * m.invert(mask)]


class Neg(UnaryScalarOp):
    output_rule, symbol = "same", "-"

    def grad(self, inputs, outputs, gz):
        return [-gz[0]]


class Abs(UnaryScalarOp):
    output_rule = "same"

    def grad(self, inputs, outputs, gz):
        return [gz[0] * _t().sign(inputs[0])]


class Sqr(UnaryScalarOp):
    output_rule = "same"

    def grad(self, inputs, outputs, gz):
        return [gz[0] * 2 * inputs[0]]


class Sign(UnaryScalarOp):
    output_rule = "same"

    def grad(self, inputs, outputs, gz):
        return [_t().zeros_like(inputs[0])]


class Reciprocal(UnaryScalarOp):
    output_rule = "float"

    def grad(self, inputs, outputs, gz):
        return [-gz[0] * _t().sqr(outputs[0])]


class Identity(UnaryScalarOp):
    output_rule = "same"

    def grad(self, inputs, outputs, gz):
        return [gz[0]]


class _Rounding(UnaryScalarOp):
    output_rule = "same"

    def grad(self, inputs, outputs, gz):
        return [_t().zeros_like(inputs[0])]


class Floor(_Rounding):
    pass


class Ceil(_Rounding):
    pass


class Round(_Rounding):
    """Round half to even, as numpy."""


# --- transcendental -----------------------------------------------------

class _FloatUnary(UnaryScalarOp):
    output_rule = "float"


class Exp(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * outputs[0]]


class Log(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] / inputs[0]]


class Log2(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] / (inputs[0] * np.log(2.0))]


class Log10(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] / (inputs[0] * np.log(10.0))]


class Log1p(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] / (1 + inputs[0])]


class Expm1(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * (outputs[0] + 1)]


class Sqrt(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * 0.5 / outputs[0]]


class Tanh(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * (1 - _t().sqr(outputs[0]))]


class Sin(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * _t().cos(inputs[0])]


class Cos(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [-gz[0] * _t().sin(inputs[0])]


class Tan(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * (1 + _t().sqr(outputs[0]))]


class Arctan(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] / (1 + _t().sqr(inputs[0]))]


class Sigmoid(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        s = outputs[0]
        return [gz[0] * s * (1 - s)]


class Softplus(_FloatUnary):
    """log(1 + exp(x)), computed without overflow."""

    def grad(self, inputs, outputs, gz):
        return [gz[0] * _t().sigmoid(inputs[0])]


class Erf(_FloatUnary):
    def grad(self, inputs, outputs, gz):
        return [gz[0] * (2 / np.sqrt(np.pi)) * _t().exp(-_t().sqr(inputs[0]))]


# --- comparisons and logic ----------------------------------------------

class _Compare(BinaryScalarOp):
    output_rule = "bool"

    def grad(self, inputs, outputs, gz):
        return [None, None]


class LT(_Compare): symbol = "<"
class GT(_Compare): symbol = ">"
class LE(_Compare): symbol = "<="
class GE(_Compare): symbol = ">="
class EQ(_Compare): commutative, symbol = True, "=="
class NEQ(_Compare): commutative, symbol = True, "!="


class _Bitwise(BinaryScalarOp):
    commutative = True

    def grad(self, inputs, outputs, gz):
        return [None, None]


class AND(_Bitwise): symbol = "&"
class OR(_Bitwise): symbol = "|"
class XOR(_Bitwise): symbol = "^"


class Invert(UnaryScalarOp):
    output_rule, symbol = "same", "~"

    def grad(self, inputs, outputs, gz):
        return [None]


class IsNan(UnaryScalarOp):
    output_rule = "bool"

    def grad(self, inputs, outputs, gz):
        return [None]


class IsInf(IsNan):
    pass


# --- selection and conversion -------------------------------------------

class Switch(ScalarOp):
    """``switch(cond, a, b)``: a where cond is true, else b."""

    nin = 3

    def output_dtype(self, cond, a, b):
        return str(np.result_type(np.dtype(a), np.dtype(b)))

    def grad(self, inputs, outputs, gz):
        m = _t()
        cond = inputs[0]
        zero = m.zeros_like(gz[0])
        return [None, m.switch(cond, gz[0], zero), m.switch(cond, zero, gz[0])]


class Clip(ScalarOp):
    """``clip(x, lo, hi)``; the gradient goes to x where lo <= x <= hi, else to the bound."""

    nin = 3

    def grad(self, inputs, outputs, gz):
        m = _t()
        x, lo, hi = inputs
        inside = m.and_(m.ge(x, lo), m.le(x, hi))
        return [gz[0] * inside, gz[0] * m.lt(x, lo), gz[0] * m.gt(x, hi)]


class Second(BinaryScalarOp):
    """``second(a, b)`` is b, broadcast to the shape of a (Theano's ``fill``)."""

    output_rule = "last"

    def grad(self, inputs, outputs, gz):
        return [None, gz[0]]


class Cast(UnaryScalarOp):
    __props__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = dtype if dtype in _CANONICAL else str(np.dtype(dtype))

    def output_dtype(self, *dtypes):
        return self.dtype

    def grad(self, inputs, outputs, gz):
        if np.dtype(inputs[0].dtype).kind not in "fc":
            return [None]
        return [_t().cast(gz[0], inputs[0].dtype)]

    def __str__(self):
        return f"convert_to_{self.dtype}"


def scalar_constant(value, dtype: str) -> ScalarConstant:
    return ScalarConstant(ScalarType(dtype), value)


# One shared instance per parameterless op: equal anyway, and cheaper to compare.
add, mul, sub, true_div, int_div, mod, pow = Add(), Mul(), Sub(), TrueDiv(), IntDiv(), Mod(), Pow()
maximum, minimum, neg, abs_, sqr, sign = Maximum(), Minimum(), Neg(), Abs(), Sqr(), Sign()
reciprocal, identity, floor, ceil, round_half_to_even = Reciprocal(), Identity(), Floor(), Ceil(), Round()
exp, log, log2, log10, log1p, expm1, sqrt = Exp(), Log(), Log2(), Log10(), Log1p(), Expm1(), Sqrt()
tanh, sin, cos, tan, arctan, sigmoid, softplus, erf = (Tanh(), Sin(), Cos(), Tan(), Arctan(),
                                                       Sigmoid(), Softplus(), Erf())
lt, gt, le, ge, eq, neq = LT(), GT(), LE(), GE(), EQ(), NEQ()
and_, or_, xor, invert, isnan, isinf = AND(), OR(), XOR(), Invert(), IsNan(), IsInf()
switch, clip, second = Switch(), Clip(), Second()
