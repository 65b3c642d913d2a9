"""Model architecture -> Keras 3 style JSON configs.

Writes Keras 3's form (``{"module", "class_name", "config", "registered_name"}``;
functional ``inbound_nodes`` as ``{"args": [keras tensors], "kwargs": {}}``), so
that real Keras 3 can rebuild the model. A lambda is written as Keras's
``__lambda__`` bytecode form (refused on reading unless ``safe_mode=False``); a
named function by name only.
"""
from __future__ import annotations

import base64
import marshal
import types

import numpy as np

from .. import initializers, regularizers
from .registration import get_registered_name


def serialize_value(value, where: str):
    """A JSON-ready copy of a layer-config value (tuples to lists, objects to class dicts)."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [serialize_value(v, where) for v in value]
    if isinstance(value, dict):
        out = {str(k): serialize_value(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(out.get("class_name"), str) and isinstance(out.get("config"), dict) and \
                builtin_layer_class(out["class_name"]) is not None:
            # a wrapper's inner layer (Bidirectional, TimeDistributed): Keras 3 needs the module
            out = {"module": "keras.layers", "class_name": out["class_name"],
                   "config": out["config"], "registered_name": None}
        return out
    if isinstance(value, initializers.Initializer):
        return {"module": "keras.initializers", "class_name": type(value).__name__,
                "config": serialize_value(value.get_config(), where), "registered_name": None}
    if isinstance(value, regularizers.Regularizer):
        return {"module": "keras.regularizers", "class_name": type(value).__name__,
                "config": serialize_value(value.get_config(), where), "registered_name": None}
    if isinstance(value, types.FunctionType):
        return serialize_function(value)
    raise TypeError(f"save: cannot serialize {where} = {value!r} (type {type(value).__name__})")


def serialize_function(fn: types.FunctionType) -> dict:
    """A lambda as Keras's ``__lambda__`` bytecode form; a named function by name only."""
    if fn.__name__ == "<lambda>":
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        return {"class_name": "__lambda__", "config": {
            "code": code, "defaults": serialize_value(fn.__defaults__, "defaults"),
            "closure": None if fn.__closure__ is None else
            [serialize_value(c.cell_contents, "closure") for c in fn.__closure__]}}
    return {"module": fn.__module__, "class_name": "function", "config": fn.__name__,
            "registered_name": fn.__name__}


def layer_to_config(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` of one layer."""
    from ..models.functional import Model

    cls = type(layer)
    if isinstance(layer, Model):
        return model_entry(layer)
    if hasattr(layer, "keras_entry"):  # Keras operation nodes, keras.applications' own layers
        return layer.keras_entry()
    builtin = builtin_layer_class(cls.__name__) is cls
    return {"module": "keras.layers" if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": serialize_value(layer.get_config(), f"{layer.name}.config"),
            "registered_name": None if builtin else get_registered_name(cls)}


def model_entry(model) -> dict:
    """A model's config with Keras 3's module key (Functional is found by its module path)."""
    config = model_config(model)
    module = "keras.src.models.functional" if config["class_name"] == "Functional" else "keras"
    return {"module": module, "class_name": config["class_name"], "config": config["config"],
            "registered_name": None}


def _node_index(layer, node, model_nodes: set) -> int:
    own = [n for n in layer._inbound_nodes if id(n) in model_nodes]
    return own.index(node)


def _tensor_ref(tensor, model_nodes: set) -> dict:
    layer, node, index = tensor._keras_history
    shape = list(getattr(tensor, "_keras_shape", tensor.type.shape))
    return {"class_name": "__keras_tensor__", "config": {
        "shape": shape, "dtype": str(tensor.dtype),
        "keras_history": [layer.name, _node_index(layer, node, model_nodes), index]}}


def model_config(model) -> dict:
    """``{"class_name": "Sequential" | "Functional", "config": {...}}`` in Keras 3's form."""
    from ..models.sequential import Sequential

    if isinstance(model, Sequential):
        layers = []
        if model._input_layer is not None:
            layers.append(layer_to_config(model._input_layer))
        layers.extend(layer_to_config(layer) for layer in model.layers)
        return {"class_name": "Sequential", "config": {
            "name": model.name, "trainable": model.trainable, "layers": layers}}
    if not getattr(model, "_functional", False):
        raise ValueError(f"save: {type(model).__name__} {model.name!r} is a subclassed Model; "
                         f"its architecture is Python code, not a config. Save its weights "
                         f"with save_weights() and rebuild it in code")
    model_nodes = {id(n) for n in model._nodes}
    for t in model.inputs:
        model_nodes.add(id(t._keras_history[1]))
    entries = []
    for layer in model._layers:  # operations between layers (x + y) included, as Keras
        entry = layer_to_config(layer)
        entry["name"] = layer.name
        nodes = [n for n in layer._inbound_nodes if id(n) in model_nodes]
        entry["inbound_nodes"] = [] if _is_input_layer(layer) else [
            {"args": _map_tensors(n.args, lambda t: _tensor_ref(t, model_nodes)),
             "kwargs": serialize_value(n.kwargs, f"{layer.name}.call kwargs")} for n in nodes]
        entries.append(entry)

    def ref(t):
        layer, node, index = t._keras_history
        return [layer.name, _node_index(layer, node, model_nodes), index]

    return {"class_name": "Functional", "config": {
        "name": model.name, "trainable": model.trainable, "layers": entries,
        "input_layers": [ref(t) for t in model.inputs],
        "output_layers": [ref(t) for t in model.outputs]}}


def _is_input_layer(layer) -> bool:
    from ..layers.input_layer import InputLayer

    return isinstance(layer, InputLayer)


def _map_tensors(x, fn):
    from ..layers.layer import is_symbolic

    if isinstance(x, (list, tuple)):
        return [_map_tensors(e, fn) for e in x]
    if isinstance(x, dict):
        return {k: _map_tensors(v, fn) for k, v in x.items()}
    return fn(x) if is_symbolic(x) else serialize_value(x, "call argument")


def builtin_layer_class(name: str):
    """The class ``name`` of ``layers_on_graph.layers``, or None."""
    from .. import layers as layers_mod
    from ..layers.layer import Layer

    cls = getattr(layers_mod, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, Layer) else None
