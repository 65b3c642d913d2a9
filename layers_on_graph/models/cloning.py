"""``clone_model``: the same architecture with new layers (fresh weights), as Keras 3."""
from __future__ import annotations

from typing import Callable

from ..layers.input_layer import Input
from ..layers.layer import Layer, flatten_structure
from .functional import Model
from .sequential import Sequential


def _default_clone(layer: Layer) -> Layer:
    if isinstance(layer, Model):
        return clone_model(layer)
    return layer.__class__.from_config(layer.get_config())


def clone_model(model: Model, input_tensors=None, clone_function: Callable | None = None,
                **kwargs) -> Model:
    """A new model of ``model``'s architecture: each layer replaced by
    ``clone_function(layer)`` (default: a new layer from its config, so fresh weights).

    ``input_tensors`` (``Input()`` tensors) replace the model's inputs. Weights are not
    copied: use ``clone.set_weights(model.get_weights())``.

    Examples
    --------
    >>> twin = models.clone_model(model); twin.set_weights(model.get_weights())
    """
    if kwargs:
        raise TypeError(f"clone_model: unsupported argument(s) {sorted(kwargs)}")
    if not isinstance(model, Model):
        raise ValueError(f"clone_model: expected a Sequential or functional Model, got "
                         f"{type(model).__name__}")
    clone_function = clone_function or _default_clone
    if isinstance(model, Sequential):
        layers = [clone_function(layer) for layer in model.layers]
        if input_tensors is not None:
            layers = flatten_structure(input_tensors)[:1] + layers
        elif model._input_layer is not None:
            source = model._input_layer
            layers = [Input(batch_shape=source.batch_shape, dtype=source.dtype,
                            name=source.name)] + layers
        return Sequential(layers, name=model.name, trainable=model.trainable)
    if not getattr(model, "_functional", False):
        raise ValueError(f"clone_model: {type(model).__name__} is a subclassed Model; only "
                         f"Sequential and functional models can be cloned")
    if input_tensors is None:
        input_tensors = [Input(batch_shape=t.shape, dtype=t.dtype,
                               name=t._keras_history[0].name) for t in model.inputs]
    new_inputs = flatten_structure(input_tensors)
    clones: dict[int, Layer] = {}

    def layer_for(layer: Layer) -> Layer:
        if getattr(layer, "is_operation", False):  # operations (x + y) hold no weights
            return layer
        if id(layer) not in clones:
            clones[id(layer)] = clone_function(layer)
        return clones[id(layer)]

    outputs = model._replay(new_inputs, layer_for)
    nested = model._nested_inputs
    inputs = new_inputs if isinstance(nested, (list, tuple)) else new_inputs[0]
    return Model(inputs, outputs, name=model.name, trainable=model.trainable)
