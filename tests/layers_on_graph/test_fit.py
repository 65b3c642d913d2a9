"""fit/evaluate/predict semantics: validation split, partial batches, weights, seeding."""
import numpy as np
import pytest

from layers_on_graph import Input, Model, Sequential, layers, optimizers, utils

rng = np.random.default_rng(0)
X = rng.normal(size=(10, 4)).astype("float32")
Y = rng.integers(0, 3, 10)


def classifier(lr=0.0, dropout=0.0):
    model = Sequential([Input(shape=(4,)), layers.Dense(8, activation="relu"),
                        layers.Dropout(dropout), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def per_sample_loss(model, x, y):
    p = np.clip(model.predict(x, verbose=0).astype("float64"), 1e-7, 1 - 1e-7)
    return -np.log(p[np.arange(len(y)), y])


def test_epoch_logs_weight_the_last_partial_batch():
    model = classifier(lr=0.0)
    hist = model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    per = per_sample_loss(model, X, Y)
    assert hist.history["loss"][0] == pytest.approx(per.mean(), rel=1e-5)
    acc = (model.predict(X, verbose=0).argmax(1) == Y).mean()
    assert hist.history["accuracy"][0] == pytest.approx(acc)
    loss, accuracy = model.evaluate(X, Y, batch_size=3, verbose=0)
    assert loss == pytest.approx(per.mean(), rel=1e-5) and accuracy == pytest.approx(acc)
    assert model.evaluate(X, Y, verbose=0, return_dict=True) == pytest.approx(
        {"loss": loss, "accuracy": accuracy})


def test_validation_split_takes_the_last_samples_before_shuffling():
    model = classifier(lr=0.1)
    hist = model.fit(X, Y, batch_size=2, epochs=1, validation_split=0.3, verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(
        per_sample_loss(model, X[7:], Y[7:]).mean(), rel=1e-5)
    hist = model.fit(X, Y, epochs=1, validation_data=(X[:5], Y[:5]), verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(
        per_sample_loss(model, X[:5], Y[:5]).mean(), rel=1e-5)


def test_sample_weight_and_class_weight():
    model = classifier(lr=0.0)
    sw = rng.uniform(size=10).astype("float32")
    per = per_sample_loss(model, X, Y)
    hist = model.fit(X, Y, batch_size=10, sample_weight=sw, verbose=0)
    assert hist.history["loss"][0] == pytest.approx((per * sw).mean(), rel=1e-5)
    hit = model.predict(X, verbose=0).argmax(1) == Y
    assert hist.history["accuracy"][0] == pytest.approx(hit.mean())  # metrics are unweighted
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    hist = model.fit(X, Y, batch_size=10, sample_weight=sw, verbose=0)
    assert hist.history["accuracy"][0] == pytest.approx(hit.mean())
    assert hist.history["weighted_accuracy"][0] == pytest.approx((hit * sw).sum() / sw.sum())
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    hist = model.fit(X, Y, batch_size=10, class_weight=cw, verbose=0)
    weights = np.array([cw[int(c)] for c in Y])
    assert hist.history["loss"][0] == pytest.approx((per * weights).mean(), rel=1e-5)


def test_compile_builds_the_functions_once():
    model = classifier(lr=0.1)
    fns = (model._train_fn, model._test_fn, model._predict_fn)
    assert all(f is not None for f in fns)
    model.fit(X, Y, epochs=2, verbose=0)
    model.evaluate(X, Y, verbose=0)
    model.predict(X, verbose=0)
    assert (model._train_fn, model._test_fn, model._predict_fn) == fns
    assert int(model.optimizer.iterations.get_value()) == 2


def test_set_random_seed_repeats_weights_dropout_and_shuffling():
    def train():
        utils.set_random_seed(123)
        model = classifier(lr=0.1, dropout=0.5)
        model.fit(X, Y, batch_size=3, epochs=3, verbose=0)
        return model.get_weights()

    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


def test_on_batch_methods_and_predict():
    model = classifier(lr=0.1)
    loss, acc = model.test_on_batch(X, Y)
    assert loss == pytest.approx(per_sample_loss(model, X, Y).mean(), rel=1e-5)
    before = model.get_weights()[0]
    out = model.train_on_batch(X, Y, return_dict=True)
    assert set(out) == {"loss", "accuracy"}
    assert not np.array_equal(before, model.get_weights()[0])
    np.testing.assert_allclose(model.predict_on_batch(X), model.predict(X, batch_size=3,
                                                                        verbose=0), rtol=1e-6)
    assert model.metrics_names == ["loss", "accuracy"]


def test_multi_output_predict_returns_a_list():
    x = Input(shape=(4,))
    model = Model(x, [layers.Dense(2)(x), layers.Dense(1)(x)])
    a, b = model.predict(X, verbose=0)
    assert a.shape == (10, 2) and b.shape == (10, 1)


def test_binary_classification_with_column_targets():
    model = Sequential([Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    y = (X[:, 0] > 0).astype("float32")
    hist = model.fit(X, y, epochs=2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy"}


def test_one_hot_targets_with_categorical_crossentropy():
    model = Sequential([Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, utils.to_categorical(Y, 3), epochs=1, verbose=0)
    metric, weighted = model._metric_objs[0][0]
    assert isinstance(metric, __import__("layers_on_graph").metrics.CategoricalAccuracy)
    assert not weighted


def test_learning_reaches_high_accuracy_on_separable_data():
    utils.set_random_seed(0)
    x = rng.normal(size=(300, 4)).astype("float32")
    y = (x @ np.array([1.0, -1.0, 0.5, 0.0]) > 0).astype("int64")
    model = Sequential([Input(shape=(4,)), layers.Dense(16, activation="relu"),
                        layers.BatchNormalization(momentum=0.9),
                        layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95
