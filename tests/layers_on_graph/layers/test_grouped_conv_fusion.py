"""DepthwiseConv2D and grouped Conv2D put their bias and a ReLU/linear activation inside the
grouped convolution op (``GroupedConv2dBiasAct``), and keep separate ops for others;
SeparableConv2D puts them inside its pointwise (1x1) convolution, as Keras applies them
after it."""
import numpy as np
import pytest

from core.graph.utils import ancestors
from core.tensor.conv import Conv2dBiasAct
from core.tensor.grouped_conv import GroupedConv2d, GroupedConv2dBiasAct
from layers_on_graph import layers


def _ops(out) -> set:
    return {type(v.owner.op) for v in ancestors([out]) if v.owner is not None}


@pytest.mark.parametrize("layer,fused", [
    (layers.DepthwiseConv2D(3, padding="same", activation="relu"), True),
    (layers.DepthwiseConv2D(3, depth_multiplier=2), True),  # linear
    (layers.Conv2D(6, 3, groups=2, activation="relu"), True),
    (layers.DepthwiseConv2D(3, activation="tanh"), False),
    (layers.DepthwiseConv2D(3, activation="relu", use_bias=False), False),
])
def test_bias_and_activation_fused_where_they_can_be(layer, fused):
    out = layer(layers.Input((8, 8, 4)))
    ops = _ops(out)
    assert (GroupedConv2dBiasAct in ops) == fused
    assert (GroupedConv2d in ops) != fused


def test_fused_layer_matches_separate_ops():
    """The fused DepthwiseConv2D's output equals the plain grouped op's plus bias and ReLU."""
    from core import function

    x = layers.Input((6, 5, 3))
    layer = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu",
                                   bias_initializer="random_normal")
    fused = layer(x)
    plain = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False)
    plain_out = plain(x)
    plain.set_weights([layer.get_weights()[0]])
    data = np.random.default_rng(0).normal(size=(2, 6, 5, 3)).astype("float32")
    got, raw = function([x], [fused, plain_out])(data)
    np.testing.assert_allclose(got, np.maximum(raw + layer.get_weights()[1], 0), atol=1e-6)


@pytest.mark.parametrize("activation,fused", [("relu", True), (None, True), ("tanh", False)])
def test_separable_fuses_into_its_pointwise_convolution(activation, fused):
    out = layers.SeparableConv2D(5, 3, activation=activation)(layers.Input((8, 8, 4)))
    ops = _ops(out)
    assert GroupedConv2d in ops and GroupedConv2dBiasAct not in ops  # (no bias before it)
    assert (Conv2dBiasAct in ops) == fused


def test_conv2d_transpose_adds_bias_and_activation_in_one_pass():
    """Conv2DTranspose's bias and activation are one fused elementwise node after the
    transposed convolution (not an addition, then a reshape, then the activation)."""
    from core import function
    from core.tensor.elemwise import Elemwise

    x = layers.Input((5, 5, 4))
    out = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu",
                                 bias_initializer="random_normal")(x)
    f = function([x], out)
    elemwise = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]
    assert len(elemwise) == 1 and "maximum" in str(elemwise[0].op)
    assert f(np.random.default_rng(0).normal(size=(2, 5, 5, 4)).astype("float32")).min() == 0.0
