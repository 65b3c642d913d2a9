"""Turn a FunctionGraph into one generated Python function that calls kernels in order.

The generated function has one line per node (``v7 = k3(v2, v5)``), so a call
costs one Python statement per kernel and nothing else: no graph walking, no
storage lists. When a kernel raises, the failing line in the traceback names
the node, and its inputs are read from the frame's locals to build the error.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Constant
from ..graph.fg import FunctionGraph
from ..graph.trace import format_trace

_HEADER_LINES = 1  # the ``def`` line precedes the first node's line


class Program:
    """A compiled FunctionGraph: ``run(*input_values) -> tuple of output values``."""

    def __init__(self, fgraph: FunctionGraph, make_kernel, copy_outputs: bool = True):
        self.fgraph = fgraph
        self.nodes = fgraph.toposort()
        names: dict = {}
        namespace: dict = {"np": np}
        for i, v in enumerate(fgraph.inputs):
            names[v] = f"v{i}"
        lines = []
        counter = len(fgraph.inputs)
        for k, node in enumerate(self.nodes):
            args = []
            for inp in node.inputs:
                if inp not in names:
                    if not isinstance(inp, Constant):
                        raise ValueError(f"{node.op}: input {inp} is not computable from the "
                                         f"function's inputs")
                    names[inp] = f"c{len(namespace)}"
                    namespace[names[inp]] = inp.data
                args.append(names[inp])
            outs = []
            for out in node.outputs:
                names[out] = f"v{counter}"
                counter += 1
                outs.append(names[out])
            namespace[f"k{k}"] = make_kernel(node)
            target = outs[0] if len(outs) == 1 else ", ".join(outs)
            lines.append(f"    {target} = k{k}({', '.join(args)})")
        results = []
        for out in fgraph.outputs:
            if out not in names:
                if not isinstance(out, Constant):
                    raise ValueError(f"output {out} is not computable from the function's inputs")
                names[out] = f"c{len(namespace)}"
                namespace[names[out]] = out.data
            name = names[out]
            if copy_outputs and _may_alias_input(out, fgraph):
                name = f"np.array({name})"
            results.append(name)
        params = ", ".join(f"v{i}" for i in range(len(fgraph.inputs)))
        src = f"def run({params}):\n" + "\n".join(lines) + (
            f"\n    return ({', '.join(results)}{',' if len(results) == 1 else ''})\n")
        self.source = src
        exec(compile(src, "<layers_on_graph program>", "exec"), namespace)
        self.run = namespace["run"]
        self._code = self.run.__code__

    def describe_failure(self, exc: BaseException) -> str | None:
        """Explain which node raised ``exc`` while ``run`` executed, or None."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code is not self._code:
            tb = tb.tb_next
        if tb is None:
            return None
        index = tb.tb_lineno - 1 - _HEADER_LINES
        if not 0 <= index < len(self.nodes):
            return None
        node = self.nodes[index]
        local = tb.tb_frame.f_locals
        arg_names = self.source.splitlines()[index + _HEADER_LINES].split("(", 1)[1].rstrip(")").split(", ")
        values = [local.get(a, tb.tb_frame.f_globals.get(a)) for a in arg_names if a]
        shapes = [getattr(v, "shape", "?") for v in values]
        dtypes = [str(getattr(v, "dtype", type(v).__name__)) for v in values]
        trace = next((o.tag.trace for o in node.outputs if getattr(o.tag, "trace", None)), None)
        return (f"Apply node that caused the error: {node.op}\n"
                f"Inputs shapes: {shapes}\nInputs dtypes: {dtypes}\n"
                f"The node was created at: {format_trace(trace)}")


def _may_alias_input(var, fgraph: FunctionGraph) -> bool:
    """True if ``var`` might share memory with an input, a shared value or a constant."""
    seen = 0
    while var.owner is not None:
        vmap = getattr(var.owner.op, "view_map", {})
        if var.index not in vmap or seen > 1000:
            return False
        var = var.owner.inputs[vmap[var.index][0]]
        seen += 1
    return True
