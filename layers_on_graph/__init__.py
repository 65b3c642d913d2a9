"""layers-on-graph: Keras's API on a Theano-style symbolic core.

Examples
--------
>>> from layers_on_graph import Sequential, layers
>>> model = Sequential([layers.Dense(10, activation='softmax', input_shape=(64,))])
>>> model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
...               metrics=['accuracy'])
"""
from . import (activations, backend, callbacks, initializers, layers, losses, metrics, ops,
               optimizers, regularizers, saving, utils)
from .keras_tensor import KerasTensor
from .layers import Input, Layer
from .layers.keras_variable import Variable
from .models import Model, Sequential
from .saving import load_model, model_from_json

__all__ = ["Sequential", "Model", "Input", "Layer", "KerasTensor", "Variable", "layers",
           "optimizers", "losses", "metrics", "callbacks", "activations", "initializers",
           "regularizers", "backend", "utils", "ops", "saving", "load_model", "model_from_json"]
