"""Keras 3 operations recorded in functional configs, as layers.

A Keras 3 functional model records ``x + 3.0`` or ``x * (1 / 6)`` on a Keras tensor as an
operation node (``{"module": "keras.src.ops.numpy", "class_name": "Add"}``, args a tensor
and a number); MobileNetV3 is built that way. ``KerasOperation`` replays such a node with
the core's elementwise functions and writes it back in Keras's form.
"""
from __future__ import annotations

import operator

import core.tensor as T

from ..layers.layer import Layer, is_symbolic
from ..layers.merging import broadcastable

_OPERATIONS = {
    "keras.src.ops.numpy": {
        "Add": operator.add, "Subtract": operator.sub, "Multiply": operator.mul,
        "Divide": operator.truediv, "TrueDivide": operator.truediv, "Power": operator.pow,
        "Maximum": T.maximum, "Minimum": T.minimum, "Negative": operator.neg,
        "Abs": abs, "Exp": T.exp, "Log": T.log, "Sqrt": T.sqrt, "Square": T.sqr,
        "Tanh": T.tanh},
    "keras.src.ops.nn": {"Sigmoid": T.nnet.sigmoid, "Relu": lambda x: T.maximum(x, 0)},
}


def is_operation_entry(entry: dict) -> bool:
    return str(entry.get("module", "")).startswith("keras.src.ops")


def operation_from_config(entry: dict) -> "KerasOperation":
    module, name = entry.get("module"), entry.get("class_name")
    fn = _OPERATIONS.get(module, {}).get(name)
    config = entry.get("config") or {}
    if fn is None:  # any other keras.ops call: the same function of layers_on_graph.ops
        from ..layers.ops_call import from_entry

        call = from_entry(entry)
        if call is not None:
            return call
        supported = sorted(f"{m}.{n}" for m, table in _OPERATIONS.items() for n in table)
        raise ValueError(f"load_model: operation {module}.{name} (node {config.get('name')!r}) "
                         f"is not supported; supported operations: {supported}")
    return KerasOperation(module, name, fn, name=config.get("name"))


def _broadcast(shapes) -> tuple:
    """numpy's broadcast of static shapes (None where unknown)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(ndim):
        dims = [s[len(s) - ndim + d] for s in shapes if len(s) - ndim + d >= 0]
        known = {n for n in dims if n not in (None, 1)}
        out.append(known.pop() if len(known) == 1 else (1 if all(n == 1 for n in dims)
                                                       else None))
    return tuple(out)


class KerasOperation(Layer):
    """One recorded operation node: tensors and Python numbers in, one tensor out."""

    is_operation = True  # a node of the functional graph, not one of ``model.layers``

    def __init__(self, module: str, operation: str, fn, name: str | None = None):
        super().__init__(name=name)
        self.module, self.operation, self._fn = module, operation, fn
        self._layout: list = []
        self.built = True

    def __call__(self, *args, **kwargs):
        self._layout = [None if is_symbolic(a) else a for a in args]
        tensors = [a for a in args if is_symbolic(a)]
        out = super().__call__(tensors[0] if len(tensors) == 1 else tensors, **kwargs)
        if self._inbound_nodes and self._inbound_nodes[-1].outputs is out:
            self._inbound_nodes[-1].args = tuple(args)  # saved as Keras wrote it
        return out

    def call(self, inputs):
        tensors = iter(broadcastable(inputs) if isinstance(inputs, list) else [inputs])
        return self._fn(*[next(tensors) if a is None else a for a in self._layout])

    def compute_output_shape(self, input_shape):
        shapes = iter(input_shape if self._layout.count(None) > 1 else [input_shape])
        return _broadcast([tuple(next(shapes)) if a is None else () for a in self._layout])

    def keras_entry(self) -> dict:
        """This node's entry in a Keras 3 functional config."""
        return {"module": self.module, "class_name": self.operation,
                "config": {"name": self.name}, "registered_name": None}

    def get_config(self) -> dict:
        return {"name": self.name}



