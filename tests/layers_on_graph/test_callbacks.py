"""Callbacks: hooks order, History, EarlyStopping, LR schedules, CSVLogger, TerminateOnNaN."""
import csv

import numpy as np
import pytest

from layers_on_graph import Input, Sequential, callbacks, layers, optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")


def make_model(lr=0.01, optimizer=None):
    model = Sequential([Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=optimizer or optimizers.SGD(lr), loss="mse", metrics=["mae"])
    return model


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None): self.calls.append("train_begin")
    def on_epoch_begin(self, epoch, logs=None): self.calls.append(f"epoch_begin{epoch}")
    def on_train_batch_begin(self, batch, logs=None): self.calls.append(f"batch_begin{batch}")
    def on_train_batch_end(self, batch, logs=None): self.calls.append(f"batch_end{batch}")
    def on_test_begin(self, logs=None): self.calls.append("test_begin")
    def on_test_end(self, logs=None): self.calls.append("test_end")
    def on_epoch_end(self, epoch, logs=None): self.calls.append((epoch, sorted(logs)))
    def on_train_end(self, logs=None): self.calls.append("train_end")


def test_custom_callback_hooks_in_order():
    rec = Recorder()
    make_model().fit(X, Y, batch_size=20, epochs=2, validation_split=0.5, callbacks=[rec],
                     verbose=0)
    assert rec.model is not None and rec.params["epochs"] == 2 and rec.params["steps"] == 1
    assert rec.calls == [
        "train_begin", "epoch_begin0", "batch_begin0", "batch_end0", "test_begin", "test_end",
        (0, ["loss", "mae", "val_loss", "val_mae"]), "epoch_begin1", "batch_begin0",
        "batch_end0", "test_begin", "test_end", (1, ["loss", "mae", "val_loss", "val_mae"]),
        "train_end"]


def test_history():
    model = make_model()
    hist = model.fit(X, Y, epochs=3, verbose=0, initial_epoch=1)
    assert hist is model.history and hist.epoch == [1, 2]
    assert list(hist.history) == ["mae", "loss"] and len(hist.history["loss"]) == 2


def test_early_stopping_and_restore_best_weights():
    model = make_model(lr=0.05)
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())

    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    # a monitored value that improves at epoch 1 and never again
    fake = iter([5.0, 1.0, 3.0, 4.0, 2.0, 6.0, 7.0])

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["loss"] = next(fake)

    model.fit(X, Y, epochs=7, verbose=0, callbacks=[Fake(), Spy(), stop])
    assert stop.stopped_epoch == 3 and len(seen) == 4
    for a, b in zip(model.get_weights(), seen[1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_modes():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping().mode == "min"
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="up")


def test_learning_rate_scheduler_without_recompiling():
    model = make_model(lr=0.1)
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(self.model.optimizer.learning_rate))

    hist = model.fit(X, Y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5), Spy()])
    assert seen == pytest.approx([0.05, 0.025, 0.0125])
    assert hist.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    fn = model._train_fn
    model.fit(X, Y, epochs=1, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.001)])
    assert model._train_fn is fn and float(model.optimizer.learning_rate) == pytest.approx(0.001)


def test_reduce_lr_on_plateau():
    model = make_model(lr=0.1)
    values = iter([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.02)
    hist = model.fit(X, Y, epochs=7, verbose=0, callbacks=[Fake(), cb])
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05,
                                                           0.025])
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    make_model().fit(X, Y, epochs=2, verbose=0, validation_split=0.25,
                     callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert set(rows[0]) == {"epoch", "loss", "mae", "val_loss", "val_mae"}
    make_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path,
                                                                                append=True)])
    assert len(list(csv.DictReader(open(path)))) == 3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan():
    model = make_model(lr=1e30)
    x = X * 1e10
    hist = model.fit(x, Y, batch_size=4, epochs=3, verbose=0,
                     callbacks=[callbacks.TerminateOnNaN()])
    assert len(hist.epoch) == 1 and not np.isfinite(hist.history["loss"][0])


def test_model_checkpoint_best_only(tmp_path):
    values = iter([3.0, 1.0, 2.0])

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    saved = []
    model = make_model()
    model.save_weights = lambda path: saved.append(path)
    model.fit(X, Y, epochs=3, verbose=0, callbacks=[Fake(), callbacks.ModelCheckpoint(
        str(tmp_path / "w{epoch}.weights.h5"), save_best_only=True, save_weights_only=True)])
    assert [p.split("/")[-1] for p in saved] == ["w1.weights.h5", "w2.weights.h5"]


def test_lambda_callback_and_bad_callbacks():
    ends = []
    make_model().fit(X, Y, epochs=2, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(epoch))])
    assert ends == [0, 1]
    with pytest.raises(TypeError, match="Callback"):
        make_model().fit(X, Y, verbose=0, callbacks=[lambda: None])


def test_progress_bar_outputs(capsys):
    model = make_model()
    model.fit(X, Y, batch_size=8, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "5/5" in out
    assert "\u2501" * 20 in out and "loss:" in out and "mae:" in out and "s/step" in out
    model.fit(X, Y, batch_size=8, epochs=2, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.strip()]
    assert lines[1].startswith("5/5 - ") and "loss:" in lines[1] and len(lines) == 4
    model.fit(X, Y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_redraws_one_line_on_a_terminal():
    import io

    from layers_on_graph.progbar import Progbar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = Progbar(4, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 1.0 / step})
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "1/4" in text and "4/4" in text and "loss: 0.2500" in text
    assert "\u2501" * 10 + "\u2500" * 10 in text  # half done at step 2
