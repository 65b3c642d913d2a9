"""``Model``: a functional graph of layer calls (``Model(inputs, outputs)``) or a subclass
that defines ``call``. It is a ``Layer`` and a ``Trainer`` (compile/fit/evaluate/predict)."""
from __future__ import annotations

from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, Node, flatten_structure, is_symbolic, map_structure, \
    static_shape
from ..layers import expression
from .training import Trainer


class Model(Trainer, Layer):
    """A model. Functional: ``Model(inputs, outputs)`` with several inputs/outputs and shared
    layers. Subclassed: define layers in ``__init__`` and the computation in ``call``.

    Examples
    --------
    >>> inputs = Input(shape=(64,)); h = layers.Dense(32, activation='relu')(inputs)
    >>> model = Model(inputs, layers.Dense(10, activation='softmax')(h))
    """

    def __init__(self, inputs=None, outputs=None, name: str | None = None,
                 trainable: bool = True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._functional = inputs is not None
        if inputs is None:
            if outputs is not None:
                raise ValueError("Model: outputs given without inputs")
            return
        if outputs is None:
            raise ValueError("Model: inputs given without outputs")
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = flatten_structure(inputs)
        self.outputs = flatten_structure(outputs)
        for t in self.inputs:
            history = getattr(t, "_keras_history", None)
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError(f"Model: inputs must come from Input(), got {t}")
        self._nodes = self._collect_nodes()
        object.__setattr__(self, "_layers", self._layers_in_keras_order())
        self.built = True

    def _collect_nodes(self) -> list[Node]:
        """Nodes from the inputs to the outputs in topological order."""
        input_ids = {id(t) for t in self.inputs}
        order: list[Node] = []
        state: dict[int, int] = {}

        def visit(tensor):
            if id(tensor) in input_ids:
                return
            history = getattr(tensor, "_keras_history", None)
            if history is None:
                if not expression.record(tensor):  # x + y between layer outputs
                    raise ValueError(f"Model: tensor {tensor} was not produced by layers "
                                     f"(or operations on their outputs) from Input() tensors")
                history = tensor._keras_history
            node = history[1]
            if isinstance(node.layer, InputLayer):
                raise ValueError(f"Model: the graph needs input {tensor} "
                                 f"({node.layer.name}), which is not in the model's inputs")
            mark = state.get(id(node))
            if mark == 2:
                return
            if mark == 1:
                raise ValueError("Model: the layer graph has a cycle")
            state[id(node)] = 1
            for t in node.input_tensors:
                visit(t)
            state[id(node)] = 2
            order.append(node)

        for out in self.outputs:
            visit(out)
        return order

    def _layers_in_keras_order(self) -> list:
        """Layers sorted as Keras 3's functional map does: by depth from the outputs
        (deepest first), ties broken by first visit in a depth-first walk from the outputs.
        This order fixes ``weights`` and the names of layer groups in weight files."""
        first_seen: dict[int, int] = {}
        layer_of: dict[int, Layer] = {}
        postorder: list = []
        done: set[int] = set()
        input_ids = {id(t) for t in self.inputs}

        def walk(tensor):
            layer, node, _ = tensor._keras_history
            if id(node) in done:
                return
            if id(layer) not in first_seen:
                first_seen[id(layer)] = len(first_seen)
                layer_of[id(layer)] = layer
            if id(tensor) not in input_ids:
                for t in node.input_tensors:
                    walk(t)
            done.add(id(node))
            postorder.append(node)

        for out in self.outputs:
            walk(out)
        node_depth: dict[int, int] = {}
        layer_depth: dict[int, int] = {}
        for node in reversed(postorder):  # consumers before producers, as Keras's map_graph
            depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
            layer_depth[id(node.layer)] = node_depth[id(node)] = depth
            if isinstance(node.layer, InputLayer):
                continue
            for t in node.input_tensors:
                producer = t._keras_history[1]
                node_depth[id(producer)] = max(node_depth.get(id(producer), 0), depth + 1)
        order = sorted(first_seen, key=lambda k: (-layer_depth[k], first_seen[k]))
        return [layer_of[k] for k in order]

    @property
    def layers(self) -> list:
        """The layers, in the order Keras lists them (input layers first for functional);
        operations between layers (``x + y``) are nodes of the graph, not layers, as Keras."""
        return [l for l in self._layers if not getattr(l, "is_operation", False)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or index."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} out of range for {len(self.layers)} "
                                 f"layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; layers: "
                         f"{[l.name for l in self.layers]}")

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        names = []
        for t in self.outputs:
            names.append(t._keras_history[0].name)
        return names

    # Keras 3: a model's own symbolic inputs/outputs and their shapes (one, or a list)
    def _io(self, attr: str):
        tensors = getattr(self, attr, None)
        if not tensors:
            raise AttributeError(f"model {self.name!r} has no {attr} yet: give it an Input or "
                                 f"build it on data first")
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @property
    def input(self):
        return self._io("inputs")

    @property
    def output(self):
        return self._io("outputs")

    @property
    def input_shape(self):
        shapes = [static_shape(t) for t in self._io_list("inputs")]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [static_shape(t) for t in self._io_list("outputs")]
        return shapes[0] if len(shapes) == 1 else shapes

    def _io_list(self, attr: str) -> list:
        value = self._io(attr)
        return value if isinstance(value, list) else [value]

    def build(self, input_shape) -> None:
        if self._functional:
            self.built = True
            return
        super().build(input_shape)

    def call(self, inputs, training=None):
        if not self._functional:
            raise NotImplementedError(f"{type(self).__name__}: a subclassed Model must define "
                                      f"call()")
        return self._replay(inputs, lambda layer: layer, training=training)

    def _replay(self, inputs, layer_for, **call_kwargs):
        """Run the graph's nodes on ``inputs``, calling ``layer_for(layer)`` in place of each
        layer (the identity for ``call``; a copy for ``clone_model``)."""
        flat = flatten_structure(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"{self.name}: expected {len(self.inputs)} input(s), got {len(flat)}")
        mapping = {id(k): v for k, v in zip(self.inputs, flat)}
        def rebind(t):
            return mapping.get(id(t), t) if is_symbolic(t) else t

        for node in self._nodes:
            args = map_structure(rebind, node.args)
            kwargs = {k: map_structure(rebind, v) for k, v in node.kwargs.items()}
            outs = layer_for(node.layer)(*args, **call_kwargs, **kwargs)
            for old, new in zip(node.output_tensors, flatten_structure(outs)):
                mapping[id(old)] = new
        outs = [mapping[id(t)] for t in self.outputs]
        it = iter(outs)
        return map_structure(lambda t: next(it), self._nested_outputs)

    def compute_output_shape(self, input_shape):
        if not self._functional:
            return None
        shapes = [static_shape(t) for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}
