"""Weights and optimizer state behave like Keras 3 variables."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, ops, optimizers


def _dense():
    layer = layers.Dense(3)
    layer.build((None, 4))
    return layer


def test_weight_reads_like_a_keras_variable():
    layer = _dense()
    kernel = layer.kernel
    assert kernel.shape == (4, 3) and kernel.dtype == "float32"
    assert kernel.trainable and kernel.path == f"{layer.name}/kernel"
    assert kernel.name.split("/")[-1] == "kernel"
    np.testing.assert_array_equal(kernel.numpy(), np.asarray(kernel))
    np.testing.assert_array_equal(kernel.value, kernel.numpy())
    copy = kernel.numpy()
    copy[:] = 7  # numpy() is a copy
    assert not np.all(kernel.numpy() == 7)


def test_assign_add_sub_change_the_value():
    kernel = _dense().kernel
    kernel.assign(np.ones((4, 3)))
    kernel.assign_add(np.full((4, 3), 2.0))
    kernel.assign_sub(0.5)
    np.testing.assert_allclose(kernel.numpy(), np.full((4, 3), 2.5))
    with pytest.raises(ValueError, match="shape"):
        kernel.assign(np.ones((2, 2)))
    np.testing.assert_allclose(kernel.numpy(), np.full((4, 3), 2.5))


def test_trainable_flag_moves_weight_out_of_trainable_weights():
    layer = _dense()
    layer.bias.trainable = False
    assert layer.bias not in layer.trainable_weights
    assert layer.bias in layer.non_trainable_weights


def test_assign_add_in_call_is_an_update_of_the_step():
    class Counter(layers.Layer):
        def build(self, input_shape):
            self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="seen")

        def call(self, x):
            self.seen.assign_add(ops.cast(ops.shape(x)[0], "float32"))
            return x

    model = lg.Sequential([lg.Input(shape=(2,)), Counter(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=4, epochs=1, verbose=0)
    assert float(model.layers[0].seen) == 10.0


def test_optimizer_learning_rate_and_iterations():
    model = lg.Sequential([lg.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1), loss="mse")
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    model.optimizer.learning_rate = 0.05
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    model.optimizer.learning_rate.assign(0.02)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.02)
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=4, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2
    assert model.optimizer.iterations.numpy() == 2


def test_assign_of_a_symbolic_value_outside_a_call_computes_it():
    kernel = _dense().kernel
    kernel.assign(ops.ones_like(kernel) * 3.0)
    np.testing.assert_allclose(kernel.numpy(), np.full((4, 3), 3.0))
    kernel.assign_sub(ops.ones_like(kernel))
    np.testing.assert_allclose(kernel.numpy(), np.full((4, 3), 2.0))
    with pytest.raises(ValueError, match="symbolic input"):
        kernel.assign(lg.Input(shape=(3,))[0:4] * 0.0 + kernel)


def test_standalone_variable_as_keras():
    keras = pytest.importorskip("keras")
    v = lg.Variable(np.zeros(3))
    kv = keras.Variable(np.zeros(3))
    assert v.dtype == kv.dtype and v.shape == tuple(kv.shape)
    v.assign_add(np.ones(3))
    np.testing.assert_array_equal(v.numpy(), np.ones(3))
    assert lg.Variable([1.0, 2.0]).dtype == keras.Variable([1.0, 2.0]).dtype == "float32"
    w = lg.Variable("ones", shape=(2, 2), trainable=False, name="w")
    assert w.numpy().sum() == 4 and not w.trainable and w.path == "w"
    x = lg.Input(shape=(3,))
    assert (x * v).shape == (None, 3)
