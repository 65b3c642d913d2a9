"""``scan``: Theano's loop constructor."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import numpy as np

from ..compile.shared import SharedVariable
from ..graph.basic import Constant, Variable
from ..graph.trace import format_trace, user_frame
from ..graph.utils import clone_replace, graph_inputs
from ..tensor.math import cast
from ..tensor.type import TensorType
from ..tensor.variable import as_tensor_variable
from .hoist import hoist_invariants
from .op import Scan, ScanInfo


class until:
    """A stop condition for ``scan``: the step returns ``outputs, until(cond)`` (or
    ``outputs, updates, until(cond)``) and the loop ends after the first step where
    ``cond`` holds, as Theano's ``scan_module.until``.

    Examples
    --------
    >>> out, _ = scan(lambda p: (p * 2, until(p * 2 > 100)), outputs_info=one, n_steps=1000)
    """

    def __init__(self, condition):
        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}")


def scan(fn: Callable, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient: int = -1, go_backwards: bool = False, mode=None,
         name: str | None = None, strict: bool = False, return_list: bool = False):
    """Loop ``fn`` over sequences, feeding outputs back, as Theano's ``scan``.

    ``fn`` receives, in order: the slices of each sequence (one per tap), the
    previous values of each recurrent output (one per tap), then the
    non-sequences; it returns its outputs, optionally with a dict of shared
    variable updates (``return out, {sv: sv + 1}``).

    Parameters
    ----------
    sequences : variables (or ``dict(input=x, taps=[-1, 0])``) iterated over their first axis
    outputs_info : per output, None (not fed back), an initial value (tap -1), or
        ``dict(initial=x0, taps=[-2, -1])`` where ``x0`` holds one row per step back
    non_sequences : variables passed unchanged to every step
    n_steps : number of steps (required without sequences)
    go_backwards : iterate the sequences from the end
    truncate_gradient : backpropagate through at most this many steps (-1: all)
    mode : how the step is optimized ('FAST_RUN', 'FAST_COMPILE'; default ``config.mode``)
    name : shown in graph printouts and errors
    strict : if True, every outer variable the step reads must be in ``non_sequences``
    return_list : always return a list of outputs, even for one

    Returns
    -------
    (outputs, updates): outputs over all steps (a variable, or a list when several),
    and an OrderedDict of shared variable updates to pass to ``function``.

    Examples
    --------
    >>> k = T.iscalar('k'); A = T.dvector('A')
    >>> result, updates = scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
    ...                        non_sequences=A, n_steps=k)
    >>> power = function([A, k], result[-1], updates=updates)
    """
    where = format_trace(user_frame())
    seqs, seq_taps = _normalize_sequences(sequences, where)
    states, state_taps, kinds = _normalize_outputs_info(outputs_info, where)
    non_seqs = [v if isinstance(v, Variable) else as_tensor_variable(v)
                for v in _as_list(non_sequences)]
    if n_steps is None and not seqs:
        raise ValueError(f"scan: give n_steps or at least one sequence, at {where}")

    seq_phs = [[TensorType(s.dtype, s.type.shape[1:])(_tap_name(s, k)) for k in taps]
               for s, taps in zip(seqs, seq_taps)]
    state_phs = []
    for init, taps, is_sitsot in zip(states, state_taps, kinds):
        inner_type = init.type if is_sitsot else TensorType(init.dtype, init.type.shape[1:])
        state_phs.append([inner_type(_tap_name(init, k)) for k in taps])
    args = [p for group in seq_phs for p in group] + [p for g in state_phs for p in g] + non_seqs
    ret = fn(*args)
    stop = None
    if isinstance(ret, tuple) and ret and isinstance(ret[-1], until):
        stop = ret[-1].condition
        ret = ret[:-1] if len(ret) > 2 else ret[0]
    elif isinstance(ret, until):
        raise ValueError(f"scan: the step returned only a stop condition, at {where}")
    outputs, updates = _parse_return(ret, where)

    n_out_info = len(outputs_info) if isinstance(outputs_info, (list, tuple)) else (
        0 if outputs_info is None else 1)
    if n_out_info and len(outputs) != n_out_info:
        raise ValueError(f"scan: fn returned {len(outputs)} outputs but outputs_info has "
                         f"{n_out_info} entries, at {where}")
    fed = _fed_back_flags(outputs_info, len(outputs))
    state_outs, nitsot_outs = [], []
    state_iter = iter(zip(states, state_phs))
    for k, (out, is_fed) in enumerate(zip(outputs, fed)):
        if is_fed:
            init, phs = next(state_iter)
            state_outs.append(_match_state(out, phs[0], k, where))
        else:
            nitsot_outs.append(out)

    updates = _with_default_updates(state_outs + nitsot_outs, updates, non_seqs)
    shared_vars = list(updates)
    update_exprs = [_match_shared(updates[sv], sv, where) for sv in shared_vars]
    raw_outs = state_outs + nitsot_outs + update_exprs + ([stop] if stop is not None else [])

    step_ins = [p for g in seq_phs for p in g] + [p for g in state_phs for p in g]
    inner_outs, shared_phs, nonseq_inner, nonseq_outer = _cut_step_graph(
        raw_outs, step_ins, shared_vars, non_seqs)
    implicit = [v for v in nonseq_outer if all(v is not n for n in non_seqs)]
    if strict and implicit:
        raise ValueError(f"scan(strict=True): the step reads {', '.join(map(str, implicit))}, "
                         f"which {'is' if len(implicit) == 1 else 'are'} not in non_sequences, "
                         f"at {where}")
    step_ins += shared_phs
    inner_outs, nonseq_inner, nonseq_outer = hoist_invariants(
        step_ins, inner_outs, nonseq_inner, nonseq_outer)
    inner_ins = step_ins + nonseq_inner

    info = ScanInfo(tuple(map(tuple, seq_taps)), tuple(map(tuple, state_taps)),
                    len(nitsot_outs), len(shared_vars), len(nonseq_outer), bool(go_backwards),
                    int(truncate_gradient), stop is not None)
    op = Scan(inner_ins, inner_outs, info, name, mode)
    steps = as_tensor_variable(-1 if n_steps is None else n_steps)
    if steps.ndim != 0 or np.dtype(steps.dtype).kind not in "iu":
        raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps!r}, at {where}")
    steps = cast(steps, "int64")
    init_buffers = [init.dimshuffle("x", *range(init.ndim)) if is_sitsot else init
                    for init, is_sitsot in zip(states, kinds)]
    results = op(steps, *seqs, *init_buffers, *shared_vars, *nonseq_outer)
    results = results if isinstance(results, list) else [results]
    n_main = len(state_outs) + len(nitsot_outs)
    finals = results[n_main:n_main + len(shared_vars)]
    main = _reorder(results[:n_main], fed)
    new_updates = OrderedDict(zip(shared_vars, finals))
    if len(main) == 1 and not return_list:
        return main[0], new_updates
    return main, new_updates


def _cut_step_graph(raw_outs, step_ins, shared_vars, non_seqs):
    """Cut the step's graph at its inputs: the updated shared variables, the explicit
    non-sequences, and every other outer variable it reads (implicit non-sequences).

    Returns the inner outputs, the shared-state placeholders, and the non-sequence
    placeholders with their outer variables.
    """
    replace: dict = {}
    shared_phs = [sv.type(f"{sv.name or 'shared'}[t]") for sv in shared_vars]
    replace.update(zip(shared_vars, shared_phs))
    nonseq_outer = []
    for v in non_seqs:
        if not isinstance(v, Constant) and v not in replace:
            replace[v] = v.type(v.name)
            nonseq_outer.append(v)
    skip = {id(p) for p in step_ins} | {id(k) for k in replace}
    for v in graph_inputs(raw_outs, stop=list(replace)):
        if id(v) in skip or isinstance(v, Constant):
            continue
        replace[v] = v.type(v.name)
        nonseq_outer.append(v)
    inner_outs, _ = clone_replace(raw_outs, replace=replace)
    return inner_outs, shared_phs, [replace[v] for v in nonseq_outer], nonseq_outer


def _as_list(x) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _tap_name(v: Variable, tap: int) -> str | None:
    return f"{v.name}[t{tap:+d}]" if v.name else None


def _normalize_sequences(sequences, where: str):
    seqs, taps_list = [], []
    for s in _as_list(sequences):
        taps = [0]
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError(f"scan: a sequence dict needs an 'input' entry, at {where}")
            taps = list(s.get("taps", [0]) or [0])
            s = s["input"]
        s = as_tensor_variable(s)
        if s.ndim < 1:
            raise ValueError(f"scan: sequence {s} ({s.type}) must have at least one axis, "
                             f"at {where}")
        seqs.append(s)
        taps_list.append(sorted(set(int(t) for t in taps)))
    return seqs, taps_list


def _normalize_outputs_info(outputs_info, where: str):
    states, taps_list, sitsot = [], [], []
    for entry in _as_list(outputs_info):
        if entry is None:
            continue
        taps = [-1]
        if isinstance(entry, dict):
            if entry.get("initial") is None:
                continue
            taps = list(entry.get("taps", [-1]))
            if not taps:
                continue
            entry = entry["initial"]
        init = as_tensor_variable(entry)
        taps = sorted(set(int(t) for t in taps))
        if any(t >= 0 for t in taps):
            raise ValueError(f"scan: output taps must be negative, got {taps}, at {where}")
        is_sitsot = taps == [-1]
        if taps != [-1]:
            if init.ndim < 1:
                raise ValueError(f"scan: an output with taps {taps} needs an initial value with "
                                 f"one row per step back (shape ({-taps[0]}, ...)), got "
                                 f"{init.type}, at {where}")
            is_sitsot = False
        states.append(init)
        taps_list.append(taps)
        sitsot.append(is_sitsot)
    return states, taps_list, sitsot


def _fed_back_flags(outputs_info, n_outputs: int) -> list[bool]:
    entries = _as_list(outputs_info)
    if not entries:
        return [False] * n_outputs
    flags = []
    for e in entries:
        if isinstance(e, dict):
            flags.append(e.get("initial") is not None and bool(e.get("taps", [-1])))
        else:
            flags.append(e is not None)
    return flags


def _parse_return(ret, where: str):
    """``fn``'s return value as (list of outputs, OrderedDict of updates)."""
    updates = OrderedDict()
    if isinstance(ret, dict):
        return [], OrderedDict(ret)
    if isinstance(ret, tuple) and len(ret) == 2 and isinstance(ret[1], dict):
        outs, updates = ret[0], OrderedDict(ret[1])
    elif isinstance(ret, tuple) and len(ret) == 2 and isinstance(ret[0], dict):
        updates, outs = OrderedDict(ret[0]), ret[1]
    else:
        outs = ret
    outs = [] if outs is None else (list(outs) if isinstance(outs, (list, tuple)) else [outs])
    try:
        outs = [as_tensor_variable(o) for o in outs]
    except TypeError as exc:
        raise TypeError(f"scan: fn must return tensors (and optionally a dict of updates): "
                        f"{exc}, at {where}") from None
    for sv in updates:
        if not isinstance(sv, SharedVariable):
            raise TypeError(f"scan: fn's updates must be keyed by shared variables, got {sv}, "
                            f"at {where}")
    return outs, updates


def _match_state(out: Variable, ph: Variable, k: int, where: str) -> Variable:
    """The step's new value of recurrent output ``k``, checked against its initial value."""
    if out.ndim != ph.ndim:
        raise ValueError(f"scan: output {k} of fn has {out.ndim} dimensions ({out.type}) but its "
                         f"initial value (outputs_info) gives {ph.ndim} ({ph.type}), at {where}")
    for axis, (a, b) in enumerate(zip(out.type.shape, ph.type.shape)):
        if a is not None and b is not None and a != b:
            raise ValueError(f"scan: output {k} of fn has static shape {out.type.shape} but its "
                             f"initial value has {ph.type.shape} (axis {axis}), at {where}")
    if out.dtype != ph.dtype:
        if not np.can_cast(out.dtype, ph.dtype, "safe"):
            raise TypeError(f"scan: output {k} of fn has dtype {out.dtype} but its initial value "
                            f"has {ph.dtype}; cast the initial value (outputs_info) to "
                            f"{out.dtype}, at {where}")
        out = cast(out, ph.dtype)
    return out


def _match_shared(expr, sv: SharedVariable, where: str) -> Variable:
    expr = as_tensor_variable(expr)
    if expr.ndim != sv.type.ndim:
        raise TypeError(f"scan: the update of {sv} has {expr.ndim} dimensions, the shared "
                        f"variable {sv.type.ndim}, at {where}")
    if expr.dtype != sv.type.dtype:
        expr = cast(expr, sv.type.dtype)
    return expr


def _with_default_updates(outputs, updates: OrderedDict, non_seqs) -> OrderedDict:
    """Add the default updates (random states) of shared variables the step reaches.

    The walk stops at the explicit non-sequences: a random tensor passed there is
    drawn once per call, outside the loop (a dropout mask shared by all steps)."""
    updates = OrderedDict(updates)
    frontier = list(outputs) + list(updates.values())
    while frontier:
        new = []
        for v in graph_inputs(frontier, stop=non_seqs):
            upd = getattr(v, "default_update", None)
            if upd is not None and v not in updates:
                updates[v] = upd
                new.append(upd)
        frontier = new
    return updates


def _reorder(results, fed) -> list:
    n_states = sum(fed)
    states, nitsots = iter(results[:n_states]), iter(results[n_states:])
    return [next(states) if f else next(nitsots) for f in fed] if fed else list(results)
