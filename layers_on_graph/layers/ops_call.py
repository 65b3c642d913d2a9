"""A ``layers_on_graph.ops`` call between layer outputs, as Keras 3 records and saves it.

``ops.mean(h, axis=1)`` on a layer's output is, in a Keras 3 functional config, the node
``{"module": "keras.src.ops.numpy", "class_name": "Mean", "config": {"axis": 1, ...}}``
whose arguments are the tensors. ``OpsCall`` replays such a call (made here, or read from
a Keras file) with the same function of ``layers_on_graph.ops``.
"""
from __future__ import annotations

import inspect

from .layer import Layer, flatten_structure, is_symbolic

# ops modules here -> the keras.src.ops module that defines the same operation class
_KERAS_MODULES = {"numpy": "numpy", "numpy_arrays": "numpy", "numpy_composed": "numpy",
                  "numpy_more": "numpy", "numpy_products": "numpy", "nn": "nn", "core": "core",
                  "math": "math"}


def _class_name(function_name: str) -> str:
    return "".join(part.capitalize() for part in function_name.split("_"))


def _function_name(class_name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name)
    return out.lstrip("_")


class OpsCall(Layer):
    """One ``ops`` function applied to tensors, its other arguments fixed (``config``)."""

    is_operation = True  # a node of the functional graph, not one of ``model.layers``

    def __init__(self, op, config: dict | None = None, name: str | None = None):
        super().__init__(name=name)
        self._op, self._config = op, dict(config or {})
        self.built = True

    def call(self, *tensors):
        return self._op(*tensors, **self._config)

    def keras_entry(self) -> dict:
        """This node's entry in a Keras 3 functional config."""
        module = _KERAS_MODULES.get(self._op.__module__.rsplit(".", 1)[-1], "numpy")
        return {"module": f"keras.src.ops.{module}", "class_name": _class_name(self._op.__name__),
                "config": {"name": self.name, **self._config}, "registered_name": None}

    def get_config(self) -> dict:
        return {"name": self.name, **self._config}


def from_call(op, args: tuple, kwargs: dict):
    """``(OpsCall, tensor arguments)`` for ``op(*args, **kwargs)``, or None where the tensors
    are not the leading arguments (they are passed positionally when the node replays)."""
    try:
        bound = inspect.signature(op).bind(*args, **kwargs)
    except TypeError:
        return None
    tensors, config = [], {}
    for name, value in bound.arguments.items():
        if any(is_symbolic(t) for t in flatten_structure(value)):
            if config:
                return None
            tensors.append(value)
        else:
            config[name] = value
    return OpsCall(op, config), tensors


def from_entry(entry: dict) -> OpsCall | None:
    """The ``OpsCall`` of a Keras operation entry, or None where ``ops`` has no such function."""
    from .. import ops

    config = dict(entry.get("config") or {})
    name = config.pop("name", None)
    op = getattr(ops, _function_name(str(entry.get("class_name", ""))), None)
    if op is None:
        return None
    params = inspect.signature(op).parameters
    unknown = [k for k, v in config.items() if k not in params and v is not None]
    if unknown:
        raise ValueError(f"load_model: operation {entry.get('class_name')} (node {name!r}): "
                         f"arguments {unknown} are not supported by ops.{op.__name__}")
    return OpsCall(op, {k: v for k, v in config.items() if k in params}, name=name)
