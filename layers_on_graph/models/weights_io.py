"""``save_weights`` / ``load_weights`` in Keras 3's ``.weights.h5`` layout.

Layout (as Keras 3's saving_lib writes it): the root has an empty ``vars`` group;
each layer of ``model.layers`` is a group ``layers/<snake_case class name>[_N]``
(N counts repeats of a class within the list) holding ``vars/0``, ``vars/1``, ...
in the layer's own weight order; a layer's sublayers nest under the attribute
name that holds them. Saving writes a temporary file then renames it; loading
reads and checks everything before assigning anything.
"""
from __future__ import annotations

import os
import tempfile

import h5py
import numpy as np

from ..utils.naming import to_snake_case


def _own_weights(layer) -> list:
    return list(layer._weights)


def _children(layer) -> list[tuple[str, object]]:
    """(attribute name, sublayer or list of sublayers) held by a layer, sorted by name."""
    from ..layers.layer import Layer

    found = []
    for attr, value in sorted(vars(layer).items()):
        if attr.startswith("_"):
            continue
        if isinstance(value, Layer) and value is not layer:
            found.append((attr, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer)
                                                                for v in value):
            found.append((attr, list(value)))
    return found


def _is_graph_model(layer) -> bool:
    return getattr(layer, "_functional", False) or type(layer).__name__ == "Sequential" or (
        hasattr(layer, "_input_layer") and hasattr(layer, "add"))


def _walk(model) -> list[tuple[str, list]]:
    """(h5 path of a 'vars' group, shared variables) for the model and all its layers."""
    entries = []

    def visit_layer(layer, path: str):
        entries.append((f"{path}/vars" if path else "vars", _own_weights(layer)))
        prefix = f"{path}/" if path else ""
        if _is_graph_model(layer):
            visit_list(layer.layers, f"{prefix}layers")
            return
        for attr, child in _children(layer):
            if isinstance(child, list):
                visit_list(child, f"{prefix}{attr}")
            else:
                visit_layer(child, f"{prefix}{attr}")

    def visit_list(layers, prefix: str):
        counts: dict[str, int] = {}
        for layer in layers:
            base = to_snake_case(type(layer).__name__)
            n = counts.get(base, 0)
            counts[base] = n + 1
            visit_layer(layer, f"{prefix}/{base}" if n == 0 else f"{prefix}/{base}_{n}")

    visit_layer(model, "")
    return entries


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write every weight of ``model`` to ``filepath`` (must end in '.weights.h5')."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the filename must end in '.weights.h5', got "
                         f"{filepath!r}")
    if os.path.exists(filepath) and not overwrite:
        raise ValueError(f"save_weights: {filepath!r} exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(suffix=".weights.h5", dir=directory)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            for path, weights in _walk(model):
                group = f.require_group(path)
                for i, w in enumerate(weights):
                    group.create_dataset(str(i), data=w.get_value(borrow=True))
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_weights(model, filepath) -> None:
    """Read weights saved by ``save_weights``; on any mismatch nothing is assigned."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise ValueError(f"load_weights: no such file {filepath!r}")
    pending = []
    with h5py.File(filepath, "r") as f:
        for path, weights in _walk(model):
            if not weights:
                continue
            if path not in f:
                raise ValueError(f"load_weights: {filepath!r} has no group {path!r} "
                                 f"(the model's layers do not match the file)")
            group = f[path]
            if len(group) != len(weights):
                raise ValueError(f"load_weights: {path!r} holds {len(group)} arrays but the "
                                 f"layer has {len(weights)} weights")
            for i, w in enumerate(weights):
                value = np.asarray(group[str(i)])
                current = w.get_value(borrow=True)
                if value.shape != current.shape:
                    raise ValueError(f"load_weights: {path}/{i} has shape {value.shape}, weight "
                                     f"{w.name} has shape {current.shape}")
                pending.append((w, value.astype(current.dtype)))
    for w, value in pending:
        w.set_value(value)
