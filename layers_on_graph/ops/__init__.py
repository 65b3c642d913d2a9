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
from . import core, math, nn, numpy, numpy_arrays, numpy_composed, numpy_more, numpy_products
from .core import (cast, cond, convert_to_numpy, convert_to_tensor, dtype, fori_loop, get_item,
                   is_tensor, map, saturate_cast, scan, shape, slice, slice_update,
                   stop_gradient, switch, unstack, vectorized_map, while_loop)
from .math import (erf, in_top_k, logsumexp, rsqrt, segment_max, segment_min, segment_prod,
                   segment_sum, top_k)
from .nn import (average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy,
                 celu, conv, depth_to_space, depthwise_conv, dot_product_attention, elu, gelu, glu,
                 hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh, layer_normalization,
                 leaky_relu, log_sigmoid, log_softmax, max_pool, moments, multi_hot, normalize,
                 one_hot, psnr, relu, relu6, rms_normalization, selu, separable_conv, sigmoid,
                 silu, soft_shrink, softmax, softplus, softsign, space_to_depth,
                 sparse_categorical_crossentropy, sparse_plus, sparse_sigmoid, squareplus, swish,
                 tanh_shrink, threshold)
from .numpy_composed import (allclose, argsort, array, bitwise_and, bitwise_invert, bitwise_not,
                             bitwise_or, bitwise_xor, cbrt, conj, conjugate, cross, deg2rad,
                             divide_no_nan, einsum, empty_like, erfc, exp2, fabs, fliplr, flipud,
                             fmax, fmin, fmod, heaviside, hsplit, hypot, isneginf, isposinf, kron,
                             logaddexp2, logspace, nanmax, nanmean, nanmin, nanprod, nansum,
                             norm, ptp, rad2deg, real, rot90, select, signbit, sinc, sort,
                             trapezoid, trunc, vsplit)
from .numpy import (abs, absolute, add, all, amax, amin, any, arccos, arccosh, arcsin, arcsinh,
                    arctan, arctan2, arctanh, argmax, argmin, average, ceil, clip,
                    count_nonzero, cos, cosh, cumprod, cumsum, divide, equal, exp, expm1, floor,
                    floor_divide, greater, greater_equal, isclose, isfinite, isinf, isnan, less,
                    less_equal, log, log1p, log2, log10, logaddexp, logical_and, logical_not,
                    logical_or, logical_xor, max, maximum, mean, min, minimum, mod, multiply,
                    nan_to_num, negative, not_equal, power, prod, reciprocal, round, sign, sin,
                    sinh, sqrt, square, std, subtract, sum, tan, tanh, true_divide, var, where)
from .numpy_arrays import (append, arange, broadcast_to, concatenate, copy, diag, diagonal,
                           diff, empty, expand_dims, eye, flip, full, full_like, hstack,
                           identity, linspace, meshgrid, moveaxis, ndim, ones, ones_like, pad,
                           ravel, repeat, reshape, roll, size, split, squeeze, stack, swapaxes,
                           take, take_along_axis, tile, trace, transpose, tri, tril, triu,
                           vstack, zeros, zeros_like)
from .numpy_products import dot, inner, matmul, outer, tensordot, vdot
from .numpy_more import (array_split, bartlett, blackman, cdist, diagflat, digitize, dsplit,
                         dstack, geomspace, hamming, hanning, imag, isin, isreal, kaiser, median,
                         nanstd, nanvar, percentile, quantile, scatter, scatter_update,
                         searchsorted, unravel_index, vander)
