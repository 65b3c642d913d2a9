"""Tensor operations between layer outputs in a functional model, as one replayable node.

Keras 3 records ``x + y``, ``2 * h`` or ``ops.mean(h, axis=1)`` written between layer
calls as operation nodes of the functional graph. Here such an expression is found when
the ``Model`` is built: the core graph from the nearest layer outputs (its *sources*) to
the tensor becomes an ``Expression`` node, which ``Model.call`` replays on new inputs. It is
recorded when a layer outside any layer's ``call`` takes the tensor, or when a ``Model``
names it as an output.
"""
from __future__ import annotations

import numpy as np

from core.compile.shared import SharedVariable
from core.graph.basic import Constant
from core.graph.utils import clone_replace
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import DimShuffle, Elemwise

from .layer import Layer, Node, flatten_structure, is_symbolic


class Expression(Layer):
    """The operations from ``sources`` (layer outputs) to ``output``, replayed as a layer."""

    is_operation = True  # a node of the functional graph, not one of ``model.layers``

    def __init__(self, output, sources: list, name: str | None = None):
        super().__init__(name=name)
        self._output, self._sources = output, list(sources)
        self.built = True

    def call(self, inputs):
        inputs = inputs if isinstance(inputs, list) else [inputs]
        [out], _ = clone_replace([self._output], dict(zip(self._sources, inputs)))
        return out

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"{self.name}: a model whose graph has core.tensor operations between layer "
            f"outputs that Keras has no name for cannot be saved whole; save_weights works, "
            f"or write them with layers_on_graph.ops or as a layer (layers.Lambda(...))")


# elementwise operations Keras 3 saves as operation nodes (``keras.src.ops.*``)
_KERAS_OPERATIONS = {
    ps.Add: ("numpy", "Add"), ps.Sub: ("numpy", "Subtract"), ps.Mul: ("numpy", "Multiply"),
    ps.TrueDiv: ("numpy", "Divide"), ps.Pow: ("numpy", "Power"),
    ps.Maximum: ("numpy", "Maximum"), ps.Minimum: ("numpy", "Minimum"),
    ps.Neg: ("numpy", "Negative"), ps.Abs: ("numpy", "Abs"), ps.Exp: ("numpy", "Exp"),
    ps.Log: ("numpy", "Log"), ps.Sqrt: ("numpy", "Sqrt"), ps.Sqr: ("numpy", "Square"),
    ps.Tanh: ("numpy", "Tanh"), ps.Sigmoid: ("nn", "Sigmoid")}


def _number(v):
    """The Python number a scalar constant (perhaps broadcast by dimshuffles) holds, or None."""
    while v.owner is not None and isinstance(v.owner.op, DimShuffle):
        v = v.owner.inputs[0]
    if isinstance(v, Constant) and np.size(v.data) == 1:
        return np.asarray(v.data).item()
    return None


def _keras_operation(tensor, sources):
    """A Keras operation node (saved as Keras saves it) for one elementwise operation on
    ``sources`` and numbers, with its arguments; None for anything else."""
    from ..saving.keras_operations import operation_from_config

    node = tensor.owner
    if not isinstance(node.op, Elemwise) or type(node.op.scalar_op) not in _KERAS_OPERATIONS:
        return None
    if len(node.inputs) > 2 or len(sources) != sum(1 for i in node.inputs if _is_source(i,
                                                                                      sources)):
        return None
    args = [i if _is_source(i, sources) else _number(i) for i in node.inputs]
    if any(a is None for a in args):
        return None
    module, name = _KERAS_OPERATIONS[type(node.op.scalar_op)]
    layer = operation_from_config({"module": f"keras.src.ops.{module}", "class_name": name,
                                   "config": {}})
    layer._layout = [None if _is_source(a, sources) else a for a in args]
    return layer, args


def _is_source(v, sources) -> bool:
    return any(v is s for s in sources)


def _is_boundary(v) -> bool:
    return hasattr(v, "_keras_history")


def record(tensor) -> bool:
    """Give ``tensor`` (made by an operation on Keras tensors, not by a layer) an
    ``Expression`` node whose inputs are the Keras tensors the operation took, recording
    those first: one node per operation, as Keras 3's graph has (its layer order follows).

    False, and nothing recorded, where the tensor depends on another kind of variable or
    on no layer output at all."""
    from ..keras_tensor import is_keras_tensor

    if _is_boundary(tensor) or getattr(tensor, "owner", None) is None:
        return _is_boundary(tensor)
    call = getattr(tensor, "_keras_call", None)
    if call is not None and _record_ops_call(tensor, *call):
        return True
    sources: list = []
    seen: set[int] = set()
    stack = list(reversed(tensor.owner.inputs))
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if _is_boundary(v) or (is_keras_tensor(v) and v.owner is not None and record(v)):
            sources.append(v)
        elif v.owner is not None:
            stack.extend(reversed(v.owner.inputs))
        elif not isinstance(v, (Constant, SharedVariable)):
            return False  # a plain core variable: not a functional graph
    if not sources:
        return False
    layer, args = _keras_operation(tensor, sources) or (
        Expression(tensor, sources), (sources if len(sources) > 1 else sources[0],))
    node = Node(layer, tuple(args), {}, tensor)
    layer._inbound_nodes.append(node)
    tensor._keras_history = (layer, node, 0)
    return True


def _record_ops_call(tensor, op, args, kwargs) -> bool:
    """Record ``tensor = op(*args, **kwargs)`` (an ``ops`` call) as Keras records it."""
    from .ops_call import from_call

    made = from_call(op, args, kwargs)
    if made is None:
        return False
    layer, tensors = made
    leaves = [t for t in flatten_structure(tensors) if is_symbolic(t)]
    if not all(_is_boundary(t) or record(t) for t in leaves):
        return False
    node = Node(layer, tuple(tensors), {}, tensor)
    layer._inbound_nodes.append(node)
    tensor._keras_history = (layer, node, 0)
    return True


def record_all(tensors) -> None:
    """``record`` each symbolic tensor of a layer call's arguments (called outside layers)."""
    for t in tensors:
        if getattr(t, "owner", None) is not None and not _is_boundary(t):
            record(t)
