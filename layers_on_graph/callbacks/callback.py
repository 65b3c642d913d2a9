"""``Callback``: hooks called by fit/evaluate/predict (Keras 3's names)."""
from __future__ import annotations


def print_msg(text: str) -> None:
    """Print a callback's message (``verbose`` ones): on process 0 only when training data
    parallel, so N processes print it once."""
    from ..distribution.host import is_writer

    if is_writer():
        print(text)


class Callback:
    """Override any hook; ``self.model`` and ``self.params`` are set before training.

    Examples
    --------
    >>> class Stop(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         if logs['loss'] < 0.1: self.model.stop_training = True
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
