"""Bad input raises a clear ValueError before any training step, leaving nothing changed."""
import numpy as np
import pytest

from layers_on_graph import Input, Sequential, layers, optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(10, 4)).astype("float32")
Y = rng.integers(0, 3, 10)


@pytest.fixture
def model():
    m = Sequential([Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.get_value()) == 0
    assert all(np.all(v.get_value() == 0) for v in model.optimizer.variables)


@pytest.mark.parametrize("x,y,match", [
    (X, Y[:7], r"same number of samples.*\[10, 7\]"),
    (X[:, :3], Y, r"axis 1 has 3 features instead of 4"),
    (X[:, :, None], Y, r"rank 2.*\(10, 4, 1\)"),
    (X, Y + 1, r"labels must be in \[0, 3\).*from 1 to 3"),
    (X, Y - 1, r"labels must be in \[0, 3\).*from -1"),
    (X, Y + 0.5, r"must be integers"),
    (X, np.eye(3)[Y][:, :, None], r"one integer label per sample"),
    (None, Y, r"x is None"),
    (X, None, r"y is None"),
    ([["a"] * 4] * 10, Y, r"expected numbers"),
])
def test_fit_rejects_bad_data_before_training(model, x, y, match):
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, epochs=1, verbose=0)
    _unchanged(model, before)


def test_bad_validation_data_and_weights_are_checked_first(model):
    before = model.get_weights()
    with pytest.raises(ValueError, match="features"):
        model.fit(X, Y, validation_data=(X[:, :2], Y), verbose=0)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(X, Y, validation_data=X, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, Y, sample_weight=np.ones(3), verbose=0)
    with pytest.raises(ValueError, match="class_weight: no weight for classes"):
        model.fit(X, Y, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, Y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, Y, batch_size=0, verbose=0)
    _unchanged(model, before)


def test_unknown_names_at_compile():
    m = Sequential([Input(shape=(4,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="unknown loss 'sparse_crossentropy'"):
        m.compile(optimizer="adam", loss="sparse_crossentropy")
    with pytest.raises(ValueError, match="unknown optimizer 'adamax2'"):
        m.compile(optimizer="adamax2", loss="mse")
    with pytest.raises(ValueError, match="unknown metric"):
        m.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="loss is required"):
        m.compile(optimizer="adam")
    assert not m.compiled


def test_fit_before_compile_and_categorical_hint():
    m = Sequential([Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="compiled"):
        m.fit(X, Y, verbose=0)
    m.compile(optimizer=optimizers.SGD(), loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        m.fit(X, Y, verbose=0)


def test_evaluate_and_predict_check_inputs(model):
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.evaluate(X, Y[:3], verbose=0)
    with pytest.raises(ValueError, match="labels must be in"):
        model.evaluate(X, Y + 5, verbose=0)
