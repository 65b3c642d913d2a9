"""Print: identity that prints at run time, differentiable, kept in compiled graphs."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from core.gradient import verify_grad
from core.printing import Print


def test_prints_when_run_not_when_built(capsys):
    x = T.dvector("x")
    y = Print("x is", attrs=("__str__", "shape"))(x) * 2
    assert capsys.readouterr().out == ""
    f = function([x], y)
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    assert capsys.readouterr().out == "x is __str__ = [1. 2.]\nx is shape = (2,)\n"
    f([3.0])
    assert "x is shape = (1,)" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identity_values_and_types(dtype, capsys):
    x = T.matrix("x", dtype=dtype)
    y = Print("m", attrs=("sum",))(x)
    assert y.type == x.type
    v = np.arange(6, dtype=dtype).reshape(2, 3)
    np.testing.assert_array_equal(function([x], y)(v), v)
    assert capsys.readouterr().out == "m sum = 15.0\n"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_passes_through(dtype, capsys):
    verify_grad(lambda x: T.tanh(Print("g", attrs=("shape",))(x)) * x,
                [np.random.default_rng(0).normal(size=(3, 2))], dtype=dtype)


def test_global_fn_and_kept_in_compiled_graph(capsys):
    seen = []
    x = T.dscalar("x")
    p = Print("hook", global_fn=lambda op, v: seen.append((op.message, float(v))))
    f = function([x], p(x) + 1)
    assert any(isinstance(n.op, Print) for n in f.maker.fgraph.toposort())
    assert f(2.0) == 3.0
    assert seen == [("hook", 2.0)] and capsys.readouterr().out == ""
    assert Print.keep_node


def test_printing_inside_an_output_that_is_the_print_itself(capsys):
    x = T.dvector("x")
    f = function([x], Print("out")(x))
    v = np.array([1.0])
    r = f(v)
    r[0] = 5.0  # the result must not alias the input
    assert v[0] == 1.0
    assert "out __str__ = [1.]" in capsys.readouterr().out
