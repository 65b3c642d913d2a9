"""A fused elementwise node (Composite) on small arrays: straight-line numpy calls.

Until a function's C module is loaded (and always for arrays too small to make it
worth compiling), its Composite nodes run on numpy. The numpy reference walks the inner
graph step by step through a generic loop; here the same ufunc calls, with the same
dtype corrections, are generated as straight-line Python (cached with the linker's code),
which takes about half the time on a 10-element vector: a tiny compiled call costs
little more than the numpy expression itself.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from core.compile.code_cache import compile_cached

from ..numpy.elemwise import _strict_inputs
from ..numpy.scalar import scalar_impl

LARGE = 256  # the C backend's LAZY_MIN_COUNTED: smaller inputs never count as work


def _natural(fn, args) -> np.dtype | None:
    """The dtype ``fn`` returns for arguments like ``args`` (dtypes or constant values)."""
    try:
        with np.errstate(all="ignore"):
            sample = [np.ones(1, a) if isinstance(a, np.dtype) else a for a in args]
            return np.asarray(fn(*sample)).dtype
    except Exception:
        return None


class StraightLine(NamedTuple):
    """``run(*inputs)``: a Composite's numpy code; ``guarded(escape)``: the same function,
    handing inputs of ``LARGE`` elements or more to ``escape`` (the lazy C kernel, which
    counts them towards compiling the module)."""

    run: Callable
    guarded: Callable[[Callable], Callable]


def straight_line(node) -> StraightLine | None:
    """Numpy code computing the Composite ``node`` as the numpy reference does, or None
    where the reference does more than that (run-time broadcast checks, 0-d results,
    several outputs, in-place outputs)."""
    op = node.op.scalar_op
    if (not hasattr(op, "fgraph") or len(node.outputs) != 1 or _strict_inputs(node)
            or node.outputs[0].ndim == 0 or node.op.inplace_pattern):
        return None
    fg = op.fgraph
    env = {id(v): (f"x{k}", np.dtype(v.type.dtype)) for k, v in enumerate(fg.inputs)}
    namespace: dict = {}
    lines = []
    try:
        for j, n in enumerate(fg.toposort()):
            args, samples = [], []
            for v in n.inputs:
                if id(v) not in env:  # an inner constant: a numpy scalar of its dtype
                    name = f"c{len(namespace)}"
                    namespace[name] = np.asarray(v.data, dtype=v.type.dtype)[()]
                    env[id(v)] = (name, namespace[name])
                args.append(env[id(v)][0])
                samples.append(env[id(v)][1])
            fn = scalar_impl(n.op)
            dtype = np.dtype(n.outputs[0].type.dtype)
            namespace[f"f{j}"], namespace[f"D{j}"] = fn, dtype
            lines.append(f"t{j} = f{j}({', '.join(args)})")
            if _natural(fn, samples) != dtype:  # numpy may upcast where the scalar op does not
                lines.append(f"if t{j}.dtype != D{j}: t{j} = t{j}.astype(D{j})")
            env[id(n.outputs[0])] = (f"t{j}", dtype)
    except NotImplementedError:
        return None
    out = env.get(id(fg.outputs[0]))
    if out is None or not out[0].startswith("t"):
        return None
    params = ", ".join(f"x{k}" for k in range(len(fg.inputs)))
    body = "".join(f"    {ln}\n" for ln in lines) + f"    return {out[0]}\n"
    run = _define(f"def run({params}):\n" + body, dict(namespace))
    arrays = [f"x{k}.size >= {LARGE}" for k, v in enumerate(node.inputs)
              if not all(v.type.broadcastable)]

    def guarded(escape):
        guard = f"    if {' or '.join(arrays)}:\n        return escape({params})\n" if arrays else ""
        return _define(f"def run({params}):\n" + guard + body, dict(namespace, escape=escape))

    return StraightLine(run, guarded)


def _define(src: str, namespace: dict):
    exec(compile_cached(src, "<c small composite>"), namespace)
    return namespace["run"]
