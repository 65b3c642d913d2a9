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
    (layers.DepthwiseConv2D, dict(kernel_size=3, padding="same", depth_multiplier=2,
                                  activation="relu", bias_initializer="random_normal"), IMG,
     (2, 5, 4, 6)),
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


def test_attention_block_learns_a_token_task():
    """An Embedding (masked) -> MultiHeadAttention -> LayerNormalization ->
    GlobalAveragePooling1D classifier learns "do tokens 3 and 7 both occur" (a quarter of
    the samples) to well above the majority rate on held-out data."""
    from layers_on_graph import Model, optimizers

    data = np.random.default_rng(0)
    x = data.integers(1, 10, size=(512, 8)).astype("int32")
    x[data.random(x.shape) < 0.2] = 0  # padding, masked
    y = ((x == 3).any(axis=1) & (x == 7).any(axis=1)).astype("int32")
    tokens = layers.Input(shape=(8,), dtype="int32")
    h = layers.Embedding(10, 16, mask_zero=True)(tokens)
    h = layers.LayerNormalization()(layers.Add()([
        h, layers.MultiHeadAttention(num_heads=2, key_dim=8)(h, h)]))
    h = layers.Dense(16, activation="relu")(layers.GlobalAveragePooling1D()(h))
    model = Model(tokens, layers.Dense(2, activation="softmax")(h))
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:384], y[:384], epochs=30, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[384:], y[384:], verbose=0)
    assert accuracy > 0.9 > 1 - y[384:].mean()
