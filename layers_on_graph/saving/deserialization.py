"""Keras-style JSON configs (Keras 3 and Keras 2 forms) -> models, with no code execution.

Reads Keras 3's form and Keras 2's (``batch_input_shape``, ``[[name, node, tensor,
kwargs]]`` nodes, ``function_type``). Classes come from ``layers_on_graph.layers``
or ``custom_objects``, never from an import named in the file. A ``Lambda``'s
serialized bytecode is refused unless ``safe_mode=False``. Keys Keras writes that
this library has no use for are dropped while they are off, and refused otherwise.
"""
from __future__ import annotations

import base64
import builtins
import inspect
import marshal
import types

import numpy as np

from .. import initializers, regularizers
from .keras_application_layers import application_layer
from .keras_operations import is_operation_entry, operation_from_config
from .registration import with_registered
from .serialization import builtin_layer_class

_SAFE_MODE_HINT = ("loading it would execute Python code stored in the file. If you trust the "
                   "file, call load_model(..., safe_mode=False) (or model_from_json(..., "
                   "safe_mode=False)); or pass the function by name in custom_objects")
# Keys Keras writes that only matter when another key is on (value ignored while it is off).
_DEPENDENT_KEYS = {"renorm_momentum": "renorm", "renorm_clipping": "renorm",
                   "lora_alpha": "lora_rank"}
# Model-level keys that carry no meaning here.
_IGNORED_KEYS = {"build_config", "compile_config", "build_input_shape", "shared_object_id"}


def _resolve_class(class_name: str, custom_objects: dict, where: str):
    from ..layers.layer import Layer

    if class_name in custom_objects:
        return custom_objects[class_name]
    cls = builtin_layer_class(class_name)
    if cls is None:
        raise ValueError(f"load_model: unknown layer class {class_name!r} ({where}); this "
                         f"library has no such layer. Pass it in custom_objects={{"
                         f"{class_name!r}: YourLayer}}")
    assert issubclass(cls, Layer)
    return cls


def _object_from_dict(value: dict, kind: str, custom_objects: dict, where: str):
    name, config = value.get("class_name"), dict(value.get("config") or {})
    if name in custom_objects:
        cls = custom_objects[name]
    elif kind == "initializer":
        cls = type(initializers.get(name))
    elif kind == "regularizer":
        table = {"L1": regularizers.L1, "L2": regularizers.L2, "L1L2": regularizers.L1L2}
        if name not in table:
            raise ValueError(f"load_model: unknown regularizer {name!r} in {where}")
        cls = table[name]
    else:
        raise ValueError(f"load_model: cannot read {where} = {value!r}")
    accepted = _accepted_kwargs(cls)
    for key in list(config):
        if accepted is not None and key not in accepted:
            if config[key] in (None, False):
                del config[key]
            else:
                raise ValueError(f"load_model: {where}: {name} has no option {key!r} "
                                 f"(= {config[key]!r}) here")
    return cls(**config)


def _accepted_kwargs(cls) -> set | None:
    """Keyword names ``cls.__init__`` accepts along its MRO (None: accepts anything)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                          p.KEYWORD_ONLY))
        # Layer.__init__ refuses unknown keywords, so it ends the chain like a closed signature.
        if klass.__name__ == "Layer" or not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {"self"}
    return None


def _function_from_config(value, custom_objects: dict, safe_mode: bool, where: str):
    if isinstance(value, dict) and value.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(f"load_model: {where} is a Lambda whose function is serialized "
                             f"bytecode; {_SAFE_MODE_HINT}")
        cfg = value["config"]
        return _load_bytecode(cfg["code"], cfg.get("defaults"), cfg.get("closure"),
                              custom_objects)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        # Keras 2: [base64 code, defaults, closure] with function_type 'lambda'.
        if safe_mode:
            raise ValueError(f"load_model: {where} is a Lambda whose function is serialized "
                             f"bytecode; {_SAFE_MODE_HINT}")
        return _load_bytecode(value[0], value[1] if len(value) > 1 else None,
                              value[2] if len(value) > 2 else None, custom_objects)
    name = value.get("config") if isinstance(value, dict) else value
    if isinstance(name, str) and name in custom_objects:
        return custom_objects[name]
    raise ValueError(f"load_model: {where} names the function {name!r}, which is not in "
                     f"custom_objects; pass custom_objects={{{name!r}: your_function}}")


def _load_bytecode(code: str, defaults, closure, custom_objects: dict):
    import core.tensor as T

    try:
        raw = marshal.loads(base64.b64decode(code.encode("ascii")))
    except (ValueError, EOFError, TypeError) as err:
        raise ValueError(f"load_model: a Lambda's bytecode cannot be read ({err}); it was "
                         f"written by another Python version or is corrupt. Pass the function "
                         f"in custom_objects instead") from err
    if not isinstance(raw, types.CodeType):
        raise ValueError("load_model: a Lambda's serialized function is not Python code")
    from .. import ops  # Keras 3 Lambdas are written with ops

    globs = {"__builtins__": builtins, "T": T, "np": np, "ops": ops, **custom_objects}
    cells = None if closure is None else tuple(types.CellType(c) for c in closure)
    return types.FunctionType(raw, globs, raw.co_name,
                              tuple(defaults) if defaults is not None else None, cells)


def _normalize_value(key: str, value, custom_objects: dict, safe_mode: bool, where: str):
    if key == "dtype" and isinstance(value, dict):
        name = (value.get("config") or {}).get("name")
        if not isinstance(name, str) or name.startswith("mixed"):
            raise ValueError(f"load_model: {where}: unsupported dtype policy {value!r}")
        return name
    if key == "activation" and isinstance(value, dict):
        value = value.get("config")
    if key == "activation" and isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    if key.endswith("_initializer") and isinstance(value, dict):
        return _object_from_dict(value, "initializer", custom_objects, f"{where}.{key}")
    if key.endswith("_regularizer") and isinstance(value, dict):
        return _object_from_dict(value, "regularizer", custom_objects, f"{where}.{key}")
    return value


def layer_from_config(entry: dict, custom_objects: dict, safe_mode: bool):
    """A layer (or nested model) from ``{"class_name", "config"}``."""
    class_name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    where = f"layer {config.get('name', '?')!r} ({class_name})"
    if class_name in ("Sequential", "Functional", "Model"):
        return model_from_config(entry, custom_objects, safe_mode)
    if is_operation_entry(entry):  # e.g. x + 3.0 recorded in a Keras 3 functional model
        return operation_from_config(entry)
    if application_layer(entry) is not None:  # e.g. ConvNeXt's LayerScale
        custom_objects = {class_name: application_layer(entry), **custom_objects}
    cls = _resolve_class(class_name, custom_objects, where)
    if class_name == "InputLayer":
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        if config.get("sparse") or config.get("ragged"):
            raise ValueError(f"load_model: {where}: sparse and ragged inputs are not supported")
        return cls(batch_shape=tuple(shape), dtype=_normalize_value(
            "dtype", config.get("dtype"), custom_objects, safe_mode, where),
                   name=config.get("name"))
    cls, kwargs = _layer_kwargs(cls, class_name, config, custom_objects, safe_mode, where)
    if _overrides_from_config(cls) or class_name in custom_objects:
        return cls.from_config(kwargs)
    return cls(**kwargs)


def _overrides_from_config(cls) -> bool:
    from ..layers.layer import Layer

    return getattr(cls.from_config, "__func__", None) is not Layer.from_config.__func__


def _nested_layer(value, custom_objects: dict, safe_mode: bool):
    """A wrapper's inner layer config (e.g. Bidirectional's 'layer'), normalized like ours."""
    name = value.get("class_name")
    if name in ("Sequential", "Functional", "Model", "InputLayer"):
        return value
    config = dict(value.get("config") or {})
    where = f"layer {config.get('name', '?')!r} ({name})"
    cls = _resolve_class(name, custom_objects, where)
    _, kwargs = _layer_kwargs(cls, name, config, custom_objects, safe_mode, where)
    return {"class_name": name, "config": kwargs}


def _is_layer_dict(value, custom_objects: dict) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("config"), dict)
            and isinstance(value.get("class_name"), str)
            and (value["class_name"] in custom_objects
                 or builtin_layer_class(value["class_name"]) is not None))


def _layer_kwargs(cls, class_name: str, config: dict, custom_objects: dict, safe_mode: bool,
                  where: str):
    """The keyword arguments for ``cls`` from a Keras config: values normalized, keys that
    Keras writes but this library has no use for dropped (when off), others refused."""
    if "function" in config:
        if config.pop("function_type", None) == "lambda" and not isinstance(
                config["function"], (list, tuple)):
            config["function"] = [config["function"]]
        config["function"] = _function_from_config(config["function"], custom_objects,
                                                   safe_mode, where)
    config.pop("batch_input_shape", None)
    kwargs = {}
    for k, v in config.items():
        if k in _IGNORED_KEYS:
            continue
        kwargs[k] = (_nested_layer(v, custom_objects, safe_mode) if _is_layer_dict(
            v, custom_objects) else _normalize_value(k, v, custom_objects, safe_mode, where))
    accepted = _accepted_kwargs(cls) if class_name not in custom_objects else None
    if accepted is not None:
        for key in list(kwargs):
            if key in accepted:
                continue
            gate = _DEPENDENT_KEYS.get(key)
            if kwargs[key] in (None, False, 0, (), [], {}) or (gate and not config.get(gate)):
                del kwargs[key]
            else:
                raise ValueError(f"load_model: {where}: option {key}={kwargs[key]!r} is not "
                                 f"supported by this library's {class_name}")
    return cls, kwargs


def model_from_config(config: dict, custom_objects: dict | None = None,
                      safe_mode: bool = True):
    """A ``Sequential`` or functional ``Model`` from its config (Keras 2 or 3 form)."""
    custom_objects = with_registered(custom_objects)
    class_name = config.get("class_name")
    inner = config.get("config")
    if class_name == "Sequential":
        return _sequential_from_config(inner, custom_objects, safe_mode)
    if class_name in ("Functional", "Model"):
        return _functional_from_config(inner, custom_objects, safe_mode)
    raise ValueError(f"load_model: cannot build a model of class {class_name!r}; only "
                     f"Sequential and functional models have a config")


def _sequential_from_config(config, custom_objects, safe_mode):
    from ..layers.input_layer import InputLayer
    from ..models.sequential import Sequential

    entries = config["layers"] if isinstance(config, dict) else config  # Keras 2.0: a list
    model = Sequential(name=config.get("name") if isinstance(config, dict) else None)
    for i, entry in enumerate(entries):
        layer_config = entry.get("config") or {}
        shape = layer_config.get("batch_input_shape")
        if i == 0 and shape is not None and entry.get("class_name") != "InputLayer":
            model.add(InputLayer(batch_shape=tuple(shape)))
        model.add(layer_from_config(entry, custom_objects, safe_mode))
    if isinstance(config, dict) and model._input_layer is None and config.get(
            "build_input_shape") is not None:
        model.build(tuple(config["build_input_shape"]))
    return model


def _as_refs(value) -> list:
    if value and isinstance(value[0], str):
        return [value]
    return list(value)


class _NotReady(Exception):
    """A node's input comes from a node not created yet."""


def _functional_from_config(config, custom_objects, safe_mode):
    from ..layers.input_layer import InputLayer
    from ..models.functional import Model

    layers, pending = {}, []
    outputs: dict[str, list] = {}
    for entry in config["layers"]:
        layer = layer_from_config(entry, custom_objects, safe_mode)
        name = entry.get("name") or layer.name
        layers[name] = layer
        if isinstance(layer, InputLayer):
            outputs[name] = [[layer.output]]
        else:
            outputs[name] = []
            pending.append((name, list(entry.get("inbound_nodes") or [])))

    def resolve(ref):
        layer_name, node_index, tensor_index = ref[0], int(ref[1]), int(ref[2])
        nodes = outputs.get(layer_name)
        if nodes is None:
            raise ValueError(f"load_model: a node refers to unknown layer {layer_name!r}")
        if node_index >= len(nodes):
            raise _NotReady
        return nodes[node_index][tensor_index]

    def resolve_args(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            return resolve(x["config"]["keras_history"])
        if isinstance(x, list):
            return [resolve_args(e) for e in x]
        if isinstance(x, dict):
            return {k: resolve_args(v) for k, v in x.items()}
        return x

    def call_node(name, node):
        layer = layers[name]
        if isinstance(node, dict):  # Keras 3
            args = resolve_args(node.get("args", []))
            kwargs = {k: v for k, v in resolve_args(node.get("kwargs") or {}).items()
                      if k not in ("training", "mask")}
        else:  # Keras 2: [[layer, node, tensor, kwargs], ...]
            tensors = [resolve(ref) for ref in node]
            kwargs = {k: v for k, v in (node[0][3] if len(node[0]) > 3 else {}).items()
                      if k not in ("training", "mask")}
            args = [tensors[0] if len(tensors) == 1 else tensors]
        from ..layers.layer import flatten_structure

        outputs[name].append(flatten_structure(layer(*args, **kwargs)))

    progress = True
    while pending and progress:
        progress = False
        for name, nodes in pending:
            while nodes:
                try:
                    call_node(name, nodes[0])
                except _NotReady:
                    break
                nodes.pop(0)
                progress = True
        pending = [(n, nodes) for n, nodes in pending if nodes]
    if pending:
        raise ValueError(f"load_model: the config's layer graph cannot be rebuilt; layers "
                         f"{[n for n, _ in pending]} wait for inputs that never come")
    inputs = [resolve(r) for r in _as_refs(config["input_layers"])]
    outs = [resolve(r) for r in _as_refs(config["output_layers"])]
    return Model(inputs[0] if len(inputs) == 1 else inputs, outs[0] if len(outs) == 1 else outs,
                 name=config.get("name"))
