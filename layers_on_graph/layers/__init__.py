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
# issue 14: convolution, reshaping, activation, attention and normalization layers
from .attention import Attention
from .average_pooling1d import AveragePooling1D
from .conv1d import Conv1D
from .conv2d_transpose import Conv2DTranspose
from .cropping2d import Cropping2D
from .depthwise_conv2d import DepthwiseConv2D
from .elu import ELU
from .global_pooling1d import GlobalAveragePooling1D, GlobalMaxPooling1D
from .group_normalization import GroupNormalization
from .leaky_relu import LeakyReLU
from .max_pooling1d import MaxPooling1D
from .multi_head_attention import MultiHeadAttention
from .normalization import Normalization
from .prelu import PReLU
from .relu import ReLU
from .rescaling import Rescaling
from .separable_conv2d import SeparableConv2D
from .softmax import Softmax
from .up_sampling2d import UpSampling2D
from .zero_padding2d import ZeroPadding2D

Convolution2D = Conv2D
MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
Convolution1D = Conv1D
MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D

__all__ = ["Activation", "Add", "Average", "AveragePooling2D", "AvgPool2D", "BatchNormalization",
           "Concatenate", "Conv2D", "Convolution2D", "Dense", "Dropout", "Embedding", "Flatten",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Input", "InputLayer", "Lambda",
           "Layer", "LayerNormalization", "MaxPool2D", "MaxPooling2D", "Maximum", "Minimum",
           "Multiply", "Permute", "Reshape", "Subtract",
           "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed", "Masking",
           "Attention", "AveragePooling1D", "AvgPool1D", "Conv1D", "Conv2DTranspose",
           "Convolution1D", "Convolution2DTranspose", "Cropping2D", "DepthwiseConv2D", "ELU",
           "GlobalAveragePooling1D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPooling1D", "GroupNormalization",
           "LeakyReLU", "MaxPool1D", "MaxPooling1D", "MultiHeadAttention", "Normalization",
           "PReLU", "ReLU", "Rescaling", "SeparableConv2D", "SeparableConvolution2D",
           "Softmax", "UpSampling2D", "ZeroPadding2D"]
