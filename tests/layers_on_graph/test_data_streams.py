"""fit/evaluate/predict on Python generators and ``utils.PyDataset``, against Keras."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, utils

keras = pytest.importorskip("keras")

rng = np.random.default_rng(4)
X = rng.normal(size=(40, 4)).astype("float32")
Y = (X @ rng.normal(size=(4, 2))).astype("float32")
SW = rng.uniform(0.5, 1.5, size=40).astype("float32")


def _batches(base, batch_size=8, with_weights=False):
    class Batches(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.epochs_ended = 0

        def __len__(self):
            return -(-len(X) // batch_size)

        def __getitem__(self, i):
            part = slice(i * batch_size, (i + 1) * batch_size)
            if with_weights:
                return X[part], Y[part], SW[part]
            return X[part], Y[part]

        def on_epoch_end(self):
            self.epochs_ended += 1

    return Batches()


def _generator(batch_size=8, forever=True):
    while True:
        for i in range(0, len(X), batch_size):
            yield X[i:i + batch_size], Y[i:i + batch_size]
        if not forever:
            return


def _models():
    model = lg.Sequential([lg.Input(shape=(4,)), layers.Dense(6, activation="tanh"),
                           layers.Dense(2)])
    kmodel = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(6, activation="tanh"),
                               keras.layers.Dense(2)])
    kmodel.set_weights(model.get_weights())
    model.compile(optimizer=lg.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    kmodel.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model, kmodel


def _same_weights(model, kmodel):
    for ours, theirs in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_fit_on_a_py_dataset_matches_keras():
    model, kmodel = _models()
    data = _batches(utils.PyDataset, with_weights=True)
    history = model.fit(data, epochs=2, shuffle=False, verbose=0,
                        validation_data=_batches(utils.PyDataset))
    khistory = kmodel.fit(_batches(keras.utils.PyDataset, with_weights=True), epochs=2,
                          shuffle=False, verbose=0,
                          validation_data=_batches(keras.utils.PyDataset))
    _same_weights(model, kmodel)
    assert data.epochs_ended == 2
    for key in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose(history.history[key], khistory.history[key], rtol=1e-4)


def test_fit_on_a_generator_with_steps_matches_keras():
    model, kmodel = _models()
    history = model.fit(_generator(), steps_per_epoch=5, epochs=2, verbose=0,
                        validation_data=_generator(), validation_steps=3)
    khistory = kmodel.fit(_generator(), steps_per_epoch=5, epochs=2, verbose=0,
                          validation_data=_generator(), validation_steps=3)
    _same_weights(model, kmodel)
    # later epochs' validation batches depend on how far Keras's loader read ahead
    np.testing.assert_allclose(history.history["val_loss"][0], khistory.history["val_loss"][0],
                               rtol=1e-4)


def test_arrays_with_generator_validation():
    model, kmodel = _models()
    model.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0,
              validation_data=_generator(), validation_steps=2)
    kmodel.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0,
               validation_data=_generator(), validation_steps=2)
    _same_weights(model, kmodel)


def test_evaluate_and_predict_on_streams_match_keras():
    model, kmodel = _models()
    expected = kmodel.evaluate(_batches(keras.utils.PyDataset), verbose=0)
    np.testing.assert_allclose(model.evaluate(_batches(utils.PyDataset), verbose=0), expected,
                               rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(_generator(forever=False), verbose=0), expected,
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(_batches(utils.Sequence), verbose=0),
                               kmodel.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert model.predict(_generator(), steps=2, verbose=0).shape == (16, 2)


def test_generator_of_inputs_only_for_predict():
    model, _ = _models()
    gen = (X[i:i + 10] for i in range(0, 40, 10))
    np.testing.assert_allclose(model.predict(gen, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


def test_sequence_is_the_keras2_name():
    assert utils.Sequence is utils.PyDataset


@pytest.mark.parametrize("bad", [{1, 2}, "text", object()])
def test_unsupported_data_names_its_type(bad):
    model, _ = _models()
    with pytest.raises(ValueError, match=type(bad).__qualname__):
        model.fit(bad, Y, verbose=0)
    with pytest.raises(ValueError, match=type(bad).__qualname__):
        model.predict(bad, verbose=0)
    with pytest.raises(ValueError, match="Unrecognized data type"):
        _models()[1].fit(bad, Y, verbose=0)  # Keras raises the same type


def test_y_with_a_generator_is_refused():
    model, _ = _models()
    with pytest.raises(ValueError, match="y is not supported"):
        model.fit(_generator(), Y, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(_generator(), steps_per_epoch=2, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(_generator(), steps_per_epoch=2, class_weight={0: 1.0}, verbose=0)


def test_class_weight_with_a_py_dataset_matches_keras():
    labels = (X[:, 0] > 0).astype("int64")

    def dataset(base):
        class Labelled(base):
            def __len__(self):
                return 5

            def __getitem__(self, i):
                return X[i * 8:(i + 1) * 8], labels[i * 8:(i + 1) * 8]

        return Labelled()

    model = lg.Sequential([lg.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
    kmodel = keras.Sequential([keras.Input(shape=(4,)),
                               keras.layers.Dense(2, activation="softmax")])
    kmodel.set_weights(model.get_weights())
    model.compile(lg.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    kmodel.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    weights = {0: 0.3, 1: 2.0}
    model.fit(dataset(utils.PyDataset), class_weight=weights, shuffle=False, verbose=0)
    kmodel.fit(dataset(keras.utils.PyDataset), class_weight=weights, shuffle=False, verbose=0)
    _same_weights(model, kmodel)


def test_exhausted_generator_says_so():
    model, _ = _models()
    with pytest.raises(ValueError, match="no batch"):
        model.fit(_generator(forever=False), epochs=2, verbose=0)


def test_fit_on_a_torch_dataloader_matches_keras():
    torch = pytest.importorskip("torch")
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=8)
    model, kmodel = _models()
    model.fit(loader, epochs=2, verbose=0)
    kmodel.fit(loader, epochs=2, verbose=0)
    _same_weights(model, kmodel)
    np.testing.assert_allclose(model.evaluate(loader, verbose=0),
                               kmodel.evaluate(loader, verbose=0), rtol=1e-5)
