"""``NanGuardMode``: stop at the first node that produces NaN, inf or a huge value.

As Theano's ``theano.compile.nanguardmode.NanGuardMode``: pass it as a
function's mode and every node's outputs are checked after its kernel runs (and
every value the function reads from its inputs and shared variables, before its
first use). The first bad value raises ``NanGuardError`` (a FloatingPointError)
naming the op, its inputs' shapes, dtypes and ranges, the user's source line
where the node was created, and its scope (the layer that built it).

Examples
--------
>>> f = function([x], T.log(x), mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
...                                               big_is_error=True))
>>> f(np.array([-1.0]))
NanGuardError: NanGuardMode: NaN in output 0 of Elemwise{log} ...
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph.basic import Constant
from ..graph.trace import format_trace

BIG = 1e10  # Theano's threshold for big_is_error


class NanGuardError(FloatingPointError):
    """A value checked by ``NanGuardMode`` is NaN, inf or huge.

    ``node`` is the Apply node whose output (or input, for a function input) it was,
    ``scope`` its ``tag.scope`` (the layer that built it) or None.
    """

    described = True  # names its node already: the function adds no second description

    def __init__(self, message: str, node=None, scope: str | None = None):
        super().__init__(message)
        self.node = node
        self.scope = scope


class NanGuardMode:
    """A function mode that checks every computed value for NaN, inf and huge values.

    Parameters
    ----------
    nan_is_error, inf_is_error, big_is_error : which values raise (big: |x| > 1e10,
        floating-point values only)
    optimizer : the graph rewrites to apply, 'FAST_RUN' or 'FAST_COMPILE' (Theano's
        'fast_run', 'fast_compile' and 'default' too; default: ``core.config.mode``)
    excluding : rewrites left out (names or tags). By default the fusion passes, so
        that each checked node is one op of the user's graph with its own source line;
        ``excluding=()`` checks the graph exactly as FAST_RUN runs it.

    Examples
    --------
    >>> f = function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
    ...                                       big_is_error=True))
    """

    def __init__(self, nan_is_error: bool = True, inf_is_error: bool = True,
                 big_is_error: bool = True, optimizer: str | None = None,
                 excluding: Sequence[str] = ("fusion", "row_fusion")):
        names = {None: None, "default": None, "fast_run": "FAST_RUN",
                 "fast_compile": "FAST_COMPILE"}  # Theano's optimizer names too
        optimizer = names.get(optimizer.lower() if isinstance(optimizer, str) else optimizer,
                              optimizer)
        if optimizer not in (None, "FAST_RUN", "FAST_COMPILE"):
            raise ValueError(f"NanGuardMode: optimizer must be 'FAST_RUN' or 'FAST_COMPILE', "
                             f"got {optimizer!r}")
        self.nan_is_error = bool(nan_is_error)
        self.inf_is_error = bool(inf_is_error)
        self.big_is_error = bool(big_is_error)
        self.optimizer = optimizer
        self.excluding = tuple(excluding)

    def __repr__(self) -> str:
        return (f"NanGuardMode(nan_is_error={self.nan_is_error}, inf_is_error="
                f"{self.inf_is_error}, big_is_error={self.big_is_error})")

    def wrap_kernels(self, nodes: Sequence, kernels: Sequence) -> list:
        """The kernels of ``nodes``, each followed by a check of its outputs."""
        return [k.wrapped(self._guarded(node, k.fn)) for node, k in zip(nodes, kernels)]

    def problem(self, value) -> str | None:
        """What is wrong with ``value`` ('NaN', 'inf', 'a huge value'), or None."""
        if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "fc":
            return None
        if value.size == 0:
            return None
        finite = np.isfinite(value)
        if not finite.all():
            nans = int(np.isnan(value).sum())
            if nans and self.nan_is_error:
                return f"NaN ({nans} of {value.size} values)"
            infs = value.size - int(finite.sum()) - nans
            if infs and self.inf_is_error:
                return f"inf ({infs} of {value.size} values)"
            value = value[finite]
            if value.size == 0:
                return None
        if self.big_is_error:
            biggest = float(np.abs(value).max())
            if biggest > BIG:
                return f"a huge value (|x| up to {biggest:.3g} > {BIG:.0e})"
        return None

    def _guarded(self, node, kernel):
        # values the function reads in (user inputs, shared variables) are checked at
        # their first use; values computed by nodes, right after their node
        fed = [(k, v) for k, v in enumerate(node.inputs)
               if v.owner is None and not isinstance(v, Constant)]
        destroys = bool(getattr(node.op, "destroy_map", None))
        problem = self.problem

        def guarded(*args):
            for k, var in fed:
                bad = problem(args[k])
                if bad is not None:
                    raise _error(f"{bad} in {_input_label(var)}, read by {node.op}", node,
                                 args, None)
            before = _ranges(args) if destroys else None  # in place: the inputs get overwritten
            out = kernel(*args)
            for j, value in enumerate(out if node.nout > 1 else (out,)):
                bad = problem(value)
                if bad is not None:
                    raise _error(f"{bad} in output {j} of {node.op}", node, args, before)
            return out

        return guarded


def _input_label(var) -> str:
    kind = "shared variable" if hasattr(var, "get_value") else "input"
    return f"{kind} {var.name or var} ({var.type}) of the function"


def _ranges(values) -> list[str]:
    """A short description of each value: shape, dtype, [min, max] and non-finite counts."""
    out = []
    for v in values:
        if not isinstance(v, (np.ndarray, np.generic)):
            out.append(type(v).__name__)
            continue
        text = f"shape {v.shape} {v.dtype}"
        if v.size and v.dtype.kind in "biuf":
            finite = v[np.isfinite(v)] if v.dtype.kind == "f" else v
            if finite.size:
                text += f" range [{finite.min():.6g}, {finite.max():.6g}]"
            if v.dtype.kind == "f":
                nans, infs = int(np.isnan(v).sum()), int(np.isinf(v).sum())
                text += f"{f', {nans} NaN' if nans else ''}{f', {infs} inf' if infs else ''}"
        out.append(text)
    return out


def _error(what: str, node, args, before) -> NanGuardError:
    trace = next((o.tag.trace for o in node.outputs if getattr(o.tag, "trace", None)), None)
    scope = next((o.tag.scope for o in node.outputs if getattr(o.tag, "scope", None)), None)
    inputs = "\n".join(f"  input {k}: {r}" for k, r in enumerate(before or _ranges(args)))
    where = f"\nScope (the layer that built it): {scope}" if scope else ""
    return NanGuardError(f"NanGuardMode: {what}\nApply node: {node}\nInputs (before the node "
                         f"ran):\n{inputs}\nThe node was created at: {format_trace(trace)}"
                         f"{where}", node, scope)
