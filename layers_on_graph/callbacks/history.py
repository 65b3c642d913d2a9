"""``History``: records the epoch logs; ``fit`` returns it."""
from __future__ import annotations

from .callback import Callback


class History(Callback):
    """``history.history['loss']`` is the list of epoch losses; ``history.epoch`` the epochs."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self
