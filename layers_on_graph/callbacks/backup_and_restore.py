"""``BackupAndRestore``: resume an interrupted ``fit`` where its last backup left it."""
from __future__ import annotations

import json
import os
import shutil

import h5py

from .callback import Callback


class BackupAndRestore(Callback):
    """Back up the weights, the optimizer's state and the epoch reached into
    ``backup_dir`` (every epoch, or every ``save_freq`` batches); a later ``fit`` with
    the same callback restores them and starts at that epoch. The backup is deleted
    when training ends normally (``delete_checkpoint=True``), kept after an exception.

    The files are Keras 3's: ``latest.weights.h5`` (weights and optimizer variables)
    and ``training_metadata.json`` (``{"epoch": ..., "batch": ...}``); with
    ``double_checkpoint=True`` the previous backup is kept as ``*.bkp`` and used when
    the latest one cannot be read.

    Examples
    --------
    >>> model.fit(x, y, epochs=10, callbacks=[BackupAndRestore('/tmp/backup')])
    """

    def __init__(self, backup_dir: str, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is empty")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int, "
                             f"got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint = save_freq, double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._current_epoch = 0
        self._batches_since_save = 0

    # ----- restore -----
    def on_train_begin(self, logs=None):
        from ..distribution import host

        if host.is_writer():  # data parallel: process 0 reads, then every process has its state
            self._restore_or_fall_back()
        epoch = host.same_on_all(self._current_epoch)
        if epoch:
            host.sync_state(self.model)
            self._current_epoch = self.model._initial_epoch = epoch

    def _restore_or_fall_back(self) -> None:
        try:
            self._restore()
        except (OSError, ValueError, KeyError):
            previous = self._weights_path + ".bkp"
            if not (self.double_checkpoint and os.path.exists(previous)):
                raise
            shutil.copyfile(previous, self._weights_path)
            if os.path.exists(self._metadata_path + ".bkp"):
                shutil.copyfile(self._metadata_path + ".bkp", self._metadata_path)
            self._restore()

    def _restore(self) -> None:
        from ..saving import weights_h5

        if not os.path.exists(self._weights_path):
            return
        with h5py.File(self._weights_path, "r") as f:  # every value checked before any is set
            pending = weights_h5.read(f, self.model) + weights_h5.read_optimizer(
                f, getattr(self.model, "optimizer", None))
        epoch = 0
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path) as fh:
                epoch = int(json.load(fh)["epoch"])
        for var, value in pending:
            var.set_value(value)
        self._current_epoch = epoch
        self.model._initial_epoch = epoch  # fit starts there

    # ----- back up -----
    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1  # counted across epochs, as Keras
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch + 1)  # a restart redoes this epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def _save(self, epoch: int, batch: int) -> None:
        from ..distribution.host import is_writer
        from ..saving import weights_h5
        from ..saving.atomic import atomic_path

        if not is_writer():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        with atomic_path(self._weights_path) as tmp, h5py.File(tmp, "w") as f:
            weights_h5.write(f, self.model, include_optimizer=True)
        with atomic_path(self._metadata_path) as tmp, open(tmp, "w") as fh:
            json.dump({"epoch": epoch, "batch": batch}, fh)

    def on_train_end(self, logs=None):
        from ..distribution.host import is_writer

        if self.delete_checkpoint and is_writer() and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
