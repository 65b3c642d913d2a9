"""Turn a FunctionGraph into one generated Python function that calls kernels in order.

The generated function has one line per node (``v7 = k3(v2, v5)``), so a call
costs one Python statement per kernel and nothing else: no graph walking, no
storage lists. Input checks, shared-value reads and updates are generated
lines too. When a kernel raises, the failing line in the traceback names the
node, and its inputs are read from the frame's locals to build the error.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.fg import FunctionGraph
from ..graph.trace import format_trace
from .code_cache import compile_cached
from .schedule import execution_order


class Program:
    """A compiled FunctionGraph.

    ``fgraph.inputs`` are the user's inputs followed by ``shared_inputs``;
    ``fgraph.outputs`` are the ``n_outputs`` outputs followed by one update
    expression per entry of ``update_targets``. ``run_checked(*user_values)``
    converts each user value with ``checkers[k]`` unless it already is an
    ndarray of the right dtype, ndim and static shape; ``run_trusted`` skips
    that. Both return the single output (``single``) or a list of outputs,
    after writing the updates into the shared variables.
    """

    def __init__(self, fgraph: FunctionGraph, make_kernel: Callable, n_user_inputs: int,
                 n_outputs: int, update_targets: Sequence = (), single: bool = False,
                 checkers: Sequence[Callable] | None = None,
                 make_kernels: Callable | None = None, borrow: Sequence[bool] = ()):
        self.fgraph = fgraph
        self.nodes = execution_order(fgraph, fgraph.outputs[:n_outputs])
        # make_kernels(nodes) builds every kernel at once (one C module per function)
        kernels = make_kernels(self.nodes) if make_kernels is not None else None
        self.kernels = kernels  # as built (a C loop asks a lazy C kernel for its functions)
        self.namespace: dict = {"ndarray": np.ndarray, "_copy": _copy}
        names: dict[Variable, str] = {}
        params = [f"v{i}" for i in range(n_user_inputs)]
        for i, v in enumerate(fgraph.inputs):
            names[v] = f"v{i}"
        prologue = []  # shared reads
        for i, sv in enumerate(fgraph.inputs[n_user_inputs:], start=n_user_inputs):
            self.namespace[f"s{i}"] = sv
            prologue.append(f"v{i} = s{i}._value")
        body = []  # (line, node index)
        counter = len(fgraph.inputs)
        for k, node in enumerate(self.nodes):
            args = [self._name_of(inp, names, node) for inp in node.inputs]
            outs = []
            for out in node.outputs:
                names[out] = f"v{counter}"
                counter += 1
                outs.append(names[out])
            kernel = kernels[k] if kernels is not None else make_kernel(node)
            self.namespace[f"k{k}"] = kernel.fn  # a backends.Kernel: its function is called
            # A lazy kernel (the C backend's, until its module is compiled) may swap the
            # compiled kernel into this slot, leaving no wrapper in the call path.
            if kernel.bind_slot is not None:
                kernel.bind_slot(self.namespace, f"k{k}")
            body.append((f"{', '.join(outs)}{',' if len(outs) == 1 and node.nout > 1 else ''}"
                         f" = k{k}({', '.join(args)})", k))
        results, returned = [], set()
        for j, out in enumerate(fgraph.outputs):
            name = self._name_of(out, names, None)
            # Each output and update gets its own buffer: none may alias an
            # input, a shared value, a constant or another output (unless borrowed).
            borrowed = j < len(borrow) and borrow[j]
            if (_may_alias_input(out) and not borrowed) or name in returned:
                results.append(f"r{j} = _copy({name})")
            else:
                results.append(f"r{j} = {name}")
            returned.add(name)
        updates = [f"s{fgraph.inputs.index(sv)}._value = r{n_outputs + j}"
                   for j, sv in enumerate(update_targets)]
        outs = [f"r{j}" for j in range(n_outputs)]
        ret = outs[0] if single else f"[{', '.join(outs)}]"
        checks = [] if checkers is None else self._checks(fgraph.inputs[:n_user_inputs], checkers)
        self.run_trusted, self._trusted_lines = self._build(
            "run_trusted", params, prologue, body, results + updates, ret)
        if checkers is not None:
            self.run_checked, self._checked_lines = self._build(
                "run_checked", params, checks + prologue, body, results + updates, ret)
        else:
            self.run_checked, self._checked_lines = self.run_trusted, self._trusted_lines

    def _name_of(self, var: Variable, names: dict, node) -> str:
        if var not in names:
            if not isinstance(var, Constant):
                where = f"{node.op}: input" if node is not None else "output"
                raise ValueError(f"{where} {var} is not computable from the function's inputs")
            names[var] = f"c{len(self.namespace)}"
            self.namespace[names[var]] = var.data
        return names[var]

    def _checks(self, inputs: Sequence[Variable], checkers: Sequence[Callable]) -> list[str]:
        lines = []
        for k, (var, check) in enumerate(zip(inputs, checkers)):
            self.namespace[f"d{k}"] = np.dtype(var.type.dtype)
            self.namespace[f"f{k}"] = check
            conds = [f"type(v{k}) is not ndarray", f"v{k}.dtype is not d{k}",
                     f"v{k}.ndim != {var.type.ndim}"]
            conds += [f"v{k}.shape[{d}] != {s}" for d, s in enumerate(var.type.shape)
                      if s is not None]
            lines.append(f"if {' or '.join(conds)}: v{k} = f{k}(v{k})")
        return lines

    def _build(self, fname, params, head, body, tail, ret):
        lines = [f"def {fname}({', '.join(params)}):"]
        lines += [f"    {line}" for line in head]
        line_to_node = {}
        for line, k in body:
            lines.append(f"    {line}")
            line_to_node[len(lines)] = k
        lines += [f"    {line}" for line in tail]
        lines.append(f"    return {ret}")
        src = "\n".join(lines) + "\n"
        if fname == "run_trusted":
            self.source = src
        exec(compile_cached(src, f"<layers_on_graph {fname}>"), self.namespace)
        return self.namespace[fname], (self.namespace[fname].__code__, line_to_node, src)

    def describe_failure(self, exc: BaseException) -> str | None:
        """Explain which node raised ``exc`` while the program ran, or None."""
        for code, line_to_node, src in (self._trusted_lines, self._checked_lines):
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code is not code:
                tb = tb.tb_next
            if tb is None:
                continue
            index = line_to_node.get(tb.tb_lineno)
            if index is None:
                return None
            node = self.nodes[index]
            local = tb.tb_frame.f_locals
            call = src.splitlines()[tb.tb_lineno - 1].split("(", 1)[1].rstrip(")")
            values = [local.get(a, self.namespace.get(a)) for a in call.split(", ") if a]
            shapes = [getattr(v, "shape", "?") for v in values]
            dtypes = [str(getattr(v, "dtype", type(v).__name__)) for v in values]
            trace = next((o.tag.trace for o in node.outputs if getattr(o.tag, "trace", None)), None)
            return (f"Apply node that caused the error: {node.op}\n"
                    f"Inputs shapes: {shapes}\nInputs dtypes: {dtypes}\n"
                    f"The node was created at: {format_trace(trace)}")
        return None


def _copy(value):
    """A copy of an output (a numpy or a device array: ``np.array`` refuses cupy's)."""
    return value.copy() if hasattr(value, "copy") else np.array(value)


def _may_alias_input(var) -> bool:
    """True if ``var`` might share memory with an input, a shared value or a constant."""
    seen = 0
    while var.owner is not None:
        vmap = getattr(var.owner.op, "view_map", {})
        if var.index not in vmap or seen > 1000:
            return False
        var = var.owner.inputs[vmap[var.index][0]]
        seen += 1
    return True
