"""``CallbackList``: calls every callback's hook in order; adds History and the progress bar."""
from __future__ import annotations

from .callback import Callback
from .history import History
from .progbar_logger import ProgbarLogger

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class CallbackList(Callback):
    """A list of callbacks called as one. Batch hooks of the base class are skipped."""

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected Callback instances, got {cb!r}")
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if add_history:
            existing = [c for c in self.callbacks if isinstance(c, History)]
            self.history = existing[0] if existing else History()
            if not existing:
                self.callbacks.append(self.history)
        for hook in _HOOKS:
            active = [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)]
            setattr(self, hook, _fanout(active))
        # whether a callback may look at the model between training steps (the progress
        # bar only prints the logs)
        self.sees_each_batch = any(_overrides(c, hook) for c in self.callbacks
                                   if not isinstance(c, ProgbarLogger)
                                   for hook in ("on_train_batch_begin", "on_train_batch_end"))
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def set_model(self, model) -> None:
        super().set_model(model)
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        for c in self.callbacks:
            c.set_params(params)


def _overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` defines ``hook`` (in its class or, as LambdaCallback, itself)."""
    return hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)


def _fanout(methods):
    if not methods:
        return lambda *args, **kwargs: None
    if len(methods) == 1:
        return methods[0]

    def call(*args, **kwargs):
        for m in methods:
            m(*args, **kwargs)

    return call
