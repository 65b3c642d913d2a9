"""``ModelCheckpoint``: save the model (or its weights) every epoch or when it improves."""
from __future__ import annotations

import os

import numpy as np

from .callback import Callback, print_msg
from .monitor import read_monitor, resolve_mode


class ModelCheckpoint(Callback):
    """Save to ``filepath`` formatted with ``epoch`` (1-based) and the epoch's logs.

    ``save_weights_only=True``: ``model.save_weights`` (``'*.weights.h5'``); otherwise
    ``model.save`` (``'.keras'`` or ``'.h5'``). ``save_best_only=True`` saves only when
    ``monitor`` improves.

    Examples
    --------
    >>> ModelCheckpoint('ckpt/w.{epoch:02d}-{val_loss:.2f}.weights.h5',
    ...                 save_weights_only=True, save_best_only=True)
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError(f"ModelCheckpoint: with save_weights_only=True the filepath must end "
                             f"in '.weights.h5', got {self.filepath!r}")
        if not save_weights_only and (self.filepath.endswith(".weights.h5") or
                                      not self.filepath.endswith((".keras", ".h5", ".hdf5"))):
            raise ValueError(f"ModelCheckpoint: the filepath must end in '.keras' or '.h5' to "
                             f"save the whole model (or pass save_weights_only=True for "
                             f"'.weights.h5'), got {self.filepath!r}")
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint")
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            np.inf if self.mode == "min" else -np.inf)

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: the filepath {self.filepath!r} names {err}, which "
                           f"is not in the logs (available: {sorted(logs)})") from err

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self._path(epoch, logs)
        if self.save_best_only:
            current = read_monitor(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            better = current < self.best if self.mode == "min" else current > self.best
            if not better:
                if self.verbose > 0:
                    print_msg(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                              f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                          f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print_msg(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
