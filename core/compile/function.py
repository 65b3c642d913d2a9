"""``function``: compile symbolic inputs and outputs into a Python callable."""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ..config import config
from ..graph.basic import Constant, Variable
from ..graph.fg import FunctionGraph
from ..graph.trace import format_trace
from ..graph.utils import clone_replace, graph_inputs
from .linker import Program
from .shared import SharedVariable


class MissingInputError(ValueError):
    """An output depends on an input that was not given to ``function``."""


class UnusedInputError(ValueError):
    """An input given to ``function`` does not influence any output."""


class In:
    """An input with options: a default ``value``, a keyword ``name``.

    Examples
    --------
    >>> f = function([x, In(y, value=1)], x + y); f(2)
    array(3.)
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 borrow: bool = False, mutable: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In: expected a symbolic variable, got {variable!r}")
        if isinstance(variable, (Constant, SharedVariable)):
            raise TypeError(f"In: {variable} is a constant or shared variable and cannot be an input")
        self.variable = variable
        self.name = name if name is not None else variable.name
        self.value = value
        self.has_default = value is not None
        self.borrow = borrow
        self.mutable = mutable


class Out:
    """An output with options, as Theano's ``Out``.

    Parameters
    ----------
    variable : Variable
    borrow : bool
        True: the function may return its own buffer (no defensive copy, so a later call
        may overwrite it); under a device backend (``device=cuda``) the device array itself
        (a cupy array), not a numpy copy.

    Examples
    --------
    >>> f = function([x], Out(T.exp(x), borrow=True))   # on the GPU: a cupy array back
    """

    def __init__(self, variable: Variable, borrow: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"Out: expected a symbolic variable, got {variable!r}")
        self.variable = variable
        self.borrow = bool(borrow)


class FunctionMaker:
    """Holds what compilation produced (``fgraph``), as Theano's maker does, and the
    ``outputs`` (then updates) as the user built them, before the rewrites."""

    def __init__(self, fgraph: FunctionGraph, mode: str, outputs: Sequence[Variable] = ()):
        self.fgraph = fgraph
        self.mode = mode
        self.outputs = list(outputs)


class Function:
    """A compiled function. Call it with input values (positional or by name).

    The call runs one generated Python function (see ``linker.Program``):
    input checks, kernels, output copies and updates, with nothing else per
    call. ``trust_input = True`` skips the input checks.
    """

    def __init__(self, ins: list[In], program: Program, maker: FunctionMaker,
                 shared_inputs: list[SharedVariable], update_targets: list[SharedVariable],
                 name: str | None, trust_input: bool, checkers: list):
        self.ins = ins
        self.program = program
        self.maker = maker
        self.shared_inputs = shared_inputs
        self.update_targets = update_targets
        self.name = name
        self._n_in = len(ins)
        self._by_name = {i.name: k for k, i in enumerate(ins) if i.name}
        self._defaults = [check(i.value) if i.has_default else _MISSING
                          for i, check in zip(ins, checkers)]
        self.trust_input = trust_input

    @property
    def trust_input(self) -> bool:
        """Whether calls skip input checking and conversion."""
        return self._fn is self.program.run_trusted

    @trust_input.setter
    def trust_input(self, value: bool) -> None:
        self._fn = self.program.run_trusted if value else self.program.run_checked

    def _bind(self, args, kwargs) -> list:
        n = self._n_in
        if len(args) > n:
            raise TypeError(f"{self._label()} takes {n} input(s), got {len(args)}")
        values = list(args) + [_MISSING] * (n - len(args))
        for key, val in kwargs.items():
            if key not in self._by_name:
                raise TypeError(f"{self._label()}: unknown keyword input {key!r}; "
                                f"inputs are {[i.name for i in self.ins]}")
            k = self._by_name[key]
            if values[k] is not _MISSING:
                raise TypeError(f"{self._label()}: input {key!r} given twice")
            values[k] = val
        for k, val in enumerate(values):
            if val is _MISSING:
                if self._defaults[k] is _MISSING:
                    raise TypeError(f"{self._label()}: missing a value for input {k} "
                                    f"({self.ins[k].name or self.ins[k].variable}); it takes {n} input(s)")
                values[k] = self._defaults[k]
        return values

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._n_in:
            args = self._bind(args, kwargs)
        try:
            return self._fn(*args)
        except Exception as exc:
            detail = None if getattr(exc, "described", False) else self.program.describe_failure(exc)
            if detail is None:
                raise
            raise _with_message(exc, f"{exc}\n{detail}") from exc

    def intermediates(self, *args, names=None, **kwargs) -> dict:
        """``{variable: value}`` of every variable computed between the inputs and the
        outputs of the graph this function was built from (before rewrites), for these
        inputs; ``names``: only the variables of those names (or those Variables).
        Shared variables are read, not updated.

        Examples
        --------
        >>> h = T.tanh(x); h.name = 'h'; f = function([x], (h * 2).sum())
        >>> f.intermediates(np.ones(3), names=['h'])
        {h: array([0.76159416, 0.76159416, 0.76159416])}
        """
        from .intermediates import intermediate_values

        return intermediate_values(self, self._bind(args, kwargs), names)

    def _label(self) -> str:
        return _label(self.name)

    def __repr__(self):
        return f"<compiled {self._label()} of {len(self.ins)} input(s)>"


_MISSING = object()


def _label(name: str | None) -> str:
    return f"function {name!r}" if name else "function"


def _input_checker(name: str | None, k: int, inp: In, allow_input_downcast: bool | None):
    """Converts a value for input ``k``, or raises naming the function and the input."""
    ttype = inp.variable.type
    what = f"{_label(name)}: input {k} ({inp.name or 'unnamed'}, {ttype})"

    hint = ", or pass allow_input_downcast=True to function()"

    def check(value):
        return ttype.filter(value, allow_downcast=allow_input_downcast, what=what, hint=hint)

    return check


def _with_message(exc: Exception, message: str) -> Exception:
    try:
        new = type(exc)(message)
    except Exception:
        new = RuntimeError(message)
    return new


def _update_value(target: SharedVariable, expr) -> Variable:
    """``expr`` as a variable; a plain number or array takes ``target``'s dtype when it fits."""
    from ..tensor.variable import as_tensor_variable, constant

    if isinstance(expr, Variable):
        return as_tensor_variable(expr)
    value = np.asarray(expr)
    dtype = np.dtype(target.type.dtype)
    if value.dtype.kind in "biuf" and (value.dtype.kind == dtype.kind or np.can_cast(
            value.dtype, dtype, "safe") or (value.dtype.kind in "iu" and dtype.kind == "f")):
        return constant(value.astype(dtype))
    return as_tensor_variable(expr)


def _normalize_updates(updates) -> list[tuple[SharedVariable, Variable]]:
    if updates is None:
        return []
    pairs = list(updates.items()) if isinstance(updates, dict) else list(updates)
    result, seen = [], set()
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"updates: expected (shared_variable, new_expression) pairs, got {pair!r}")
        target, expr = pair
        if not isinstance(target, SharedVariable):
            raise TypeError(f"updates: {target} is not a shared variable; only shared variables "
                            f"can be updated")
        if id(target) in seen:
            raise ValueError(f"updates: shared variable {target} is updated twice")
        seen.add(id(target))
        expr = _update_value(target, expr)
        if expr.ndim != target.type.ndim or expr.dtype != target.type.dtype:
            # Theano's rule: no implicit cast (a float64 step would round into a float32 weight)
            raise TypeError(
                f"An update must have the same type as the original shared variable "
                f"(shared_var={target}, shared_var.type={target.type}, update_val={expr}, "
                f"update_val.type={expr.type}); cast the update (T.cast(expr, "
                f"'{target.type.dtype}')) or give it {target.type.ndim} dimension(s). The "
                f"update was created at {format_trace(expr.tag.trace)}")
        result.append((target, expr))
    return result


def _default_updates(outputs, pairs, in_vars, no_default_updates) -> list:
    """``(shared, shared.default_update)`` for shared variables the graph reaches.

    Skipped for variables updated explicitly, listed in ``no_default_updates``
    (or all, when it is True), and where the update needs values the function
    does not have (a random draw inside a scan step, say).
    """
    if no_default_updates is True:
        return []
    skip = {id(sv) for sv, _ in pairs} | {id(v) for v in (no_default_updates or [])}
    known = {id(v) for v in in_vars}
    found, frontier = [], list(outputs) + [e for _, e in pairs]
    while frontier:
        new = []
        for v in graph_inputs(frontier):
            upd = getattr(v, "default_update", None)
            if upd is None or id(v) in skip:
                continue
            if all(isinstance(i, (Constant, SharedVariable)) or id(i) in known
                   for i in graph_inputs([upd])):
                skip.add(id(v))
                found.append((v, upd))
                new.append(upd)
        frontier = new
    return _normalize_updates(found)


def function(inputs: Sequence, outputs=None, updates=None, givens=None, name: str | None = None,
             mode: str | None = None, on_unused_input: str = "raise", trust_input: bool = False,
             allow_input_downcast: bool | None = None, profile: bool | None = None,
             no_default_updates: bool = False, excluding: Sequence[str] = ()) -> Function:
    """Compile a callable computing ``outputs`` from ``inputs``.

    Parameters
    ----------
    inputs : list of Variables or ``In``
    outputs : a Variable or ``Out``, or a list of them (a list gives a list back)
    updates : (shared, expression) pairs, applied together after the outputs are computed
    givens : {variable: replacement} substituted in the graph before compiling
    mode : 'FAST_RUN' (default), 'FAST_COMPILE', 'DebugMode' (or a ``DebugMode``: FAST_RUN's
        rewrites, each node checked C against numpy, see ``core.compile.debugmode``), or a
        mode object: ``NanGuardMode(...)``
    on_unused_input : 'raise', 'warn' or 'ignore'
    trust_input : skip input checking and conversion (inputs must be ndarrays of the right dtype)
    excluding : names or tags of graph rewrites not to apply (see ``core.rewrite``)

    Examples
    --------
    >>> x, y = T.dscalars('x', 'y'); f = function([x, y], x + y); f(2, 3)
    array(5.)
    """
    from ..tensor.variable import as_tensor_variable
    from ..rewrite import optimize_graph
    from backends import default_backend, get_backend, make_kernel
    from .debugmode import as_debug_mode

    if not isinstance(inputs, (list, tuple)):
        raise TypeError("function: inputs must be a list of variables")
    debug = as_debug_mode(mode or config.mode)  # 'DebugMode' or DebugMode(...)
    guard = None if mode is None or isinstance(mode, str) or debug is not None else mode
    if guard is not None:  # NanGuardMode(...)
        mode, excluding = guard.optimizer, tuple(excluding) + tuple(guard.excluding)
    mode = "FAST_RUN" if debug is not None else mode or config.mode
    ins = [i if isinstance(i, In) else In(i) for i in inputs]
    in_vars = [i.variable for i in ins]
    if len({id(v) for v in in_vars}) != len(in_vars):
        raise ValueError("function: the same variable appears twice among the inputs")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    out_list = [] if outputs is None else ([outputs] if single else list(outputs))
    borrow = [isinstance(o, Out) and o.borrow for o in out_list]
    out_list = [as_tensor_variable(o.variable if isinstance(o, Out) else o) for o in out_list]
    update_pairs = _normalize_updates(updates)
    update_pairs += _default_updates(out_list, update_pairs, in_vars, no_default_updates)
    exprs = out_list + [e for _, e in update_pairs]
    if givens:
        pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
        replace = {old: as_tensor_variable(new) for old, new in pairs}
        exprs, _ = clone_replace(exprs, replace=replace)

    free = graph_inputs(exprs)
    in_ids = {id(v) for v in in_vars}
    shared_inputs = [v for v in free if isinstance(v, SharedVariable) and id(v) not in in_ids]
    for sv, _ in update_pairs:
        if sv not in shared_inputs:
            shared_inputs.append(sv)
    for v in free:
        if id(v) not in in_ids and not isinstance(v, (Constant, SharedVariable)):
            raise MissingInputError(
                f"function: the graph needs input {v} ({v.type}), which is not in the inputs "
                f"list; it was created at {format_trace(v.tag.trace)}")
    used = {id(v) for v in free}
    for i in ins:
        if id(i.variable) not in used and on_unused_input != "ignore":
            msg = (f"function: input {i.variable} ({i.variable.type}) is not used to compute the "
                   f"outputs; pass on_unused_input='ignore' to allow it")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            import warnings

            warnings.warn(msg, stacklevel=2)

    fgraph = FunctionGraph(in_vars + shared_inputs, exprs)
    # which output is each updated shared value's new value: an update may be computed in
    # place into the old value's buffer (core/rewrite/inplace.py)
    fgraph.update_of = {sv: len(out_list) + j for j, (sv, _) in enumerate(update_pairs)}
    t_start = time.perf_counter()
    optimize_graph(fgraph, mode, excluding=excluding)
    t_optimized = time.perf_counter()
    targets = [sv for sv, _ in update_pairs]
    checkers = [_input_checker(name, k, i, allow_input_downcast) for k, i in enumerate(ins)]
    backend = default_backend(mode)
    kernel_backend = get_backend(backend)
    prof = None
    if config.profile if profile is None else profile:
        from .profiling import ProfileStats

        prof = ProfileStats(name, backend)

    def kernels_for(nodes):
        kernels = (kernel_backend.make_kernels(nodes) if debug is None
                   else debug.make_kernels(fgraph, nodes))
        if guard is not None:
            kernels = guard.wrap_kernels(nodes, kernels)
        return prof.wrap_kernels(nodes, kernels) if prof is not None else kernels

    program = Program(fgraph, make_kernel, len(ins), len(out_list), targets, single, checkers,
                      make_kernels=kernels_for, borrow=borrow)
    from .device import check_placement, run_on_device

    check_placement(kernel_backend, shared_inputs)
    if not kernel_backend.on_host:  # inputs and shared values to the device, outputs back
        run_on_device(program, kernel_backend, shared_inputs, checkers, borrow)
    if prof is not None:
        program.run_trusted = prof.wrap_call(program.run_trusted)
        program.run_checked = prof.wrap_call(program.run_checked)
    maker = FunctionMaker(fgraph, debug or mode, exprs)
    fn = Function(ins, program, maker, shared_inputs, targets, name, trust_input, checkers)
    fn.profile = prof
    if prof is not None:
        prof.optimizer_time, prof.linker_time = t_optimized - t_start, time.perf_counter() - t_optimized
    return fn
