"""ModelCheckpoint: file names from {epoch} and metric fields, best-only, weights or whole model."""
import numpy as np
import pytest

from layers_on_graph import Input, Sequential, callbacks, layers, load_model

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4)).astype("float32")
Y = (X @ rng.normal(size=(4, 1))).astype("float32")


def make_model():
    model = Sequential([Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def test_epoch_and_metric_fields_in_the_name(tmp_path):
    model = make_model()
    pattern = str(tmp_path / "ckpt" / "w.{epoch:02d}-{loss:.3f}-{val_mae:.2f}.weights.h5")
    history = model.fit(X, Y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    expected = [f"w.{e + 1:02d}-{history.history['loss'][e]:.3f}-"
                f"{history.history['val_mae'][e]:.2f}.weights.h5" for e in range(3)]
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == expected
    last = make_model()
    last.load_weights(tmp_path / "ckpt" / expected[-1])
    for a, b in zip(model.get_weights(), last.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_best_only_saves_on_improvement_only(tmp_path):
    model = make_model()
    cb = callbacks.ModelCheckpoint(str(tmp_path / "best{epoch}.weights.h5"), monitor="val_loss",
                                   save_best_only=True, save_weights_only=True)
    cb.set_model(model)
    for epoch, val in enumerate([1.0, 2.0, 0.5, 0.7]):
        cb.on_epoch_end(epoch, {"val_loss": val})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best1.weights.h5", "best3.weights.h5"]
    assert cb.best == 0.5
    acc = callbacks.ModelCheckpoint(str(tmp_path / "acc{epoch}.keras"), monitor="val_accuracy",
                                    save_best_only=True)
    acc.set_model(model)
    for epoch, val in enumerate([0.5, 0.4, 0.9]):
        acc.on_epoch_end(epoch, {"val_accuracy": val})
    assert sorted(p.name for p in tmp_path.glob("acc*")) == ["acc1.keras", "acc3.keras"]


def test_whole_model_checkpoint_resumes(tmp_path):
    model = make_model()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="loss")])
    loaded = load_model(tmp_path / "m.keras")
    assert int(loaded.optimizer.iterations.get_value()) == 8
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "m.h5"), monitor="loss")])
    assert int(load_model(tmp_path / "m.h5").optimizer.iterations.get_value()) == 12


def test_bad_names_and_missing_fields():
    with pytest.raises(ValueError, match="weights.h5"):
        callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=".keras"):
        callbacks.ModelCheckpoint("model.weights.h5")
    with pytest.raises(ValueError, match=".keras"):
        callbacks.ModelCheckpoint("model.txt")
    cb = callbacks.ModelCheckpoint("w{val_auc}.weights.h5", save_weights_only=True)
    cb.set_model(make_model())
    with pytest.raises(KeyError, match="val_auc.*available.*loss"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_missing_monitor_warns_and_skips(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), monitor="val_loss",
                                   save_best_only=True, save_weights_only=True)
    cb.set_model(make_model())
    with pytest.warns(UserWarning, match="val_loss"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert not list(tmp_path.iterdir())
