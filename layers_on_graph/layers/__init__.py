"""Layers, one per file, as ``keras.layers``."""
from .activation import Activation
from .add import Add
from .average_pooling2d import AveragePooling2D
from .batch_normalization import BatchNormalization
from .concatenate import Concatenate
from .conv2d import Conv2D
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .global_pooling2d import GlobalAveragePooling2D, GlobalMaxPooling2D
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .layer import Layer
from .layer_normalization import LayerNormalization
from .max_pooling2d import MaxPooling2D
from .multiply import Average, Maximum, Minimum, Multiply
from .permute import Permute
from .recurrent import GRU, LSTM, Bidirectional, Masking, SimpleRNN, TimeDistributed
from .reshape import Reshape
from .subtract import Subtract

Convolution2D = Conv2D
MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D

__all__ = ["Activation", "Add", "Average", "AveragePooling2D", "AvgPool2D", "BatchNormalization",
           "Concatenate", "Conv2D", "Convolution2D", "Dense", "Dropout", "Embedding", "Flatten",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Input", "InputLayer", "Lambda",
           "Layer", "LayerNormalization", "MaxPool2D", "MaxPooling2D", "Maximum", "Minimum",
           "Multiply", "Permute", "Reshape", "Subtract",
           "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed", "Masking"]
