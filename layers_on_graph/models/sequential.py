"""``Sequential``: a linear stack of layers."""
from __future__ import annotations

from core.graph.basic import Variable

from ..layers.input_layer import InputLayer
from ..layers.layer import Layer, static_shape
from .functional import Model


class Sequential(Model):
    """Layers applied one after the other.

    The model is built (weights created) as soon as its input shape is known: from an
    ``Input(shape=...)`` first element, ``input_shape=`` on the first layer, ``build()``,
    or the data of the first ``fit``/``predict``.

    Examples
    --------
    >>> model = Sequential([layers.Dense(128, activation='relu', input_shape=(64,)),
    ...                     layers.Dense(10, activation='softmax')])
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None):
        Model.__init__(self, name=name, trainable=trainable)
        object.__setattr__(self, "_layers", [])
        object.__setattr__(self, "_input_layer", None)  # not a tracked sublayer
        self.inputs = self.outputs = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list:
        return list(self._layers)

    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer (or an ``Input()`` tensor as the first element)."""
        if isinstance(layer, Variable):
            history = getattr(layer, "_keras_history", None)
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError(f"Sequential.add: expected a layer or an Input(), got {layer}")
            layer = history[0]
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential.add: an Input can only be the first element")
            object.__setattr__(self, "_input_layer", layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, got {layer!r}")
        if any(l is layer for l in self._layers):
            raise ValueError(f"Sequential.add: layer {layer.name!r} is already in the model")
        if not self._layers and self._input_layer is None and layer._input_shape_arg is not None:
            object.__setattr__(self, "_input_layer", InputLayer(
                shape=layer._input_shape_arg, batch_size=layer._batch_size_arg))
        self._layers.append(layer)
        if self._input_layer is not None and rebuild:
            try:
                self._build_graph()
            except Exception:
                self._layers.pop()
                if not self._layers:
                    self.inputs = self.outputs = None
                raise

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise ValueError("Sequential.pop: the model has no layers")
        layer = self._layers.pop()
        self._train_fn = self._test_fn = self._predict_fn = None
        if self._input_layer is not None and self._layers:
            self._build_graph()
        return layer

    def _build_graph(self) -> None:
        x = self._input_layer.output
        for layer in self._layers:
            x = layer(x)
        self.inputs, self.outputs = [self._input_layer.output], [x]
        self.built = True
        self._train_fn = self._test_fn = self._predict_fn = None

    def build(self, input_shape=None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch axis included)."""
        if self._io_ready():
            return
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build: give input_shape (the model has no Input)")
        else:
            object.__setattr__(self, "_input_layer", InputLayer(batch_shape=tuple(input_shape)))
        self._build_graph()

    def _build_from_shape(self, input_shape) -> None:
        self.build(input_shape)

    @property
    def input_names(self) -> list[str]:
        return [self._input_layer.name] if self._input_layer is not None else []

    @property
    def output_names(self) -> list[str]:
        return [self._layers[-1].name] if self._layers else []

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return static_shape(self.outputs[0]) if self.outputs else None

    def _io_ready(self) -> bool:
        return self.inputs is not None and self.outputs is not None

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable,
                "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                           for l in self._layers]}
