"""The data of the digits examples: scikit-learn's 8x8 digits, which ship with it."""
import numpy as np


def load_digits_split(images: bool = False, seed: int = 0):
    """scikit-learn's digits (shipped with it), pixels in [0, 1], split 80/20 with ``seed``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images[..., None] if images else digits.data).astype("float32") / 16.0
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    return (np.ascontiguousarray(x_train), y_train), (np.ascontiguousarray(x_test), y_test)
