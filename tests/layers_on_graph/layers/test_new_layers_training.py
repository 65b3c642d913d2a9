"""The shared layer test (shape, config round trip, finite-difference gradients in float64,
one training step changing the weights) on the trainable issue-14 layers."""
import importlib.util
import os

import numpy as np
import pytest

from layers_on_graph import layers

_spec = importlib.util.spec_from_file_location("layer_test_helper", os.path.join(
    os.path.dirname(__file__), "..", "layer_test_helper.py"))
layer_test_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layer_test_helper)

rng = np.random.default_rng(0)
IMG = rng.normal(size=(2, 5, 4, 3)).astype("float32")
SEQ = rng.normal(size=(2, 6, 4)).astype("float32")

CASES = [
    (layers.Conv1D, dict(filters=2, kernel_size=3, padding="causal"), SEQ, (2, 6, 2)),
    (layers.Conv2D, dict(filters=4, kernel_size=2, groups=1), IMG, (2, 4, 3, 4)),
    (layers.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same"), IMG,
     (2, 10, 8, 2)),
    (layers.DepthwiseConv2D, dict(kernel_size=2, depth_multiplier=2,
                                  bias_initializer="random_normal"), IMG, (2, 4, 3, 6)),
    (layers.SeparableConv2D, dict(filters=3, kernel_size=3, padding="same"), IMG,
     (2, 5, 4, 3)),
    (layers.PReLU, dict(alpha_initializer="random_uniform", shared_axes=[1]), IMG,
     (2, 5, 4, 3)),
    (layers.GroupNormalization, dict(groups=3, gamma_initializer="random_normal"), IMG,
     (2, 5, 4, 3)),
]


@pytest.mark.parametrize("cls,kwargs,x,shape", CASES, ids=[c[0].__name__ for c in CASES])
def test_layer_trains_and_round_trips(cls, kwargs, x, shape):
    layer_test_helper.run_layer_test(cls, kwargs, x, shape, atol=1e-4, rtol=1e-4)


def test_grouped_conv2d_layer_trains():
    x = rng.normal(size=(2, 5, 5, 4)).astype("float32")
    layer_test_helper.run_layer_test(layers.Conv2D, dict(filters=6, kernel_size=3, groups=2),
                                     x, (2, 3, 3, 6))
