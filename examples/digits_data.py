"""scikit-learn's digits (shipped with it, no download), split 80/20 with seed 0."""
from __future__ import annotations

import numpy as np


def load_digits_split(images: bool = False, seed: int = 0):
    """(x_train, y_train), (x_test, y_test): pixels scaled to [0, 1]; images as (n, 8, 8, 1)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images if images else digits.data).astype("float32") / 16.0
    if images:
        x = x[..., None]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed,
                                                        stratify=None)
    return (np.ascontiguousarray(x_train), y_train), (np.ascontiguousarray(x_test), y_test)
