"""``TensorBoard``: event files TensorBoard reads, in Keras 3's layout and tag names.

``log_dir/train`` gets ``epoch_<name>`` scalars (loss, metrics, learning rate) per
epoch, ``batch_<name>`` every ``update_freq`` batches, weight histograms
(``<layer>/<weight>/histogram``) every ``histogram_freq`` epochs and the model's
layer graph; ``log_dir/validation`` gets the ``val_`` values under the same
``epoch_<name>`` tags and ``evaluation_<name>_vs_iterations``. Written through
tensorboardX (the ``tensorboard`` extra), imported only when the callback is made.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .callback import Callback


def _writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ImportError("TensorBoard callback: the tensorboardX package is needed; install "
                          "it with pip install 'layers-on-graph[tensorboard]'") from err
    return SummaryWriter


class TensorBoard(Callback):
    """Log losses, metrics, weight histograms and the layer graph for TensorBoard.

    Examples
    --------
    >>> model.fit(x, y, epochs=5, validation_split=0.2,
    ...           callbacks=[TensorBoard(log_dir='logs/run1', histogram_freq=1)])
    >>> # tensorboard --logdir logs
    """

    writes_files = True  # data parallel: runs on process 0 only

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq="epoch", profile_batch=0, embeddings_freq: int = 0,
                 embeddings_metadata=None):
        super().__init__()
        for label, value, off in (("write_images", write_images, False),
                                  ("profile_batch", profile_batch, 0),
                                  ("embeddings_freq", embeddings_freq, 0),
                                  ("embeddings_metadata", embeddings_metadata, None)):
            if value != off:
                raise ValueError(f"TensorBoard: {label} is not supported (weight images, the "
                                 f"profiler and embeddings are not written); leave it at "
                                 f"{off!r}")
        self._writer_cls = _writer_class()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int, got {update_freq!r}")
        if histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be >= 0, got {histogram_freq}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = int(histogram_freq), write_graph
        self.write_steps_per_second, self.update_freq = write_steps_per_second, update_freq
        self._writers: dict = {}
        self._global_train_batch = 0

    def _writer(self, run: str):
        """The writer of ``log_dir/<run>`` ('train' or 'validation'), opened on first use."""
        if run not in self._writers:
            self._writers[run] = self._writer_cls(os.path.join(self.log_dir, run))
        return self._writers[run]

    # ----- hooks -----
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph:
            from .tensorboard_graph import write_graph

            write_graph(self._writer("train"), self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_batches += 1
        if self.update_freq != "epoch" and self._global_train_batch % self.update_freq == 0:
            self._scalars("train", "batch_", logs or {}, self._global_train_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or self.params.get("mode") != "fit":
            return
        step = int(optimizer.iterations.get_value())
        self._scalars("validation", "evaluation_",
                      {f"{name}_vs_iterations": v for name, v in (logs or {}).items()}, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in train:
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            train["steps_per_second"] = self._epoch_batches / elapsed if elapsed else 0.0
        self._scalars("train", "epoch_", train, epoch)
        if val:
            self._scalars("validation", "epoch_", val, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for weight in layer.weights:
                    name = (weight.name or "weight").replace(":", "_")
                    writer.add_histogram(f"{name}/histogram", weight.get_value(borrow=True),
                                         epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _scalars(self, run: str, prefix: str, values: dict, step: int) -> None:
        writer = self._writer(run)
        for name, value in values.items():
            if np.ndim(value) == 0:  # per-class metrics (F1Score(average=None)) are skipped
                writer.add_scalar(f"{prefix}{name}", float(value), int(step))
