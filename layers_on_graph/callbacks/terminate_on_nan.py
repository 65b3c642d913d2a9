"""``TerminateOnNaN``: stop training as soon as the loss is NaN or infinite, and say why."""
from __future__ import annotations

import math

from .callback import Callback, print_msg


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when a batch's loss is not finite (Keras 3).

    With ``debug=True`` (the default here) ``fit`` also keeps the weights of the last
    good step and re-runs the failing batch under ``core.NanGuardMode``; the first layer
    and line that produced the NaN are printed and kept in ``self.report``. Each step
    then first copies the weights it will overwrite; ``debug=False`` skips that.
    ``raise_error=True`` raises RuntimeError instead of stopping (Keras 3.11+).

    Examples
    --------
    >>> model.fit(x, y, callbacks=[callbacks.TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False, debug: bool = True):
        super().__init__()
        self.raise_error = raise_error
        self.debug = debug
        self.report: str | None = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        message = f"Batch {batch}: Invalid loss, terminating training"
        if self.report:
            message += f"\n{self.report}"
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately."
                               + (f"\n{self.report}" if self.report else ""))
        print_msg(message)
        self.model.stop_training = True
