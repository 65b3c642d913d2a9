"""Indexing: basic (a view), advanced (integer arrays, boolean masks), set/inc_subtensor.

An index is described statically by ``idx_list``, one entry per index item:

- ``None``: a new axis (``np.newaxis``);
- ``"i"``: an integer scalar (one input);
- ``("s", start, stop, step)``: a slice; each flag is True when that bound is given (one
  input each), False for ``None``;
- ``"a"``: an integer array (one input, advanced indexing);
- ``"b"``: a boolean mask (one input, advanced; consumes ``mask.ndim`` axes).

The index values themselves (constants or symbolic scalars/arrays) are the op's inputs
after ``x`` (and after ``y`` for the inc/set ops), so a symbolic bound like ``x[:n]``
needs nothing special.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Constant, Op, Variable
from ..graph.trace import format_trace, user_frame
from .type import TensorType
from .variable import as_tensor_variable, constant

# --- parsing an index ------------------------------------------------------


def _scalar_index(v, what: str) -> Variable:
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{what}: a boolean ({v!r}) is not a valid index here")
    if isinstance(v, (int, np.integer)):
        return constant(int(v), dtype="int64")
    v = as_tensor_variable(v)
    if v.ndim != 0 or np.dtype(v.dtype).kind not in "iu":
        raise TypeError(f"{what}: slice bounds and scalar indices must be integer scalars, "
                        f"got {v} ({v.type})")
    return v


def _parse(x: Variable, index) -> tuple[tuple, list[Variable]]:
    """Turn a Python index into ``(idx_list, index inputs)``."""
    what = f"indexing {x.type}"
    items = list(index) if isinstance(index, tuple) else [index]
    entries, inputs, consumed = [], [], 0
    for item in items:
        if item is None or item is Ellipsis:
            entries.append(item)
            continue
        consumed += 1
        if isinstance(item, slice):
            flags = []
            for bound in (item.start, item.stop, item.step):
                flags.append(bound is not None)
                if bound is not None:
                    inputs.append(_scalar_index(bound, what))
            entries.append(("s", *flags))
        elif isinstance(item, (int, float, np.number, bool, np.bool_)) or (
                isinstance(item, Variable) and item.ndim == 0):
            entries.append("i")
            inputs.append(_scalar_index(item, what))
        else:
            if not isinstance(item, Variable):
                arr = np.asarray(item)
                if arr.size == 0 or arr.dtype.kind in "iu":
                    arr = arr.astype("int64")
                item = constant(arr)
            item = as_tensor_variable(item)
            kind = np.dtype(item.dtype).kind
            if kind not in "biu":
                raise TypeError(f"{what}: index arrays must be integers or booleans, got "
                                f"{item.type}, at {format_trace(user_frame())}")
            entries.append("b" if kind == "b" else "a")
            consumed += item.ndim - 1 if kind == "b" else 0
            inputs.append(item)
    if entries.count(Ellipsis) > 1:
        raise IndexError(f"{what}: an index can only have a single ellipsis ('...')")
    if consumed > x.ndim:
        raise IndexError(f"{what}: too many indices: {consumed} for a tensor of {x.ndim} "
                         f"dimensions, at {format_trace(user_frame())}")
    fill = [("s", False, False, False)] * (x.ndim - consumed)
    k = entries.index(Ellipsis) if Ellipsis in entries else len(entries)
    entries[k:k + 1] = fill
    return tuple(entries), inputs


def _is_advanced(idx_list) -> bool:
    return any(e in ("a", "b") for e in idx_list)


# --- static shapes -----------------------------------------------------------


def _const_int(v: Variable) -> int | None:
    return int(v.data) if isinstance(v, Constant) else None


def _slice_length(n: int | None, bounds: list, name: str) -> int | None:
    step = bounds[2]
    if step is not None and _const_int(step) == 0:
        raise ValueError(f"{name}: slice step cannot be zero, at {format_trace(user_frame())}")
    if n is None:
        return None
    values = [None if b is None else _const_int(b) for b in bounds]
    if any(b is not None and v is None for b, v in zip(bounds, values)):
        return None
    return len(range(*slice(*values).indices(n)))


def _check_int(value: int | None, n: int | None, axis: int, x, name: str) -> None:
    if value is not None and n is not None and not -n <= value < n:
        raise IndexError(f"{name}: index {value} is out of bounds for axis {axis} with size {n} "
                         f"({x.type}), at {format_trace(user_frame())}")


def _broadcast_static(shapes: list[tuple]) -> tuple:
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(ndim):
        dims = [s[len(s) - ndim + d] for s in shapes if len(s) - ndim + d >= 0]
        known = [s for s in dims if s is not None and s != 1]
        if len(set(known)) > 1:
            raise IndexError(f"advanced indexing: index arrays of shapes {shapes} cannot be "
                             f"broadcast together, at {format_trace(user_frame())}")
        if known:
            out.append(known[0])
        elif all(s == 1 for s in dims):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _out_shape(x: Variable, idx_list: tuple, inputs: list[Variable], name: str) -> tuple:
    """Static shape of ``x[index]`` (numpy's rules, None where only run time knows)."""
    advanced = _is_advanced(idx_list)
    shape, it, axis = x.type.shape, iter(inputs), 0
    pieces = []  # per entry: ("basic", dims) or ("adv", index shape)
    for e in idx_list:
        if e is None:
            pieces.append(("basic", (1,)))
        elif e == "i":
            v = next(it)
            _check_int(_const_int(v), shape[axis], axis, x, name)
            pieces.append(("adv", ()) if advanced else ("basic", ()))
            axis += 1
        elif isinstance(e, tuple):
            bounds = [next(it) if flag else None for flag in e[1:]]
            pieces.append(("basic", (_slice_length(shape[axis], bounds, name),)))
            axis += 1
        elif e == "a":
            v = next(it)
            if isinstance(v, Constant) and v.data.size and shape[axis] is not None:
                lo, hi = int(v.data.min()), int(v.data.max())
                _check_int(lo, shape[axis], axis, x, name)
                _check_int(hi, shape[axis], axis, x, name)
            pieces.append(("adv", v.type.shape))
            axis += 1
        else:  # boolean mask
            v = next(it)
            for d in range(v.ndim):
                m, n = v.type.shape[d], shape[axis + d]
                if m is not None and n is not None and m != n:
                    raise IndexError(f"{name}: boolean mask of shape {v.type.shape} does not match "
                                     f"axis {axis + d} of size {n} ({x.type}), at "
                                     f"{format_trace(user_frame())}")
            count = int(np.count_nonzero(v.data)) if isinstance(v, Constant) else None
            pieces.append(("adv", (count,)))
            axis += v.ndim
    adv_positions = [k for k, p in enumerate(pieces) if p[0] == "adv"]
    if not adv_positions:
        return tuple(d for p in pieces for d in p[1])
    adv_shape = _broadcast_static([p[1] for p in pieces if p[0] == "adv"])
    contiguous = adv_positions[-1] - adv_positions[0] + 1 == len(adv_positions)
    out = [] if contiguous else list(adv_shape)
    for k, p in enumerate(pieces):
        if p[0] == "basic":
            out.extend(p[1])
        elif contiguous and k == adv_positions[0]:
            out.extend(adv_shape)
    return tuple(out)


# --- runtime index construction (used by the kernels) --------------------------


def index_builder(idx_list: tuple, index_inputs: list[Variable]):
    """A function ``build(index_values) -> numpy index tuple``; constants are baked in."""
    consts = [v.data if isinstance(v, Constant) else None for v in index_inputs]
    if all(c is not None for c in consts):
        fixed = _assemble(idx_list, consts)
        return lambda values: fixed
    return lambda values: _assemble(idx_list, values)


def _assemble(idx_list: tuple, values) -> tuple:
    out, it = [], iter(values)
    for e in idx_list:
        if e is None:
            out.append(None)
        elif e == "i":
            out.append(int(next(it)))
        elif isinstance(e, tuple):
            out.append(slice(*[int(next(it)) if flag else None for flag in e[1:]]))
        else:
            out.append(next(it))
    return tuple(out)


# --- the ops -------------------------------------------------------------------


def _describe(idx_list) -> str:
    parts = []
    for e in idx_list:
        if e is None:
            parts.append("None")
        elif isinstance(e, tuple):
            parts.append(":".join("v" if f else "" for f in e[1:3]) + (":v" if e[3] else ""))
        else:
            parts.append({"i": "int", "a": "int[]", "b": "bool[]"}[e])
    return ", ".join(parts)


def _index_text(idx_list, args: list[str]) -> str:
    """``1:n, ::2`` for printing an index whose inputs render as ``args``."""
    it, parts = iter(args), []
    for e in idx_list:
        if e is None:
            parts.append("None")
        elif isinstance(e, tuple):
            start, stop, step = (next(it) if flag else "" for flag in e[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if e[3] else ""))
        else:
            parts.append(next(it))
    while len(parts) > 1 and parts[-1] == ":":
        parts.pop()
    return ", ".join(parts)


def _sum_to(g: Variable, y: Variable) -> Variable:
    """Reduce a gradient shaped like ``x[index]`` to the (broadcast) shape of ``y``."""
    from .math import cast, sum as sum_

    lead = g.ndim - y.ndim
    if lead:
        g = sum_(g, axis=list(range(lead)))
    axes = [d for d in range(y.ndim) if y.type.shape[d] == 1 and g.type.shape[d] != 1]
    if axes:
        g = sum_(g, axis=axes, keepdims=True)
    return cast(g, y.dtype)


class Subtensor(Op):
    """Basic indexing (ints, slices, new axes): a view of ``x``."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}
    name = "Subtensor"

    def __init__(self, idx_list: tuple):
        self.idx_list = tuple(idx_list)

    def make_node(self, x, *index) -> Apply:
        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index]
        shape = _out_shape(x, self.idx_list, index, "Subtensor")
        return Apply(self, [x, *index], [TensorType(x.dtype, shape)()])

    def L_op(self, inputs, outputs, gz):
        from .math import zeros_like

        x, index = inputs[0], inputs[1:]
        if np.dtype(x.dtype).kind not in "fc":
            return [None] * len(inputs)
        gx = IncSubtensor(self.idx_list)(zeros_like(x), gz[0], *index)
        return [gx] + [None] * len(index)

    def __str__(self):
        return f"Subtensor{{{_describe(self.idx_list)}}}"

    def pp_format(self, args: list[str]) -> str:
        return f"{args[0]}[{_index_text(self.idx_list, args[1:])}]"


class AdvancedSubtensor(Subtensor):
    """Advanced indexing with integer arrays and/or boolean masks (a copy)."""

    view_map = {}
    name = "AdvancedSubtensor"

    def make_node(self, x, *index) -> Apply:
        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index]
        shape = _out_shape(x, self.idx_list, index, "AdvancedSubtensor")
        return Apply(self, [x, *index], [TensorType(x.dtype, shape)()])

    def L_op(self, inputs, outputs, gz):
        from .math import zeros_like

        x, index = inputs[0], inputs[1:]
        if np.dtype(x.dtype).kind not in "fc":
            return [None] * len(inputs)
        gx = AdvancedIncSubtensor(self.idx_list)(zeros_like(x), gz[0], *index)
        return [gx] + [None] * len(index)

    def __str__(self):
        return f"AdvancedSubtensor{{{_describe(self.idx_list)}}}"


class IncSubtensor(Op):
    """``x`` with ``x[index]`` incremented by (or, with ``set_instead_of_inc``, set to) ``y``."""

    __props__ = ("idx_list", "set_instead_of_inc")
    sub_op = Subtensor

    def __init__(self, idx_list: tuple, set_instead_of_inc: bool = False):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def make_node(self, x, y, *index) -> Apply:
        from .math import cast

        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index]
        name = "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"
        if not isinstance(y, Variable):  # a Python/numpy value takes x's dtype if it fits
            value = np.asarray(y)
            if not np.can_cast(value.dtype, x.dtype, "same_kind"):
                raise TypeError(f"{name}: cannot put {y!r} into a tensor of dtype {x.dtype}, at "
                                f"{format_trace(user_frame())}")
            y = constant(value.astype(x.dtype))
        y = as_tensor_variable(y)
        if y.dtype != x.dtype:
            if not np.can_cast(y.dtype, x.dtype, "same_kind"):
                raise TypeError(f"{name}: cannot put values of dtype {y.dtype} into a tensor of "
                                f"dtype {x.dtype}, at {format_trace(user_frame())}")
            y = cast(y, x.dtype)
        target = _out_shape(x, self.idx_list, index, name)
        if y.ndim > len(target):
            raise ValueError(f"{name}: the value has {y.ndim} dimensions ({y.type}) but "
                             f"x[index] has {len(target)} ({target}), at {format_trace(user_frame())}")
        for ys, ts in zip(y.type.shape, target[len(target) - y.ndim:]):
            if ys is not None and ts is not None and ys != ts and ys != 1:
                raise ValueError(f"{name}: a value of shape {y.type.shape} cannot be broadcast "
                                 f"to x[index] of shape {target}, at {format_trace(user_frame())}")
        return Apply(self, [x, y, *index], [x.type()])

    def L_op(self, inputs, outputs, gz):
        x, y, index = inputs[0], inputs[1], inputs[2:]
        (g,) = gz
        if np.dtype(x.dtype).kind not in "fc":
            return [None] * len(inputs)
        if self.set_instead_of_inc:
            gx = type(self)(self.idx_list, True)(g, constant(0, dtype=g.dtype), *index)
        else:
            gx = g
        gy = _sum_to(self.sub_op(self.idx_list)(g, *index), y)
        return [gx, gy] + [None] * len(index)

    def pp_format(self, args: list[str]) -> str:
        fn = "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"
        return f"{fn}({args[0]}[{_index_text(self.idx_list, args[2:])}], {args[1]})"

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{type(self).__name__.replace('Inc', kind)}{{{_describe(self.idx_list)}}}"


class AdvancedIncSubtensor(IncSubtensor):
    """Advanced ``inc``/``set``: repeated indices accumulate, as ``np.add.at``."""

    sub_op = AdvancedSubtensor


# --- public API ------------------------------------------------------------------


def getitem(x: Variable, index) -> Variable:
    """``x[index]``: numpy's basic and advanced indexing on a symbolic tensor.

    Examples
    --------
    >>> x = T.dmatrix('x'); x[1:3, ::-1]; x[[0, 2]]; x[x > 0]
    """
    from .shape_ops import Shape, shape_i

    x = as_tensor_variable(x)
    if (x.owner is not None and isinstance(x.owner.op, Shape)
            and isinstance(index, (int, np.integer)) and not isinstance(index, bool)):
        n = x.type.shape[0]
        if n is not None and not -n <= int(index) < n:
            raise IndexError(f"shape: index {index} out of range for a tensor of {n} dimensions, "
                             f"at {format_trace(user_frame())}")
        return shape_i(x.owner.inputs[0], int(index))
    idx_list, inputs = _parse(x, index)
    op_cls = AdvancedSubtensor if _is_advanced(idx_list) else Subtensor
    return op_cls(idx_list)(x, *inputs)


def _inc(x_sub, y, set_: bool, name: str) -> Variable:
    owner = getattr(x_sub, "owner", None)
    if owner is None or type(owner.op) not in (Subtensor, AdvancedSubtensor):
        raise TypeError(f"{name}: the first argument must be an indexed tensor such as x[1:3] "
                        f"or x[idx], got {x_sub}, at {format_trace(user_frame())}")
    op_cls = AdvancedIncSubtensor if type(owner.op) is AdvancedSubtensor else IncSubtensor
    x, index = owner.inputs[0], owner.inputs[1:]
    return op_cls(owner.op.idx_list, set_)(x, y, *index)


def set_subtensor(x_sub: Variable, y, inplace: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> Variable:
    """A copy of the indexed tensor with ``x[index]`` replaced by ``y`` (broadcast).

    Examples
    --------
    >>> z = T.set_subtensor(x[:, 0], 0.0)   # x with its first column zeroed

    ``inplace`` and ``tolerate_inplace_aliasing`` are accepted for Theano compatibility;
    in-place updates are the optimizer's decision.
    """
    return _inc(x_sub, y, True, "set_subtensor")


def inc_subtensor(x_sub: Variable, y, inplace: bool = False, set_instead_of_inc: bool = False,
                  tolerate_inplace_aliasing: bool = False) -> Variable:
    """A copy of the indexed tensor with ``y`` added to ``x[index]``; repeated indices add up.

    Examples
    --------
    >>> z = T.inc_subtensor(x[[0, 0, 1]], 1.0)   # row 0 gets 2, row 1 gets 1

    ``set_instead_of_inc=True`` makes it ``set_subtensor`` (Theano's signature).
    """
    if set_instead_of_inc:
        return _inc(x_sub, y, True, "set_subtensor")
    return _inc(x_sub, y, False, "inc_subtensor")
