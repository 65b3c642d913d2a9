"""How every ``ops`` function runs: symbolically on tensors, eagerly on numpy arrays.

Each op is written once, on ``core.tensor``. Called with a symbolic tensor anywhere in
its arguments it returns symbolic tensors (Keras tensors when it got one). Called on
numpy arrays and numbers only, it builds the graph on placeholders shaped like the
arrays, compiles it once per (op, argument shapes and dtypes, other arguments) and
returns numpy arrays, as ``keras.ops`` returns eager tensors.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from core import function
from core.graph.basic import Variable
from core.tensor.type import TensorType

from ..keras_tensor import as_keras_tensor, is_keras_tensor
from ..layers.layer import _TRAINING, flatten_structure as _leaves, map_structure as _map

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 512


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic)) or hasattr(x, "__array__") and not isinstance(
        x, (Variable, str))


def _key_of(x):
    if _is_array(x):
        arr = np.asarray(x)
        return ("array", str(arr.dtype), arr.shape)
    if callable(x):
        return ("callable", id(x))
    return ("value", repr(x))


def keras_op(fn):
    """Make ``fn`` (written on ``core.tensor``) a Keras op: symbolic or eager by its arguments."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        leaves = _leaves((args, kwargs))
        if any(isinstance(x, Variable) for x in leaves):
            out = fn(*args, **kwargs)
            if not any(is_keras_tensor(x) for x in leaves):
                return out
            out = as_keras_tensor(out)
            if isinstance(out, Variable) and not _TRAINING:  # between layers: a graph node
                out._keras_call = (op, args, kwargs)  # (layers/expression.py records it)
            return out
        return _eager(fn, args, kwargs)

    op.symbolic = fn
    return op


def _eager(fn, args, kwargs):
    arrays: list[np.ndarray] = []
    placeholders: list = []

    def to_placeholder(x):
        if not _is_array(x):
            return x
        arr = np.asarray(x)
        arrays.append(arr)
        placeholders.append(TensorType(str(arr.dtype), arr.shape)(f"arg{len(arrays) - 1}"))
        return placeholders[-1]

    key = (fn, tuple(_key_of(x) for x in _leaves((args, kwargs))), _structure_key((args, kwargs)))
    compiled = _CACHE.get(key)
    if compiled is None:
        sym_args, sym_kwargs = _map(to_placeholder, (args, kwargs))
        out = fn(*sym_args, **sym_kwargs)
        flat = [o for o in _leaves(out) if isinstance(o, Variable)]
        f = function(placeholders, flat, on_unused_input="ignore") if flat else None
        compiled = (f, out)
        _CACHE[key] = compiled
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _map(lambda x: arrays.append(np.asarray(x)) if _is_array(x) else None, (args, kwargs))
        _CACHE.move_to_end(key)
    f, out = compiled
    values = iter(f(*arrays) if f is not None else [])
    return _map(lambda o: next(values) if isinstance(o, Variable) else o, out)


def _structure_key(x):
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_structure_key(e) for e in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, _structure_key(v)) for k, v in sorted(x.items())))
    return None
