"""Keras 2's HDF5 layouts: ``save_weights('x.h5')`` files and legacy full-model ``.h5`` files.

Weights layout: root attributes ``layer_names`` (split into ``layer_names0``,
``layer_names1`` ... when too long for one HDF5 attribute), ``backend`` and
``keras_version``; one group per layer whose ``weight_names`` attribute lists
dataset paths inside the group, trainable weights first, then non-trainable.
The paths are opaque: only their order counts. A full-model file keeps this
layout in its ``model_weights`` group, the architecture as JSON in the root
attribute ``model_config``, the compile arguments in ``training_config`` and the
optimizer's variables in ``optimizer_weights``.
"""
from __future__ import annotations

import h5py
import numpy as np

from .weights_h5 import UnreadableArray, create_dataset, read_checked

# HDF5 refuses attributes over 64 KiB in the object header (Keras's constant).
HDF5_OBJECT_HEADER_LIMIT = 64512


def is_legacy(f: h5py.Group) -> bool:
    """True when ``f`` holds the Keras 2 weights layout."""
    return "layer_names" in f.attrs or "layer_names0" in f.attrs


def save_attributes(group: h5py.Group, name: str, data: list[str]) -> None:
    """Store a list of strings as ``name``, or as ``name0``, ``name1`` ... if too large."""
    if not data:
        group.attrs[name] = np.array([], dtype="S1")
        return
    encoded = np.array([s.encode("utf8") for s in data])
    n_chunks = 1
    chunks = [encoded]
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in chunks):
        n_chunks += 1
        if n_chunks > len(encoded):
            raise ValueError(f"save: the attribute {name!r} has an entry longer than "
                             f"{HDF5_OBJECT_HEADER_LIMIT} bytes")
        chunks = np.array_split(encoded, n_chunks)
    if n_chunks == 1:
        group.attrs[name] = encoded
    else:
        for i, chunk in enumerate(chunks):
            group.attrs[f"{name}{i}"] = chunk


def load_attributes(group: h5py.Group, name: str) -> list[str]:
    """The list of strings stored by ``save_attributes`` (either form)."""
    if name in group.attrs:
        raw = list(group.attrs[name])
    else:
        raw, i = [], 0
        while f"{name}{i}" in group.attrs:
            raw.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [r.decode("utf8") if isinstance(r, bytes) else str(r) for r in raw]


def legacy_weights(layer) -> list:
    """A layer's weights in the legacy order: trainable first, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_names(layer, weights: list) -> list[str]:
    names, seen = [], set()
    for i, w in enumerate(weights):
        name = w.name or f"{layer.name}/variable"
        if not name.startswith(layer.name + "/"):
            name = f"{layer.name}/{name}"
        if name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        names.append(name)
    return names


def write_weights(f: h5py.Group, layers: list, keras_version: str) -> None:
    """Write ``layers``' weights in the Keras 2 layout into ``f``."""
    save_attributes(f, "layer_names", [layer.name for layer in layers])
    f.attrs["backend"] = "layers_on_graph"
    f.attrs["keras_version"] = keras_version
    for layer in layers:
        group = f.create_group(layer.name)
        weights = legacy_weights(layer)
        names = _weight_names(layer, weights)
        save_attributes(group, "weight_names", names)
        for name, w in zip(names, weights):
            create_dataset(group, name, w.get_value(borrow=True))


def _file_layers(f: h5py.Group) -> list[tuple[str, list[str]]]:
    """(layer name, weight paths) for every layer listed in the file."""
    out = []
    for name in load_attributes(f, "layer_names"):
        if name not in f:
            raise ValueError(f"load_weights: the file lists layer {name!r} but has no group for "
                             f"it (truncated or corrupt file)")
        out.append((name, load_attributes(f[name], "weight_names")))
    return out


def _read_layer(f: h5py.Group, file_name: str, paths: list[str], layer,
                skip_mismatch: bool) -> list:
    weights = legacy_weights(layer)
    if len(paths) != len(weights):
        if skip_mismatch:
            return []
        raise ValueError(f"load_weights: layer {layer.name!r} has {len(weights)} weights "
                         f"({[w.name for w in weights]}) but the file's layer {file_name!r} has "
                         f"{len(paths)} ({paths})")
    pending = []
    for path, var in zip(paths, weights):
        where = f"{file_name}/{path}"
        if path not in f[file_name]:
            raise ValueError(f"load_weights: the file has no array {where!r} (truncated or "
                             f"corrupt file)")
        try:
            pending.append((var, read_checked(f[file_name][path], var, where, layer.name)))
        except ValueError as err:
            if skip_mismatch and not isinstance(err, UnreadableArray):
                return []
            raise
    return pending


def read_weights(f: h5py.Group, layers: list, by_name: bool = False,
                 skip_mismatch: bool = False) -> list[tuple[object, np.ndarray]]:
    """(variable, value) pairs from a Keras 2 layout, all checked; assigns nothing.

    By order (default): the i-th layer with weights in the file goes to the i-th layer
    with weights in ``layers``. ``by_name=True``: file layers go to layers of that name.
    """
    file_layers = _file_layers(f)
    if by_name:
        by = {}
        for layer in layers:
            by.setdefault(layer.name, []).append(layer)
        pending = []
        for name, paths in file_layers:
            for layer in by.get(name, []):
                pending.extend(_read_layer(f, name, paths, layer, skip_mismatch))
        return pending
    file_with = [(n, p) for n, p in file_layers if p]
    model_with = [layer for layer in layers if legacy_weights(layer)]
    if len(file_with) != len(model_with):
        raise ValueError(f"load_weights: the model has {len(model_with)} layers with weights "
                         f"({[l.name for l in model_with]}) but the file has {len(file_with)} "
                         f"({[n for n, _ in file_with]})")
    pending = []
    for (name, paths), layer in zip(file_with, model_with):
        pending.extend(_read_layer(f, name, paths, layer, skip_mismatch))
    return pending


def write_optimizer(f: h5py.Group, variables: list, optimizer_name: str) -> None:
    """Store the optimizer's variables in ``optimizer_weights`` (Keras's legacy layout)."""
    group = f.create_group("optimizer_weights")
    names = [f"{optimizer_name}/{i}_{(v.name or 'var').split('/')[-1]}"
             for i, v in enumerate(variables)]
    save_attributes(group, "weight_names", names)
    for name, v in zip(names, variables):
        create_dataset(group, name, v.get_value(borrow=True))


def read_optimizer(f: h5py.Group, variables: list, optimizer_name: str) -> list:
    """(variable, value) pairs from ``optimizer_weights``, checked; [] when absent."""
    if "optimizer_weights" not in f:
        return []
    group = f["optimizer_weights"]
    names = load_attributes(group, "weight_names")
    if len(names) == 2 < len(variables):
        variables = variables[:2]  # saved before the first step: no slot variables yet
    if len(names) != len(variables):
        raise ValueError(f"load_model: the optimizer {optimizer_name!r} has {len(variables)} "
                         f"variables but the file's optimizer_weights holds {len(names)}")
    pending = []
    for name, var in zip(names, variables):
        if name not in group:
            raise ValueError(f"load_model: the file has no optimizer array {name!r}")
        pending.append((var, read_checked(group[name], var, f"optimizer_weights/{name}",
                                          optimizer_name)))
    return pending
