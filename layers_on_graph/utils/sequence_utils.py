"""``pad_sequences``: a list of sequences as one padded array (Keras semantics)."""
from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """Pad (or cut) every sequence to ``maxlen`` (default: the longest) steps.

    ``padding``/``truncating`` 'pre' pad or cut at the start, 'post' at the end.
    Elements may themselves be arrays (every one of the same shape), which then
    trail the time axis: the result is (len(sequences), maxlen) + element shape.

    Examples
    --------
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3], [0, 4]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: sequences must be a list of iterables")
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got "
                         f"{truncating!r}")
    lengths, sample_shape = [], None
    for k, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError as err:
            raise ValueError(f"pad_sequences: sequences must be a list of iterables; item {k} "
                             f"is {seq!r}") from err
        if sample_shape is None and len(seq):
            sample_shape = np.asarray(seq).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(f"pad_sequences: dtype {dtype} cannot hold the string value "
                         f"{value!r}; use dtype=object for variable-length strings")
    out = np.full((len(lengths), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for k, seq in enumerate(sequences):
        if not len(seq) or maxlen == 0:
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"pad_sequences: the elements of sequence {k} have shape "
                             f"{kept.shape[1:]}, expected {tuple(sample_shape)} as in the "
                             f"first non-empty sequence")
        if padding == "post":
            out[k, :len(kept)] = kept
        else:
            out[k, maxlen - len(kept):] = kept
    return out
