"""``ProgbarLogger``: the Keras progress bar per epoch (verbose 1) or one line (verbose 2)."""
from __future__ import annotations

from ..progbar import Progbar
from .callback import Callback


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` then a progress bar with the running logs."""

    def __init__(self):
        super().__init__()
        self.bar = None

    def _verbose(self) -> int:
        return int(self.params.get("verbose", 1))

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose():
            epochs = self.params.get("epochs")
            print(f"Epoch {epoch + 1}/{epochs}")
            self.bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.update(self.bar._seen, logs, finalize=True)
            self.bar = None

    def on_test_begin(self, logs=None):
        if self.params.get("mode") == "evaluate" and self._verbose():
            self.bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_test_batch_end(self, batch, logs=None):
        if self.bar is not None and self.params.get("mode") == "evaluate":
            self.bar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if self.bar is not None and self.params.get("mode") == "evaluate":
            self.bar.update(self.bar._seen, logs, finalize=True)
            self.bar = None

    def on_predict_begin(self, logs=None):
        if self._verbose():
            self.bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_predict_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(batch + 1, finalize=False)

    def on_predict_end(self, logs=None):
        if self.bar is not None:
            self.bar.update(self.bar._seen, finalize=True)
            self.bar = None
