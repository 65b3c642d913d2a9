"""A Keras-like shared layer test: shape, numpy reference, config round trip, gradient, training."""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core.gradient import verify_grad
from layers_on_graph import Sequential, layers


def run_layer_test(layer_cls, init_kwargs: dict, input_data: np.ndarray, expected_output_shape,
                   reference=None, expected_num_weights: int | None = None,
                   expected_num_trainable: int | None = None, check_grad: bool = True,
                   check_training: bool = True, atol: float = 1e-5, rtol: float = 1e-5):
    """Check one layer the way Keras's own tests do.

    - the eager call gives ``expected_output_shape`` (batch axis included), and the symbolic
      call's recorded shape agrees (None for the batch);
    - ``reference(layer, input_data)`` (numpy) gives the same values;
    - weight counts; ``from_config(get_config())`` builds an equivalent layer;
    - the gradient with respect to the input matches finite differences (float64 layer);
    - a model holding the layer trains one step without error and changes trainable weights.
    """
    layer = layer_cls(**init_kwargs)
    out = layer(input_data)
    assert out.shape == tuple(expected_output_shape), (out.shape, expected_output_shape)
    assert out.dtype == np.float32 or np.dtype(out.dtype).kind != "f"
    sym = layers.Input(shape=input_data.shape[1:], dtype=str(input_data.dtype))
    sym_out = layer(sym)
    recorded = getattr(sym_out, "_keras_shape", tuple(sym_out.type.shape))
    assert tuple(recorded[1:]) == tuple(expected_output_shape[1:]), recorded
    if reference is not None:
        np.testing.assert_allclose(out, reference(layer, input_data), atol=atol, rtol=rtol)
    if expected_num_weights is not None:
        assert len(layer.weights) == expected_num_weights
    if expected_num_trainable is not None:
        assert len(layer.trainable_weights) == expected_num_trainable
    config = layer.get_config()
    config.pop("name")
    clone = layer_cls.from_config(config)
    assert clone(input_data).shape == out.shape
    if check_grad and np.dtype(input_data.dtype).kind == "f":
        layer64 = layer_cls(**{**init_kwargs, "dtype": "float64"})
        layer64(input_data.astype("float64"))
        for w64, w in zip(layer64.weights, layer.weights):
            w64.set_value(w.get_value().astype("float64"))
        verify_grad(lambda x: layer64(x), [input_data.astype("float64")], dtype="float64")
        verify_grad(lambda x: layer(x), [input_data.astype("float32")], dtype="float32")
    if check_training and layer.trainable_weights:
        model = Sequential([layers.Input(shape=input_data.shape[1:]), layer_cls(**init_kwargs),
                            layers.Flatten()])
        model.compile(optimizer="sgd", loss="mse")
        before = [w.get_value() for w in model.trainable_weights]
        target = np.random.default_rng(0).normal(size=(len(input_data),) + tuple(
            s for s in model.outputs[0]._keras_shape[1:])).astype("float32")
        model.train_on_batch(input_data, target)
        after = [w.get_value() for w in model.trainable_weights]
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    return layer, out


def symbolic_input(shape, dtype="float32"):
    """A symbolic batch of ``shape`` (batch axis first, None allowed)."""
    return T.TensorType(dtype, tuple(shape))("x")
