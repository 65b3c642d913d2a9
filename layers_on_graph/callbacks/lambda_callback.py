"""``LambdaCallback``: a callback from plain functions."""
from __future__ import annotations

from .callback import Callback


class LambdaCallback(Callback):
    """Call the given functions at those hooks, with Keras 3's arguments: ``on_epoch_begin``
    and ``on_epoch_end`` take ``(epoch, logs)``, ``on_train_batch_begin`` and
    ``on_train_batch_end`` take ``(batch, logs)``, ``on_train_begin`` and ``on_train_end``
    take ``(logs)``; any other hook (``on_test_end=...``) goes by keyword.

    Examples
    --------
    >>> LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs['loss']))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
                setattr(self, name, _always_with_logs(name, fn))


def _always_with_logs(name: str, fn):
    """``fn`` called as Keras calls hooks: always with ``logs`` (None when there are none)."""
    if "epoch" in name or "batch" in name:
        def hook(index, logs=None):
            return fn(index, logs)
    else:
        def hook(logs=None):
            return fn(logs)
    return hook
