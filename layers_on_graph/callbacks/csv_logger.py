"""``CSVLogger``: one CSV row per epoch (epoch, then the logs in sorted order)."""
from __future__ import annotations

import csv
import os

import numpy as np

from .callback import Callback


class CSVLogger(Callback):
    """Write ``epoch`` and every log value to ``filename`` (``append`` keeps old rows)."""

    writes_files = True  # data parallel: runs on process 0 only

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(
            self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._append_header = not has_rows
        self.keys = None
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        for k in self.keys:
            v = logs.get(k, "NA")
            if isinstance(v, str):
                row[k] = v
            elif np.ndim(v):  # a per-class metric, written as Keras does
                row[k] = "[" + ", ".join(str(x) for x in np.ravel(v)) + "]"
            else:
                row[k] = float(np.asarray(v))
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
