"""``keras.ops`` core functions: dtypes and shapes, stop_gradient, control flow, slicing."""
from __future__ import annotations

import builtins

import numpy as np

import core.tensor as T
from core.graph.basic import Variable
from core.ifelse import ifelse
from core.scan import scan as _core_scan
from core.tensor.elemwise import Elemwise
from core.tensor.scalar_ops import Identity
from core.tensor.shape_ops import shape_i

from .. import backend
from .dispatch import keras_op
from .numpy import _t


class _ZeroGradIdentity(Identity):
    """The identity whose gradient is zero (runs as the identity on every backend)."""

    def grad(self, inputs, outputs, gz):
        return [T.zeros_like(inputs[0])]


_stop_gradient = Elemwise(_ZeroGradIdentity())


@keras_op
def stop_gradient(variable):
    """``variable``, seen as a constant by gradients."""
    return _stop_gradient(_t(variable))


@keras_op
def cast(x, dtype):
    """``x`` converted to ``dtype``."""
    return T.cast(_t(x), str(np.dtype(dtype)))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A symbolic tensor stays one (cast to ``dtype``); other values become numpy arrays
    (Python floats: floatx, Python ints: int32, as Keras)."""
    if isinstance(x, Variable):
        return x if dtype is None or x.dtype == str(np.dtype(dtype)) else cast(x, dtype)
    if dtype is None and not isinstance(x, (np.ndarray, np.generic)):
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            dtype = backend.floatx()
        elif arr.dtype.kind in "iu":
            dtype = "int32"
    return np.asarray(x, dtype=None if dtype is None else np.dtype(dtype))


def convert_to_numpy(x) -> np.ndarray:
    """The numpy value of ``x`` (a symbolic tensor has none: TypeError)."""
    if isinstance(x, Variable) and not hasattr(x, "get_value"):
        raise TypeError(f"convert_to_numpy: {x} is symbolic and has no value yet")
    return np.asarray(x.get_value() if isinstance(x, Variable) else x)


def is_tensor(x) -> bool:
    """True for symbolic tensors."""
    return isinstance(x, Variable)


def shape(x) -> tuple:
    """The shape as a tuple: ints where known, symbolic scalars elsewhere (numpy: ints)."""
    if isinstance(x, Variable):
        return tuple(s if s is not None else shape_i(x, d) for d, s in enumerate(x.type.shape))
    return tuple(np.shape(x))


@keras_op
def slice(inputs, start_indices, shape):
    """The block of ``inputs`` starting at ``start_indices`` with extent ``shape``."""
    x = _t(inputs)
    index = tuple(builtins.slice(s, s + n) for s, n in zip(start_indices, shape))
    return x[index]


@keras_op
def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x, u = _t(inputs), _t(updates)
    index = tuple(builtins.slice(s, s + (n if n is not None else shape_i(u, d)))
                  for d, (s, n) in enumerate(zip(start_indices, u.type.shape)))
    return T.set_subtensor(x[index], u)


@keras_op
def unstack(x, num=None, axis: int = 0):
    """The slices of ``x`` along ``axis`` (its size must be static)."""
    x = _t(x)
    axis = axis % x.ndim
    n = x.type.shape[axis] if num is None else num
    if n is None:
        raise ValueError(f"unstack: axis {axis} of {x.type} has no static size; pass num=")
    index = [builtins.slice(None)] * x.ndim
    out = []
    for k in range(n):
        index[axis] = k
        out.append(x[tuple(index)])
    return out


def _flat(x) -> tuple[list, bool]:
    if isinstance(x, (list, tuple)):
        return list(x), True
    return [x], False


@keras_op
def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the chosen branch runs."""
    true_out, false_out = true_fn(), false_fn()
    t_flat, many = _flat(true_out)
    f_flat, _ = _flat(false_out)
    if len(t_flat) != len(f_flat):
        raise ValueError(f"cond: the branches return {len(t_flat)} and {len(f_flat)} values")
    out = ifelse(T.cast(_t(pred), "bool"), [_t(v) for v in t_flat], [_t(v) for v in f_flat])
    out = out if isinstance(out, list) else [out]
    return type(true_out)(out) if many else out[0]


@keras_op
def scan(f, init, xs=None, length=None, reverse: bool = False, unroll=1):
    """``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``; returns
    ``(final carry, stacked ys)``, as ``jax.lax.scan``."""
    carry, carry_many = _flat(init)
    carry = [_t(c) for c in carry]
    seqs, xs_many = _flat(xs) if xs is not None else ([], False)
    seqs = [_t(s) for s in seqs]
    n_carry = len(carry)

    def call(x_now, prev):
        x_arg = (list(x_now) if xs_many else x_now[0]) if seqs else None
        new_carry, y = f(list(prev) if carry_many else prev[0], x_arg)
        y_flat, y_many = _flat(y) if y is not None else ([], False)
        return _flat(new_carry)[0], y_flat, y_many, y is None

    # one probe call on stand-ins counts the ys, which scan does not feed back
    _, y_probe, y_many, y_none = call([s[0] for s in seqs], carry)

    def step(*args):
        new_carry, y_flat, _, _ = call(args[:len(seqs)], args[len(seqs):len(seqs) + n_carry])
        return [_t(c) for c in new_carry] + [_t(v) for v in y_flat]

    kwargs = {"n_steps": length} if length is not None else {}
    outs, _ = _core_scan(step, sequences=seqs, outputs_info=carry + [None] * len(y_probe),
                         go_backwards=reverse, return_list=True, **kwargs)
    final = [o[-1] for o in outs[:n_carry]]
    ys = [y[::-1] for y in outs[n_carry:]] if reverse else outs[n_carry:]
    final_out = type(init)(final) if carry_many else final[0]
    ys_out = None if y_none else (list(ys) if y_many else ys[0])
    return final_out, ys_out


@keras_op
def fori_loop(lower, upper, body_fun, init_val):
    """``body_fun(i, val)`` for ``i`` in ``[lower, upper)``, starting from ``init_val``."""
    vals, many = _flat(init_val)
    vals = [_t(v) for v in vals]

    def step(i, *prev):
        out, _ = _flat(body_fun(i, list(prev) if many else prev[0]))
        return [_t(o) for o in out]

    outs, _ = _core_scan(step, sequences=[T.arange(lower, upper)], outputs_info=vals,
                         return_list=True)
    final = [T.concatenate([T.dimshuffle(v, ["x"] + list(range(v.ndim))), o])[-1]
             for v, o in zip(vals, outs)]
    return type(init_val)(final) if many else final[0]


@keras_op
def map(f, xs):
    """``f`` applied to each slice of ``xs`` along its first axis, stacked."""
    outs, _ = _core_scan(lambda x: f(x), sequences=[_t(xs)])
    return outs


vectorized_map = map


@keras_op
def switch(index, branches, *operands):
    """``branches[index](*operands)``; only the chosen branch runs (index clipped to range)."""
    index = T.clip(T.cast(_t(index), "int64"), 0, len(branches) - 1)
    outs = [branches[-1](*operands)]
    for k in range(len(branches) - 2, -1, -1):
        chosen = branches[k](*operands)
        flat, many = _flat(chosen)
        rest, _ = _flat(outs[0])
        merged = ifelse(T.eq(index, k), [_t(v) for v in flat], [_t(v) for v in rest])
        merged = merged if isinstance(merged, list) else [merged]
        outs = [type(chosen)(merged) if many else merged[0]]
    return outs[0]


@keras_op
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, at most
    ``maximum_iterations`` times (required here: the loop's buffers are sized by it)."""
    if maximum_iterations is None:
        raise ValueError("while_loop: pass maximum_iterations (the symbolic loop needs a bound)")
    from core.scan import until

    vals, many = _flat(loop_vars)
    vals = [_t(v) for v in vals]

    def step(*prev):
        go = T.cast(_t(cond(*prev)), "bool")
        new, _ = _flat(body(*prev))
        new = [T.switch(go, _t(n), p) for n, p in zip(new, prev)]
        return new, until(T.invert(T.cast(_t(cond(*new)), "bool")))

    outs, _ = _core_scan(step, outputs_info=vals, n_steps=int(maximum_iterations),
                         return_list=True)
    final = [T.concatenate([T.dimshuffle(v, ["x"] + list(range(v.ndim))), o])[-1]
             for v, o in zip(vals, outs)]
    final = [T.switch(T.cast(_t(cond(*vals)), "bool"), f, v) for f, v in zip(final, vals)]
    return type(loop_vars)(final) if many else final[0]


@keras_op
def get_item(x, key):
    """``x[key]``."""
    return _t(x)[key]


@keras_op
def saturate_cast(x, dtype):
    """``x`` clipped to ``dtype``'s range, then cast."""
    x = _t(x)
    dtype = str(np.dtype(dtype))
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.finfo(dtype)
    return T.cast(T.clip(x, info.min, info.max), dtype)


def dtype(x) -> str:
    """The dtype name of a tensor or array."""
    return str(x.dtype)
