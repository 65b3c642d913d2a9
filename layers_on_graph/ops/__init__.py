"""``layers_on_graph.ops``: Keras 3's ``keras.ops`` on the symbolic core.

Every function works on symbolic tensors (inside ``Layer.call`` and ``Lambda``:
Keras tensors in, Keras tensors out) and eagerly on numpy arrays (returning numpy
arrays; each distinct call signature compiles once). Images are channels-last.

Examples
--------
>>> from layers_on_graph import ops
>>> ops.softmax(np.array([1.0, 2.0]))          # eager: a numpy array
>>> layers.Lambda(lambda x: ops.relu(x) * 2)    # symbolic, inside a model
"""
from . import core, math, nn, numpy
from .core import (cast, cond, convert_to_numpy, convert_to_tensor, fori_loop, is_tensor, map,
                   scan, shape, slice, slice_update, stop_gradient, unstack, vectorized_map)
from .math import erf, logsumexp, rsqrt
from .nn import (average_pool, batch_normalization, binary_crossentropy,
                 categorical_crossentropy, conv, elu, gelu, hard_sigmoid, hard_silu, hard_swish,
                 leaky_relu, log_sigmoid, log_softmax, max_pool, moments, multi_hot, normalize,
                 one_hot, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign,
                 sparse_categorical_crossentropy, swish)
from .numpy import (abs, absolute, add, all, amax, amin, any, append, arange, arccos, arccosh,
                    arcsin, arcsinh, arctan, arctan2, arctanh, argmax, argmin, average,
                    broadcast_to, ceil, clip, concatenate, copy, cos, cosh, count_nonzero,
                    cumprod, cumsum, diag, diagonal, diff, divide, dot, empty, equal, exp,
                    expand_dims, expm1, eye, flip, floor, floor_divide, full, full_like, greater,
                    greater_equal, hstack, identity, inner, isclose, isfinite, isinf, isnan,
                    less, less_equal, linspace, log, log1p, log2, log10, logaddexp, logical_and,
                    logical_not, logical_or, logical_xor, matmul, max, maximum, mean, meshgrid,
                    min, minimum, mod, moveaxis, multiply, nan_to_num, ndim, negative,
                    not_equal, ones, ones_like, outer, pad, power, prod, ravel, reciprocal,
                    repeat, reshape, roll, round, sign, sin, sinh, size, split, sqrt, square,
                    squeeze, stack, std, subtract, sum, swapaxes, take, take_along_axis, tan,
                    tanh, tensordot, tile, trace, transpose, tri, tril, triu, true_divide, var,
                    vdot, vstack, where, zeros, zeros_like)
