"""DebugMode: run every node through the C and the numpy kernels and check both.

``function(..., mode='DebugMode')`` (or ``mode=DebugMode(...)``) optimizes the graph
as ``FAST_RUN`` does, then wraps each node's kernel so that a call

- runs the numpy (reference) kernel on private copies of the inputs and the C
  kernel (compiled eagerly, numpy where C has none) on the real ones, and compares
  their outputs with tolerances by dtype (``BadThunkOutput``);
- checks that neither kernel changed an input the op does not declare in its
  ``destroy_map``, and that a node overwriting an input reads that memory through no
  other input (a view of it; the same array, except in an elementwise loop)
  (``BadDestroyMap``), and that no output shares memory with another output, or with
  an input unless ``view_map`` or ``destroy_map`` says so (``BadViewMap``).

At compile time it also checks the execution order: a node that overwrites an input
must run after every other reader of that buffer (through views too), and the buffer
must not be a returned output (``BadDestroyMap``). Each error names the op, the
shapes and dtypes, and the user's source line of the node.

Inner graphs (scan steps, ifelse branches) compile as ``config.mode`` says; only the
outer graph's nodes are checked.

Examples
--------
>>> f = function([x], T.exp(x).sum(), mode="DebugMode"); f(np.ones(3))
array(8.15484549)
"""
from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np

from ..graph.basic import Apply
from ..graph.fg import FunctionGraph
from ..graph.trace import format_trace
from ..tensor.elemwise import Elemwise


class DebugModeError(Exception):
    """A check of DebugMode failed. Its message names the op, shapes, dtypes and line."""

    described = True  # the message already says where: Function adds nothing to it


class BadThunkOutput(DebugModeError):
    """The C and the numpy kernels of a node disagree."""


class BadDestroyMap(DebugModeError):
    """A node overwrote an input it does not own, or overwrote it while others still read it."""


class BadViewMap(DebugModeError):
    """A node returned a view of an input without declaring it in ``view_map``."""


# (rtol, atol) by dtype kind and size; integers and booleans must match exactly
DEFAULT_TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5),
                      "float64": (1e-7, 1e-10)}


class DebugMode:
    """Options of DebugMode; ``mode='DebugMode'`` is ``DebugMode()``.

    Parameters
    ----------
    tolerances : {dtype name: (rtol, atol)} overriding ``DEFAULT_TOLERANCES``. An
        element passes when ``|c - ref| <= atol + rtol * max |ref|`` (over its array):
        an error small against the array's scale is rounding (a sum that cancels),
        not a wrong kernel. NaN and inf must match exactly.
    check_c : compare against the C kernels (when a C compiler exists); False checks
        the numpy kernels alone (destroy and view maps).
    """

    def __init__(self, tolerances: dict | None = None, check_c: bool = True):
        self.tolerances = dict(DEFAULT_TOLERANCES, **(tolerances or {}))
        self.check_c = check_c

    def __repr__(self):
        return "DebugMode()"

    def make_kernels(self, fgraph: FunctionGraph, nodes: Sequence[Apply]) -> list:
        """Checked kernels for ``nodes``, in the order the function runs them."""
        from backends import get_backend, make_kernels

        check_schedule(fgraph, nodes)
        reference = make_kernels(nodes, "numpy")
        if self.check_c and get_backend("c").available():  # False without cffi or a compiler
            fast = make_kernels(nodes, "c", lazy=False)
        else:
            fast = reference
        return [f.wrapped(_checked_kernel(node, f.fn, r.fn, self.tolerances))
                for node, f, r in zip(nodes, fast, reference)]


def as_debug_mode(mode) -> DebugMode | None:
    """The DebugMode that ``mode`` ('DebugMode' or a DebugMode) asks for, else None."""
    if isinstance(mode, DebugMode):
        return mode
    if isinstance(mode, str) and mode == "DebugMode":
        return DebugMode()
    return None


def _where(node: Apply) -> str:
    trace = next((o.tag.trace for o in node.outputs if getattr(o.tag, "trace", None)), None)
    return f"The node was created at: {format_trace(trace)}"


def _describe(node: Apply, args) -> str:
    shapes = [getattr(a, "shape", "?") for a in args]
    dtypes = [str(getattr(a, "dtype", type(a).__name__)) for a in args]
    return f"Inputs shapes: {shapes}\nInputs dtypes: {dtypes}\n{_where(node)}"


def _views_of(fgraph: FunctionGraph, var) -> list:
    """``var`` and every variable that is a view of it (through view_map), transitively."""
    found, stack = [var], [var]
    while stack:
        for client, i in fgraph.clients.get(stack.pop(), []):
            if client == "output":
                continue
            vmap = getattr(client.op, "view_map", {})
            for o, ins in vmap.items():
                if i in ins and client.outputs[o] not in found:
                    found.append(client.outputs[o])
                    stack.append(client.outputs[o])
    return found


def check_schedule(fgraph: FunctionGraph, nodes: Sequence[Apply]) -> None:
    """Raise BadDestroyMap when a node overwrites a buffer that is read after it runs.

    ``nodes`` is the execution order. Every other reader of a destroyed input (or of a
    view of it) must come earlier, and the buffer must not be returned as an output,
    unless it is the shared value the node computes the update of (written back anyway).
    """
    position = {node: k for k, node in enumerate(nodes)}
    update_of = getattr(fgraph, "update_of", {})
    for node in nodes:
        for o, ins in node.op.destroy_map.items():
            for i in ins:
                var = node.inputs[i]
                for view in _views_of(fgraph, var):
                    for client, j in fgraph.clients.get(view, []):
                        if client == "output":
                            if update_of.get(var) == j:
                                continue
                            raise BadDestroyMap(
                                f"DebugMode: {node.op} overwrites input {i} ({var.type}), which "
                                f"is also returned as output {j}\n{_where(node)}")
                        if client is node or position.get(client, -1) < position[node]:
                            continue
                        raise BadDestroyMap(
                            f"DebugMode: {node.op} overwrites input {i} ({var.type}), but "
                            f"{client.op} reads it later (it runs at step {position[client]}, "
                            f"the overwrite at step {position[node]})\n{_where(node)}")


def _private(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    return True  # not an array: nothing a kernel could have overwritten in place


def _mismatch(out, ref, tolerances: dict) -> str | None:
    """Why ``out`` differs from ``ref`` beyond the tolerance of its dtype, or None."""
    if not isinstance(ref, (np.ndarray, np.generic)):
        return None
    out, ref = np.asarray(out), np.asarray(ref)
    if out.shape != ref.shape or out.dtype != ref.dtype:
        return f"C gave {out.dtype}{list(out.shape)}, numpy {ref.dtype}{list(ref.shape)}"
    if ref.dtype.kind not in "fc":
        bad = out != ref
        return None if not bad.any() else f"{int(bad.sum())} element(s) differ"
    rtol, atol = tolerances.get(str(ref.dtype), DEFAULT_TOLERANCES["float64"])
    finite = np.isfinite(ref) & np.isfinite(out)
    special_ok = (out == ref) | (np.isnan(out) & np.isnan(ref))  # the same inf, or both NaN
    err = np.where(finite, np.abs(out.astype(np.float64) - ref), 0)
    limit = atol + rtol * np.abs(np.where(finite, ref, 0)).max(initial=0)
    bad = (~finite & ~special_ok) | (err > limit)
    if not bad.any():
        return None
    k = np.unravel_index(int(np.argmax(np.where(bad, err + 1, 0))), ref.shape) if ref.ndim else ()
    return (f"{int(bad.sum())} of {ref.size} element(s) differ; at index {tuple(map(int, k))}: "
            f"C {out[k].item()!r}, numpy {ref[k].item()!r} (rtol {rtol}, atol {atol})")


def _checked_kernel(node: Apply, fast: Callable, reference: Callable, tolerances: dict):
    destroyed = {i for ins in node.op.destroy_map.values() for i in ins}
    may_alias = {o: set(node.op.view_map.get(o, ())) | set(node.op.destroy_map.get(o, ()))
                 for o in range(len(node.outputs))}
    several = len(node.outputs) > 1
    elementwise = isinstance(node.op, Elemwise)  # reads each element before writing it

    def check_inputs(args, before, which: str):
        for i, (now, then) in enumerate(zip(args, before)):
            if i not in destroyed and not _same(now, then):
                raise BadDestroyMap(
                    f"DebugMode: the {which} kernel of {node.op} overwrote input {i}, which "
                    f"the op does not declare in its destroy_map {dict(node.op.destroy_map)}\n"
                    f"{_describe(node, before)}")

    def check_aliases(args):
        for i in destroyed:
            for j, arg in enumerate(args):
                if (j != i and isinstance(arg, np.ndarray) and np.shares_memory(arg, args[i])
                        and not (arg is args[i] and elementwise)):
                    raise BadDestroyMap(
                        f"DebugMode: {node.op} overwrites input {i} while input {j} reads the "
                        f"same memory (a view of it, or the same array in a product)\n"
                        f"{_describe(node, args)}")

    def kernel(*args):
        if destroyed:
            check_aliases(args)
        before = [_private(a) for a in args]
        mine = [_private(a) for a in args]
        ref = reference(*mine)
        check_inputs(mine, before, "numpy")
        refs = ref if several else (ref,)
        refs = [_private(r) for r in refs]  # a view of ``mine`` would change with it
        result = fast(*args)
        check_inputs(args, before, "C" if fast is not reference else "numpy")
        outs = result if several else (result,)
        for o, out in enumerate(outs):
            for p, other in enumerate(outs[:o]):
                if (isinstance(out, np.ndarray) and isinstance(other, np.ndarray)
                        and np.shares_memory(out, other)):
                    raise BadViewMap(f"DebugMode: outputs {p} and {o} of {node.op} share "
                                     f"memory\n{_describe(node, before)}")
        for o, (out, expected) in enumerate(zip(outs, refs)):
            why = _mismatch(out, expected, tolerances)
            if why is not None:
                raise BadThunkOutput(f"DebugMode: {node.op}, output {o}: the C and numpy kernels "
                                     f"disagree: {why}\n{_describe(node, before)}")
            if not isinstance(out, np.ndarray):
                continue
            for i, arg in enumerate(args):
                if (i not in may_alias[o] and isinstance(arg, np.ndarray)
                        and np.shares_memory(out, arg)):
                    raise BadViewMap(
                        f"DebugMode: output {o} of {node.op} shares memory with input {i}, "
                        f"which the op declares in neither view_map nor destroy_map\n"
                        f"{_describe(node, before)}")
        return result

    return kernel
