"""Custom layers without compute_output_shape, and Keras tensors with tuple shapes."""
import numpy as np
import pytest

import core.tensor as T
import layers_on_graph as lg
from layers_on_graph import layers, ops
from layers_on_graph.keras_tensor import KerasTensor

keras = pytest.importorskip("keras")

rng = np.random.default_rng(1)
X = rng.normal(size=(5, 6)).astype("float32")


def _pair_layer(base, ops_module):
    """A custom layer with a weight and no compute_output_shape; changes the rank."""

    class Pairs(base):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         name="scale")

        def call(self, x):
            return ops_module.reshape(ops_module.tanh(x) * self.scale, (-1, x.shape[-1] // 2, 2))

    return Pairs


def _assert_predictions_match(model, kmodel):
    assert len(model.get_weights()) == len(kmodel.get_weights())
    kmodel.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(X, verbose=0), kmodel.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_custom_layer_without_output_shape_in_sequential_matches_keras():
    model = lg.Sequential([lg.Input(shape=(6,)), _pair_layer(layers.Layer, ops)(),
                           layers.Dense(4), layers.Flatten(), layers.Dense(2)])
    kmodel = keras.Sequential([keras.Input(shape=(6,)),
                               _pair_layer(keras.layers.Layer, keras.ops)(),
                               keras.layers.Dense(4), keras.layers.Flatten(),
                               keras.layers.Dense(2)])
    assert model.layers[0].output.shape == (None, 3, 2)
    _assert_predictions_match(model, kmodel)


def test_custom_layer_with_core_tensor_ops_in_functional_model():
    class Gate(layers.Layer):  # Theano-style body: core.tensor only
        def call(self, x):
            return T.concatenate([x, T.nnet.sigmoid(x)], axis=-1)

    inp = lg.Input(shape=(6,))
    h = Gate()(inp)
    assert h.shape == (None, 12)
    out = layers.Dense(3)(h)
    model = lg.Model(inp, out)
    kinp = keras.Input(shape=(6,))
    kh = keras.layers.Lambda(lambda x: keras.ops.concatenate([x, keras.ops.sigmoid(x)],
                                                             axis=-1))(kinp)
    _assert_predictions_match(model, keras.Model(kinp, keras.layers.Dense(3)(kh)))


def test_input_is_a_keras_tensor_with_tuple_shape():
    inp = lg.Input(shape=(6,))
    assert isinstance(inp, KerasTensor)
    assert inp.shape == (None, 6) and inp.dtype == "float32" and inp.ndim == 2
    assert lg.Input(shape=(3, 4), dtype="int32").shape == (None, 3, 4)
    assert lg.Input(batch_shape=(8, 2)).shape == (8, 2)


def test_tuple_shapes_build_layers_directly():
    inp = lg.Input(shape=(6,))
    dense = layers.Dense(inp.shape[-1])
    out = dense(inp)
    assert out.shape == (None, 6)
    reshaped = layers.Reshape((inp.shape[1], 1))(inp)
    assert reshaped.shape == (None, 6, 1)
    assert dense.output is out
    model = lg.Model(inp, [out, reshaped])
    assert model.input_shape == (None, 6)
    assert model.output_shape == [(None, 6), (None, 6, 1)]
    assert model.input is inp and model.output == [out, reshaped]


def test_operators_on_keras_tensors_stay_keras_tensors():
    inp = lg.Input(shape=(4, 6))
    y = (inp * 2 + 1)[:, 0]
    assert isinstance(y, KerasTensor) and y.shape == (None, 6)
    assert inp.T.shape == (6, 4, None)
    assert inp.sum(axis=-1).shape == (None, 4)


def test_sequential_model_shapes():
    model = lg.Sequential([lg.Input(shape=(6,)), layers.Dense(3)])
    assert model.input_shape == (None, 6) and model.output_shape == (None, 3)
    assert model.layers[-1].output.shape == (None, 3)


def test_theano_style_variables_keep_symbolic_shape():
    x = T.TensorType("float32", (None, 6))("x")
    out = layers.Dense(3)(x)
    assert not isinstance(out, KerasTensor)
    shape = out.shape  # symbolic, Theano semantics
    value = shape.eval({x: X})
    assert tuple(value) == (5, 3)


def test_theano_style_reshape_with_the_batch_size_inside_a_keras_model():
    class Pairs(layers.Layer):
        def call(self, x):
            return T.reshape(x, (x.shape[0], 3, 2))  # x.shape[0] is None here: inferred

    inp = lg.Input(shape=(6,))
    out = Pairs()(inp)
    assert out.shape == (None, 3, 2)
    np.testing.assert_array_equal(lg.Model(inp, out).predict(X, verbose=0), X.reshape(5, 3, 2))
    with pytest.raises(ValueError, match="at most one unknown"):
        T.reshape(inp, (None, None, 2))


def test_core_functions_compile_graphs_of_keras_tensors():
    from core import function

    inp = lg.Input(shape=(5, 3))
    seq = layers.LSTM(4, return_sequences=True)(inp)
    out = layers.Dense(2)(ops.repeat(seq, 2, axis=1))
    assert out.shape == (None, 10, 2)
    values = rng.normal(size=(2, 5, 3)).astype("float32")
    f = function([inp], [out, T.grad(T.sum(out), inp)])
    result, grad = f(values)
    assert result.shape == (2, 10, 2) and grad.shape == values.shape
    jac = T.jacobian(T.flatten(out[0, 0]), inp)
    assert function([inp], jac)(values).shape == (2, 2, 5, 3)
