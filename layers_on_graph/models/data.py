"""Check and convert user data for fit/evaluate/predict, before any step runs.

Every problem a user can cause (lengths, ranks, feature counts, label ranges)
raises a ValueError that names the input and the shapes involved.
"""
from __future__ import annotations

import numpy as np

from .. import losses as losses_mod


def _as_array(value, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{what}: cannot convert to an array ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what}: expected numbers, got an array of dtype {arr.dtype}")
    return arr


def _structure(value, names: list[str], what: str) -> list:
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"{what}: missing entries {missing}; the model expects {names}")
        return [value[n] for n in names]
    if len(names) == 1:
        if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0],
                                                                               np.ndarray):
            return [value[0]]
        return [value]
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        raise ValueError(f"{what}: the model has {len(names)} of them ({names}); pass a list of "
                         f"{len(names)} arrays or a dict")
    return list(value)


def standardize_inputs(x, input_names: list[str], input_shapes: list[tuple],
                       input_dtypes: list[str]) -> list[np.ndarray]:
    """The arrays of ``x`` (array, list or dict), cast and checked against the model's inputs."""
    if x is None:
        raise ValueError("x is None; pass the input data")
    arrays = []
    for value, name, shape, dtype in zip(_structure(x, input_names, "x"), input_names,
                                         input_shapes, input_dtypes):
        arr = _as_array(value, f"input {name!r}")
        if arr.ndim != len(shape):
            raise ValueError(f"input {name!r}: expected an array of rank {len(shape)} (shape "
                             f"{_fmt(shape)}), got shape {arr.shape}")
        for axis, (want, got) in enumerate(zip(shape[1:], arr.shape[1:]), start=1):
            if want is not None and want != got:
                raise ValueError(f"input {name!r}: expected shape {_fmt(shape)}, got {arr.shape} "
                                 f"(axis {axis} has {got} features instead of {want})")
        arrays.append(np.ascontiguousarray(arr, dtype=dtype))
    return arrays


def standardize_targets(y, output_names: list[str], output_shapes: list[tuple],
                        losses: list, floatx: str) -> list[np.ndarray]:
    """The target arrays, checked against each output's shape and loss."""
    if y is None:
        raise ValueError("y is None; pass the targets for training or evaluation")
    arrays = []
    for value, name, shape, loss in zip(_structure(y, output_names, "y"), output_names,
                                        output_shapes, losses):
        arr = _as_array(value, f"target {name!r}")
        if losses_mod.is_sparse(loss):
            arrays.append(_sparse_labels(arr, name, shape))
            continue
        if arr.ndim == len(shape) - 1 and shape[-1] == 1:
            arr = arr[..., None]
        if arr.ndim != len(shape):
            hint = ""
            if arr.ndim == len(shape) - 1 and isinstance(loss, losses_mod.CategoricalCrossentropy):
                hint = "; for integer labels use loss='sparse_categorical_crossentropy'"
            raise ValueError(f"target {name!r}: expected rank {len(shape)} like the output "
                             f"{_fmt(shape)}, got shape {arr.shape}{hint}")
        for axis, (want, got) in enumerate(zip(shape[1:], arr.shape[1:]), start=1):
            if want is not None and want != got:
                raise ValueError(f"target {name!r}: shape {arr.shape} does not match the output "
                                 f"shape {_fmt(shape)} (axis {axis})")
        arrays.append(np.ascontiguousarray(arr, dtype=floatx))
    return arrays


def _sparse_labels(arr: np.ndarray, name: str, shape: tuple) -> np.ndarray:
    if arr.ndim == len(shape) and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != len(shape) - 1 or any(
            want is not None and want != got for want, got in zip(shape[1:-1], arr.shape[1:])):
        raise ValueError(f"target {name!r}: sparse_categorical_crossentropy expects one integer "
                         f"label per sample (per step of a sequence): labels of shape "
                         f"{_fmt(shape[:-1])} for an output of shape {_fmt(shape)}; got labels "
                         f"of shape {arr.shape}")
    if arr.size and arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"target {name!r}: sparse labels must be integers, got non-integer "
                         f"values such as {arr[np.mod(arr, 1) != 0][0]}")
    classes = shape[-1]
    if arr.size:
        low, high = arr.min(), arr.max()
        if low < 0 or (classes is not None and high >= classes):
            raise ValueError(f"target {name!r}: labels must be in [0, {classes}) for an output "
                             f"with {classes} classes; got labels from {low} to {high}")
    return np.ascontiguousarray(arr, dtype="int64")


def check_lengths(arrays: list[np.ndarray], what: str) -> int:
    """The common number of samples; ValueError naming each length otherwise."""
    lengths = [len(a) if a.ndim else 0 for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{what}: all arrays must have the same number of samples; got lengths "
                         f"{lengths} (x and y must have as many samples)")
    return lengths[0] if lengths else 0


def class_weights_to_sample_weights(class_weight: dict, labels: np.ndarray,
                                    floatx: str) -> np.ndarray:
    """Per-sample weights ``class_weight[label]`` (labels integer or one-hot)."""
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(len(labels), -1)[:, 0].astype("int64")
    unknown = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if unknown:
        raise ValueError(f"class_weight: no weight for classes {unknown}; given for "
                         f"{sorted(class_weight)}")
    table = np.zeros(int(max(max(class_weight), labels.max(initial=0))) + 1, dtype=floatx)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[labels]


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"
