"""Tensor operations between layer outputs in a functional model, as one replayable node.

Keras 3 records ``x + y``, ``2 * h`` or ``ops.mean(h, axis=1)`` written between layer
calls as operation nodes of the functional graph. Here such an expression is found when
the ``Model`` is built: the core graph from the nearest layer outputs (its *sources*) to
the tensor becomes an ``Expression`` node, which ``Model.call`` replays on new inputs. It is
recorded when a layer outside any layer's ``call`` takes the tensor, or when a ``Model``
names it as an output.
"""
from __future__ import annotations

from core.compile.shared import SharedVariable
from core.graph.basic import Constant
from core.graph.utils import clone_replace

from .layer import Layer, Node, static_shape


class Expression(Layer):
    """The operations from ``sources`` (layer outputs) to ``output``, replayed as a layer."""

    def __init__(self, output, sources: list, name: str | None = None):
        super().__init__(name=name)
        self._output, self._sources = output, list(sources)
        self.built = True

    def call(self, inputs):
        inputs = inputs if isinstance(inputs, list) else [inputs]
        [out], _ = clone_replace([self._output], dict(zip(self._sources, inputs)))
        return out

    def compute_output_shape(self, input_shape):
        return static_shape(self._output)

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"{self.name}: a model whose graph has operations between layer outputs "
            f"(x + y, ops.* on layer outputs) cannot be saved whole yet; save_weights works, "
            f"or write the operation as a layer (layers.Add(), layers.Lambda(...))")


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
    layer = Expression(tensor, sources)
    node = Node(layer, (sources if len(sources) > 1 else sources[0],), {}, tensor)
    layer._inbound_nodes.append(node)
    tensor._keras_history = (layer, node, 0)
    return True


def record_all(tensors) -> None:
    """``record`` each symbolic tensor of a layer call's arguments (called outside layers)."""
    for t in tensors:
        if getattr(t, "owner", None) is not None and not _is_boundary(t):
            record(t)
