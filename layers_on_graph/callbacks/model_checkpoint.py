"""``ModelCheckpoint``: save the weights every epoch or when the monitored value improves."""
from __future__ import annotations

import numpy as np

from .callback import Callback
from .monitor import read_monitor, resolve_mode


class ModelCheckpoint(Callback):
    """Save to ``filepath`` (formatted with ``epoch`` and the logs, e.g.
    ``'w.{epoch:02d}.weights.h5'``). Only weights are saved here (``save_weights_only``
    must be True, or the model must provide ``save``)."""

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(f"ModelCheckpoint: with save_weights_only=True the filepath must end "
                             f"in '.weights.h5', got {self.filepath!r}")
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint")
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            np.inf if self.mode == "min" else -np.inf)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = read_monitor(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            better = current < self.best if self.mode == "min" else current > self.best
            if not better:
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        elif hasattr(self.model, "save"):
            self.model.save(path)
        else:
            raise ValueError("ModelCheckpoint: saving whole models is not available; pass "
                             "save_weights_only=True")
