"""Layers, one per file, as ``keras.layers``."""
from .activation import Activation
from .add import Add
from .batch_normalization import BatchNormalization
from .concatenate import Concatenate
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .layer import Layer
from .layer_normalization import LayerNormalization
from .multiply import Average, Maximum, Minimum, Multiply
from .permute import Permute
from .reshape import Reshape
from .subtract import Subtract

__all__ = ["Activation", "Add", "Average", "BatchNormalization", "Concatenate", "Dense",
           "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "Lambda", "Layer",
           "LayerNormalization", "Maximum", "Minimum", "Multiply", "Permute", "Reshape",
           "Subtract"]
