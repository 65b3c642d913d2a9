"""The tensor library: types, variables and ops. Import as ``import core.tensor as T``.

Examples
--------
>>> import core.tensor as T
>>> from core import function
>>> x = T.dmatrix('x'); f = function([x], T.exp(x).sum(axis=1))
"""
from ..gradient import Lop, Rop, grad, hessian, jacobian, verify_grad
from . import nnet, shared_randomstreams, signal
from .elemwise import DimShuffle, Elemwise
from .math import *  # noqa: F401,F403  (elementwise functions, reductions, dot)
from .math import CAReduce, Argmax, Argmin, Dot, abs, all, any, max, min, pow, round, sum
from .shape_ops import (Alloc, MakeVector, Rebroadcast, Reshape, Shape, Shape_i, addbroadcast,
                        alloc, dimshuffle, flatten, ones, patternbroadcast, reshape, shape, shape_i,
                        stack, transpose, unbroadcast, zeros)
from .extra import batched_dot, outer, tensordot
from .join import arange, concatenate, eye, repeat, split, tile
from .subtensor import inc_subtensor, set_subtensor
from .type import *  # noqa: F401,F403  (TensorType and the dscalar ... ftensor4 constructors)
from .type import TensorType, tensor
from .variable import TensorConstant, TensorVariable, as_tensor_variable, constant


def _plural(single):
    def make(*names, dtype=None):
        return [single(n) for n in names] if dtype is None else [single(n, dtype) for n in names]

    return make


for _prefix in ("b", "w", "i", "l", "f", "d", "c"):
    for _kind, _plural_name in (("scalar", "scalars"), ("vector", "vectors"),
                                ("matrix", "matrices"), ("row", "rows"), ("col", "cols"),
                                ("tensor3", "tensor3s"), ("tensor4", "tensor4s")):
        globals()[_prefix + _plural_name] = _plural(globals()[_prefix + _kind])
scalars, vectors, matrices = _plural(scalar), _plural(vector), _plural(matrix)  # noqa: F405
