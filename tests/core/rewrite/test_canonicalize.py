"""Each canonicalization rule alone, then through function()."""
import numpy as np
import pytest

import core.tensor as T
from core import function, pp
from rewrite_helpers import rewrite_only, same_values, scalar_ops


def test_seed_gradient_prints_two_x():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert pp(gy) == "((second((x ** 2.0), 1.0) * 2.0) * (x ** (2.0 - 1.0)))"
    f = function([x], gy)
    assert pp(f.maker.fgraph.outputs[0]) == "(2.0 * x)"
    assert f(4) == 8.0


def test_useless_fill_removed():
    x = T.dscalar("x")
    fg = rewrite_only([x], [T.fill(x ** 2, x)], "local_useless_fill")
    assert scalar_ops(fg) == []
    assert fg.outputs[0] is x


def test_fill_sinks_then_vanishes():
    x = T.dmatrix("x")
    y = T.fill(x, 2.0) * x
    fg = rewrite_only([x], [y], "local_fill_sink", "local_useless_fill")
    assert "Second" not in scalar_ops(fg)
    same_values([x], [y], [np.arange(6.0).reshape(2, 3)])


def test_add_mul_flatten_and_fold_constants():
    x = T.dvector("x")
    fg = rewrite_only([x], [2 * x * 3], "local_mul_canonical", "constant_folding")
    assert pp(fg.outputs[0]) == "(6.0 * x)"
    fg = rewrite_only([x], [(x + 1) + 2 + x], "local_add_canonical")
    assert scalar_ops(fg) == ["Add"] and pp(fg.outputs[0]) == "(3.0 + x + x)"


@pytest.mark.parametrize("expr", [lambda x: x * 1, lambda x: x + 0, lambda x: 1 * x + 0])
def test_neutral_elements_vanish(expr):
    x = T.dvector("x")
    f = function([x], expr(x))
    assert scalar_ops(f) == []
    np.testing.assert_array_equal(f([1.0, 2.0]), [1.0, 2.0])


def test_sub_self_and_double_negation():
    x = T.dvector("x")
    fg = rewrite_only([x], [x - x], "local_sub_canonical")
    assert "Sub" not in scalar_ops(fg)
    np.testing.assert_array_equal(function([x], x - x)([1.0, np.inf - 1]), [0.0, 0.0])
    fg = rewrite_only([x], [-(-x)], "local_neg_neg")
    assert fg.outputs[0] is x


@pytest.mark.parametrize("power,op", [(2, "Sqr"), (0.5, "Sqrt"), (-1, "Reciprocal")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_specialization(power, op, dtype):
    x = T.vector("x", dtype=dtype)
    fg = rewrite_only([x], [x ** power], "local_pow_specialize")
    assert scalar_ops(fg) == [op]
    assert fg.outputs[0].dtype == dtype
    same_values([x], [x ** power], [np.array([0.5, 2.0, 3.0], dtype=dtype)], rtol=1e-6)


def test_pow_one_and_zero():
    x = T.dvector("x")
    assert rewrite_only([x], [x ** 1], "local_pow_specialize").outputs[0] is x
    f = function([x], x ** 0)
    np.testing.assert_array_equal(f([3.0, 0.0]), [1.0, 1.0])


def test_div_self_and_by_one():
    x = T.dvector("x")
    fg = rewrite_only([x], [x / x], "local_div_canonical")
    assert "TrueDiv" not in scalar_ops(fg)
    assert rewrite_only([x], [x / 1.0], "local_div_canonical").outputs[0] is x


def test_dimshuffle_chain_collapses():
    x = T.dmatrix("x")
    y = x.dimshuffle(1, "x", 0).dimshuffle(2, 0, 1)
    fg = rewrite_only([x], [y], "local_dimshuffle_chain")
    assert scalar_ops(fg) == ["DimShuffle"]
    assert fg.outputs[0].owner.op.new_order == (0, 1, "x")
    assert rewrite_only([x], [x.T.T], "local_dimshuffle_chain").outputs[0] is x


def test_reshape_chain_collapses():
    x = T.dmatrix("x")
    y = x.reshape((6,)).reshape((3, 2))
    fg = rewrite_only([x], [y], "local_reshape_chain")
    assert scalar_ops(fg).count("Reshape") == 1
    same_values([x], [y], [np.arange(6.0).reshape(2, 3)])


def test_sum_of_filled_constant():
    x = T.dmatrix("x")
    y = T.ones_like(x).sum()
    f = function([x], y)
    assert "Second" not in scalar_ops(f) and "CAReduce" not in scalar_ops(f)
    assert f(np.zeros((3, 4))) == 12.0


def test_cast_chain():
    x = T.fvector("x")
    y = T.cast(T.cast(x, "float64"), "int32")
    fg = rewrite_only([x], [y], "local_cast_cast")
    assert scalar_ops(fg) == ["Cast"]
    same_values([x], [y], [np.array([1.7, -2.2], dtype="float32")])


def test_signs_move_out_of_products():
    x, y = T.dvectors("x", "y")
    fg = rewrite_only([x, y], [(-x) * (-y)], "local_mul_neg_out", "local_neg_neg")
    assert scalar_ops(fg) == ["Mul"]
    fg = rewrite_only([x, y], [(-x) / y], "local_div_neg_out")
    assert scalar_ops(fg) == ["TrueDiv", "Neg"]


def test_constant_folding_alone_and_in_fast_compile():
    x = T.dvector("x")
    c = T.constant(np.array([1.0, 2.0]))
    y = x + T.exp(c) * 2
    f = function([x], y, mode="FAST_COMPILE")
    assert scalar_ops(f) == ["Add"]
    np.testing.assert_allclose(f([0.0, 0.0]), np.exp([1.0, 2.0]) * 2)


def test_merge_and_exp_plus_exp_is_one_exp():
    x = T.dvector("x")
    f = function([x], T.exp(x) + T.exp(x))
    (node,) = f.maker.fgraph.toposort()
    inner = node.op.scalar_op.fgraph
    assert [type(n.op).__name__ for n in inner.toposort()].count("Exp") == 1
    np.testing.assert_allclose(f([0.0, 1.0]), 2 * np.exp([0.0, 1.0]))
    g = function([x], T.exp(x) + T.exp(x), mode="FAST_COMPILE")
    assert scalar_ops(g) == ["Exp", "Add"]


def test_integer_negative_power_still_raises_like_numpy():
    i = T.ivector("i")
    with pytest.raises(ValueError, match="negative integer powers"):
        function([i], i ** -1)(np.array([1, 2], dtype="int32"))
    np.testing.assert_array_equal(function([i], i ** 2)(np.array([3, 4], dtype="int32")), [9, 16])


def test_print_nodes_are_neither_merged_nor_folded(capsys):
    from core.printing import Print

    x = T.dvector("x")
    f = function([x], [Print("p")(x) + 1, Print("p")(x) * 2, Print("c")(T.constant(3.0)) + x])
    f(np.array([1.0]))
    out = capsys.readouterr().out
    assert out.count("p __str__") == 2 and out.count("c __str__") == 1


def test_merge_sees_through_commutativity():
    x, y = T.dvectors("x", "y")
    f = function([x, y], [x * y, y * x, T.maximum(x, y) - T.maximum(y, x)], excluding=["fusion"])
    assert scalar_ops(f).count("Mul") == 1 and scalar_ops(f).count("Maximum") <= 1
    a, b, c = f(np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, [0.0, 0.0])
