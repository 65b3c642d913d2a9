"""Table: each rewrite applied alone turns a small graph into the expected ops, same values."""
import numpy as np
import pytest

import core.tensor as T
from core.gradient import zero_grad
from core.rewrite import REGISTRY
from rewrite_helpers import rewrite_only, same_values, scalar_ops

x, y = T.dvector("x"), T.dvector("y")
m = T.dmatrix("m")
XV, YV = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.2, -0.7])
MV = np.array([[0.1, -2.0, 3.0], [1.0, 0.5, -0.4]])

x3 = T.TensorType("float64", (3,))("x3")
z, labels = T.dmatrix("z"), T.lvector("labels")
LABELS = np.array([2, 0])
e_x, e_y, e_m = T.exp(x), T.exp(y), T.exp(m)
sm = T.nnet.softmax(z)
xent = T.nnet.categorical_crossentropy(sm, labels).sum()
hand = -T.log(sm[T.arange(z.shape[0]), labels]).sum()

# name -> (inputs, output, values, ops after the rule, rules applied with it (before and after))
TABLE = {
    "local_useless_alloc": ([x3], T.alloc(x3, 3), [XV], [], ()),
    "local_elemwise_alloc": ([m, x], T.alloc(x, m.shape[0], 3) * m, [MV, XV], ["DimShuffle", "Mul"], ()),
    "local_sum_neg": ([x], (-x).sum(), [XV], ["CAReduce", "Neg"], ()),
    "local_sum_of_fill": ([m], T.ones_like(m).sum(), [MV], None, ()),
    "local_sum_of_fill[alloc]": ([m], T.alloc(2.0, m.shape[0], m.shape[1]).sum(), [MV], None, ()),
    "local_shape_i_lift": ([x], T.exp(x).shape[0] + 0, [XV], ["Shape_i", "Add"], ()),
    "local_remove_gradient_ops": ([x], zero_grad(T.exp(x)), [XV], ["Exp"], ()),
    "local_log1p_exp": ([x], T.log1p(T.exp(x)), [XV], ["Softplus"], ()),
    "local_log_sigmoid": ([x], T.log(T.nnet.sigmoid(x)), [XV], ["Neg", "Softplus", "Neg"], ()),
    "local_softmax_from_div": ([m], T.exp(m) / T.exp(m).sum(axis=1, keepdims=True), [MV],
                               ["Softmax"], ()),
    "local_softmax_from_mul": ([m], e_m * (2.0 / e_m.sum(axis=1)).dimshuffle(0, "x"), [MV],
                               None, ()),
    "local_mul_sigmoid_exp": ([x, y], T.nnet.sigmoid(x) * T.exp(-x) * y, [XV, YV], None, ()),
    "local_mul_cancel_division": ([x, y], T.mul(e_x, y / e_x - x / e_y, e_y), [XV, YV], None, ()),
    "local_exp_over_sum_exp": ([m], e_m * -(T.constant(MV) / e_m.sum(axis=1, keepdims=True)),
                               [MV], None, ()),
    "local_sum_div_dimshuffle": ([m], (m / e_m.sum(axis=1, keepdims=True)).sum(axis=1), [MV],
                                 None, ()),
    "local_mul_neg_one": ([x], -1 * x, [XV], ["Neg"], ()),
    "local_div_by_constant": ([x], x / 4.0, [XV], ["Mul"], ()),
    "local_mul_self": ([x], x * x, [XV], ["Sqr"], ()),
    "local_logsumexp": ([m], T.log(T.exp(m).sum(axis=0)), [MV], ["LogSumExp"], ()),
    "local_softmax_grad_to_log_softmax_grad": (
        [z], T.grad((T.constant(MV) * T.log(T.nnet.softmax(z))).sum(), z), [MV], None, ()),
    "local_crossentropy_softmax": ([z, labels], xent, [MV, LABELS], None, ()),
    "local_crossentropy_softmax_grad": ([z, labels], T.grad(xent, z), [MV, LABELS], None, ()),
    "local_hand_written_crossentropy": ([z, labels], hand, [MV, LABELS], None,
                                        ("local_log_softmax",)),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_rule_alone(name):
    inputs, out, values, expected, also = TABLE[name]
    before = scalar_ops(rewrite_only(inputs, [out], *also))
    fg = rewrite_only(inputs, [out], name.split("[")[0], *also)
    after = scalar_ops(fg)
    assert after != before, f"{name} did not apply"
    if expected is not None:
        assert sorted(after) == sorted(expected)
    same_values(inputs, [out], values, rtol=1e-12)


def test_every_rule_is_tested_somewhere():
    import pathlib

    text = "".join(p.read_text() for p in pathlib.Path(__file__).parent.glob("test_*.py"))
    ours = [n for n, rw in REGISTRY.items() if rw.fn.__module__.startswith("core.rewrite")]
    untested = [name for name in ours if name not in text]
    assert not untested, f"rules without a test naming them: {untested}"
