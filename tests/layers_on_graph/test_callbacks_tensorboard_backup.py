"""TensorBoard (event files read back with TensorBoard's own reader), BackupAndRestore
(an interrupted fit resumes where an uninterrupted one would be) and LambdaCallback."""
import csv
import json
import os

import numpy as np
import pytest

from layers_on_graph import Input, Sequential, callbacks, layers, metrics, optimizers
from layers_on_graph.utils import set_random_seed

rng = np.random.default_rng(3)
X = rng.normal(size=(64, 4)).astype("float32")
Y = (X[:, :1] - X[:, 1:2] > 0).astype("float32")


def make_model(seed=0):
    set_random_seed(seed)
    model = Sequential([Input(shape=(4,)), layers.Dense(8, activation="relu"),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy", "auc"])
    return model


def _read_run(folder):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    return acc


def test_tensorboard_writes_keras_layout(tmp_path):
    pytest.importorskip("tensorboardX")
    model = make_model()
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.TensorBoard(tmp_path, histogram_freq=1,
                                                         update_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _read_run(tmp_path / "train"), _read_run(tmp_path / "validation")
    for name in ("loss", "accuracy", "auc"):
        events = train.Scalars(f"epoch_{name}")
        assert [e.step for e in events] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in events], history.history[name], rtol=1e-6)
        np.testing.assert_allclose([e.value for e in val.Scalars(f"epoch_{name}")],
                                   history.history[f"val_{name}"], rtol=1e-6)
    assert [e.step for e in train.Scalars("epoch_learning_rate")] == [0, 1, 2]
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]  # 3 batches an epoch
    assert [e.step for e in val.Scalars("evaluation_loss_vs_iterations")] == [3, 6, 9]
    weight = model.layers[0].weights[0]
    assert weight.name == f"{model.layers[0].name}/kernel"
    kernel = train.Histograms(f"{weight.name}/histogram")
    assert [h.step for h in kernel] == [0, 1, 2]
    w = weight.get_value()
    last = kernel[-1].histogram_value
    assert last.num == w.size and last.min == pytest.approx(w.min()) and \
        last.max == pytest.approx(w.max()) and last.sum == pytest.approx(w.sum(), rel=1e-5)
    graph = train.Graph()
    names = {n.name: n for n in graph.node}
    assert [n.op for n in graph.node] == ["InputLayer", "Dense", "Dense"]
    assert list(names[model.layers[1].name].input) == [model.layers[0].name]


def test_tensorboard_without_validation_or_histograms(tmp_path):
    pytest.importorskip("tensorboardX")
    make_model().fit(X, Y, epochs=2, verbose=0, callbacks=[
        callbacks.TensorBoard(str(tmp_path / "logs"), write_graph=False)])
    assert os.listdir(tmp_path / "logs") == ["train"]
    train = _read_run(tmp_path / "logs" / "train")
    assert train.Tags()["histograms"] == [] and "batch_loss" not in train.Tags()["scalars"]
    assert len(train.Scalars("epoch_loss")) == 2


def test_tensorboard_bad_arguments_and_missing_package(monkeypatch):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="profile_batch is not supported"):
        callbacks.TensorBoard(profile_batch=(2, 4))
    callbacks.TensorBoard(write_images=False, profile_batch=0, embeddings_freq=0)
    import builtins

    real_import = builtins.__import__

    def no_tensorboardx(name, *args, **kwargs):
        if name.startswith("tensorboardX"):
            raise ImportError("No module named 'tensorboardX'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboardx)
    with pytest.raises(ImportError, match=r"layers-on-graph\[tensorboard\]"):
        callbacks.TensorBoard("logs")


class _Interrupt(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


def test_backup_and_restore_resumes_like_an_uninterrupted_fit(tmp_path):
    backup = tmp_path / "backup"
    reference = make_model()
    ref_history = reference.fit(X, Y, batch_size=16, epochs=5, verbose=0, shuffle=False)

    model = make_model()
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(X, Y, batch_size=16, epochs=5, verbose=0, shuffle=False,
                  callbacks=[callbacks.BackupAndRestore(backup), _Interrupt(3)])
    assert json.load(open(backup / "training_metadata.json"))["epoch"] == 3  # 0-2 done
    resumed = make_model(seed=1)  # other initial weights: everything comes from the backup
    history = resumed.fit(X, Y, batch_size=16, epochs=5, verbose=0, shuffle=False,
                          callbacks=[callbacks.BackupAndRestore(backup)])
    assert history.epoch == [3, 4]
    np.testing.assert_allclose(history.history["loss"], ref_history.history["loss"][3:],
                               rtol=1e-5)
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(resumed.optimizer.iterations.get_value()) == 20
    assert not backup.exists()  # deleted after a finished fit


class _Weights(callbacks.Callback):
    """Records the weights before every batch (and at the start); raises at a batch."""

    def __init__(self, stop_at_batch=None):
        super().__init__()
        self.stop_at_batch, self.before_batch, self.at_start = stop_at_batch, [], None

    def on_epoch_begin(self, epoch, logs=None):
        if self.at_start is None:
            self.at_start = (self.model.get_weights(),
                             int(self.model.optimizer.iterations.get_value()))

    def on_train_batch_begin(self, batch, logs=None):
        if len(self.before_batch) == self.stop_at_batch:
            raise RuntimeError("interrupted")
        self.before_batch.append(self.model.get_weights())


def test_backup_every_few_batches_restarts_the_epoch_in_progress(tmp_path):
    backup = tmp_path / "backup"
    interrupt = _Weights(stop_at_batch=10)  # 4 batches an epoch: in epoch 2, backed up at 9
    with pytest.raises(RuntimeError, match="interrupted"):
        make_model().fit(X, Y, batch_size=16, epochs=4, verbose=0, callbacks=[
            callbacks.BackupAndRestore(backup, save_freq=3), interrupt])
    assert json.load(open(backup / "training_metadata.json")) == {"epoch": 2, "batch": 1}
    start = _Weights()
    history = make_model(seed=2).fit(X, Y, batch_size=16, epochs=4, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup, save_freq=3), start])
    assert history.epoch == [2, 3] and start.at_start[1] == 9
    for restored, saved in zip(start.at_start[0], interrupt.before_batch[9]):  # after 9 steps
        np.testing.assert_array_equal(restored, saved)


def test_backup_kept_when_asked_and_double_checkpoint(tmp_path):
    backup = tmp_path / "b"
    model = make_model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup, delete_checkpoint=False, double_checkpoint=True)])
    assert json.load(open(backup / "training_metadata.json"))["epoch"] == 2
    assert json.load(open(backup / "training_metadata.json.bkp"))["epoch"] == 1
    open(backup / "latest.weights.h5", "wb").write(b"not hdf5")  # a torn latest backup
    again = make_model(seed=5)
    history = again.fit(X, Y, epochs=3, verbose=0, callbacks=[
        callbacks.BackupAndRestore(backup, double_checkpoint=True)])
    assert history.epoch == [1, 2]  # restarted from the previous backup (epoch 1)
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(backup, save_freq="sometimes")


def test_lambda_callback_keras_arguments():
    seen = []
    cb = callbacks.LambdaCallback(
        lambda epoch, logs: seen.append(("epoch_begin", epoch)),
        on_train_end=lambda logs: seen.append(("train_end", sorted(logs))),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)),
        on_test_end=lambda logs: seen.append(("test_end", None)))
    make_model().fit(X, Y, batch_size=32, epochs=2, verbose=0, validation_split=0.5,
                     callbacks=[cb])
    assert seen[:3] == [("epoch_begin", 0), ("batch", 0), ("test_end", None)]
    assert seen[-1][0] == "train_end" and "val_loss" in seen[-1][1]
    with pytest.raises(ValueError, match="on_epoch_ending"):
        callbacks.LambdaCallback(on_epoch_ending=print)
    with pytest.raises(TypeError, match="callable"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_per_class_metric_in_logs_progbar_and_csv(tmp_path, capsys):
    model = Sequential([Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    y = rng.integers(0, 3, 64)
    onehot = np.eye(3, dtype="float32")[y]
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.F1Score()])
    path = tmp_path / "log.csv"
    history = model.fit(X, onehot, epochs=1, verbose=2, callbacks=[callbacks.CSVLogger(path)])
    assert np.shape(history.history["f1_score"][0]) == (3,)
    assert "f1_score: " in capsys.readouterr().out
    row = next(csv.DictReader(open(path)))
    assert row["f1_score"].startswith("[") and len(row["f1_score"].split(",")) == 3
