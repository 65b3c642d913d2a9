"""Keras 3's ``.weights.h5`` layout, read and write.

Layout (Keras 3 ``saving_lib``): the root holds a ``vars`` group for the model's
own variables; each entry of ``model.layers`` is a group
``layers/<snake_case class name>[_N]`` (N counts earlier layers of the same class
in the list) holding ``vars/0``, ``vars/1`` ... in the layer's weight creation
order, with the layer's name kept as the ``name`` attribute of ``vars``. A
layer's sublayers nest under the attribute name that holds them (e.g.
``layers/lstm/cell/vars/0``). A compiled, built optimizer adds
``optimizer/vars/<i>``: iterations, learning rate, then its slot variables.
"""
from __future__ import annotations

import h5py
import numpy as np

from ..utils.naming import to_snake_case


class WeightEntry:
    """One ``vars`` group: its h5 path, the owning layer's name and its variables."""

    def __init__(self, path: str, owner: str, variables: list):
        self.path, self.owner, self.variables = path, owner, variables


def _children(layer) -> list[tuple[str, object]]:
    """(attribute, sublayer or list of sublayers) held by a non-model layer, sorted by name."""
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


def _is_model(layer) -> bool:
    from ..models.functional import Model

    return isinstance(layer, Model)


_CELL_LAYERS = ("SimpleRNN", "LSTM", "GRU")


def _keeps_weights_in_cell(layer) -> bool:
    """A recurrent layer whose weights Keras saves under ``<layer>/cell/vars``."""
    from ..layers.layer import Layer

    return (any(k.__name__ in _CELL_LAYERS for k in type(layer).__mro__)
            and not isinstance(getattr(layer, "cell", None), Layer))


def walk(model) -> list[WeightEntry]:
    """Every ``vars`` group of ``model`` in Keras 3's layout, model first.

    As Keras, a layer reached twice is saved once, at its first path; a subclassed
    model's attributes and its ``layers`` list are visited in sorted attribute order.
    """
    entries: list[WeightEntry] = []
    visited: set[int] = set()

    def visit_layer(layer, path: str):
        if id(layer) in visited:
            return
        visited.add(id(layer))
        prefix = f"{path}/" if path else ""
        if _keeps_weights_in_cell(layer):
            # Keras's recurrent layers hold their weights in a cell sublayer.
            entries.append(WeightEntry(f"{prefix}vars", layer.name, []))
            entries.append(WeightEntry(f"{prefix}cell/vars", layer.name, list(layer._weights)))
        else:
            entries.append(WeightEntry(f"{prefix}vars", layer.name, list(layer._weights)))
        if _is_model(layer) and (layer._functional or hasattr(layer, "_input_layer")):
            visit_list(layer.layers, f"{prefix}layers")
            return
        children = _children(layer)
        if _is_model(layer):
            children = sorted(children + [("layers", layer.layers)], key=lambda c: c[0])
        for attr, child in children:
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


def optimizer_variables(optimizer) -> list:
    """The optimizer's variables in Keras's saved order: iterations, learning rate, slots."""
    lr = [optimizer.learning_rate_variable] if optimizer.learning_rate_variable is not None else []
    return [optimizer.iterations] + lr + list(optimizer._variables)


def is_weights_h5(f: h5py.Group) -> bool:
    """True when ``f`` looks like a Keras 3 ``.weights.h5`` root."""
    return "layer_names" not in f.attrs and ("layers" in f or "vars" in f)


def create_dataset(group: h5py.Group, name: str, value) -> None:
    """Store an array with a Fletcher-32 checksum (so bit rot is caught on reading);
    0-d and empty arrays cannot be chunked and are stored plainly."""
    value = np.asarray(value)
    if value.ndim and value.size:
        group.create_dataset(name, data=value, fletcher32=True)
    else:
        group.create_dataset(name, data=value)


def write(f: h5py.Group, model, include_optimizer: bool = False) -> None:
    """Write ``model``'s weights (and, if asked and built, its optimizer's) into ``f``."""
    for entry in walk(model):
        group = f.require_group(entry.path)
        group.attrs["name"] = entry.owner
        for i, var in enumerate(entry.variables):
            create_dataset(group, str(i), var.get_value(borrow=True))
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and optimizer._built_for is not None:
        group = f.require_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, var in enumerate(optimizer_variables(optimizer)):
            create_dataset(group, str(i), var.get_value(borrow=True))


class UnreadableArray(ValueError):
    """An array of the file cannot be read (truncated, corrupt): never skipped."""


def read_checked(dataset, var, where: str, layer: str) -> np.ndarray:
    """The array of ``dataset`` cast to ``var``'s dtype; ValueError if it does not fit.

    Shape and dtype kind are checked from the file's metadata before any data is read,
    so a small file declaring a huge (compressed) array allocates nothing.
    """
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"load_weights: {where!r} in the file is not an array")
    current = var.get_value(borrow=True)
    shape = dataset.shape  # None for an HDF5 null dataspace
    if shape != current.shape:
        raise ValueError(f"load_weights: layer {layer!r}, weight {var.name!r}: the file's array "
                         f"{where!r} has shape {shape}, the model's weight has shape "
                         f"{current.shape}")
    kinds = {"f": "f", "i": "i", "u": "i", "b": "b"}
    if kinds.get(dataset.dtype.kind) != kinds.get(current.dtype.kind):
        raise ValueError(f"load_weights: layer {layer!r}, weight {var.name!r}: the file's array "
                         f"{where!r} has dtype {dataset.dtype}, the model's weight has dtype "
                         f"{current.dtype}")
    try:
        value = dataset[()]
    except (OSError, RuntimeError, KeyError) as err:
        raise UnreadableArray(f"load_weights: cannot read {where!r}: the file is truncated or "
                         f"corrupt ({err})") from err
    return np.array(value, dtype=current.dtype)


def read(f: h5py.Group, model, skip_mismatch: bool = False) -> list[tuple[object, np.ndarray]]:
    """(variable, value) pairs for every weight of ``model``, all checked; assigns nothing."""
    pending = []
    for entry in walk(model):
        if not entry.variables:
            continue
        if entry.path not in f:
            if skip_mismatch:
                continue
            raise ValueError(f"load_weights: layer {entry.owner!r} has {len(entry.variables)} "
                             f"weights but the file has no group {entry.path!r} (the model's "
                             f"layers do not match the file's: {sorted(f.get('layers', {}))})")
        group = f[entry.path]
        if len(group) != len(entry.variables):
            if skip_mismatch:
                continue
            raise ValueError(f"load_weights: layer {entry.owner!r} has {len(entry.variables)} "
                             f"weights ({[v.name for v in entry.variables]}) but the file's "
                             f"{entry.path!r} holds {len(group)} arrays")
        values = []
        for i, var in enumerate(entry.variables):
            where = f"{entry.path}/{i}"
            if str(i) not in group:
                raise ValueError(f"load_weights: layer {entry.owner!r}: the file has no array "
                                 f"{where!r}")
            try:
                values.append((var, read_checked(group[str(i)], var, where, entry.owner)))
            except ValueError as err:
                if not skip_mismatch or isinstance(err, UnreadableArray):
                    raise
                values = None
                break
        pending.extend(values or [])
    extra = sorted(set(_stored_vars_groups(f)) - {e.path for e in walk(model)})
    if extra and not skip_mismatch:
        raise ValueError(f"load_weights: the file holds weights the model has no layer for: "
                         f"{extra} (the model's layers do not match the file's)")
    return pending


def _stored_vars_groups(f: h5py.Group) -> list[str]:
    """Paths of the non-empty ``vars`` groups of a file, the optimizer's excepted."""
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars" and len(obj) and \
                not name.startswith("optimizer"):
            found.append(name)

    f.visititems(visit)
    return found


def read_optimizer(f: h5py.Group, optimizer) -> list[tuple[object, np.ndarray]]:
    """(variable, value) pairs for a built optimizer from ``optimizer/vars``; checked."""
    if "optimizer/vars" not in f or optimizer is None or optimizer._built_for is None:
        return []
    group = f["optimizer/vars"]
    variables = optimizer_variables(optimizer)
    if len(group) == 2 < len(variables):
        variables = variables[:2]  # saved before the first step: no slot variables yet
    if len(group) != len(variables):
        raise ValueError(f"load_model: the optimizer {optimizer.name!r} has {len(variables)} "
                         f"variables but the file's 'optimizer/vars' holds {len(group)}")
    return [(var, read_checked(group[str(i)], var, f"optimizer/vars/{i}", optimizer.name))
            for i, var in enumerate(variables)]
