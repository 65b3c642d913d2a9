"""pydotprint: a picture of a graph through Graphviz (``dot``), or its DOT text.

Apply nodes are boxes labelled with their op (fused nodes show their inner
expression); inputs are green ellipses, shared values blue, constants grey,
outputs double-bordered. Edges are labelled with the input position when an
op has several inputs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings

from .graph.basic import Constant, Variable
from .graph.utils import toposort


def _graph_of(obj):
    """(inputs, outputs, shared) of a compiled function, a variable or a list of variables."""
    maker = getattr(obj, "maker", None)
    if maker is not None:
        fg = maker.fgraph
        shared = {id(v) for v in getattr(obj, "shared_inputs", [])}
        return list(fg.inputs), list(fg.outputs), shared
    outs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if not all(isinstance(o, Variable) for o in outs):
        raise TypeError(f"pydotprint: expected a compiled function or variables, got {obj!r}")
    return [], outs, set()


def _quote(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text[:200]}"'


def dot_source(obj, name: str = "G") -> str:
    """The DOT text of the graph of ``obj`` (a compiled function or variables)."""
    from .compile.shared import SharedVariable

    inputs, outputs, shared = _graph_of(obj)
    ids: dict[int, str] = {}
    lines = [f"digraph {name} {{", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']

    input_ids = {id(v) for v in inputs}

    def var_id(v) -> str:
        if id(v) not in ids:
            ids[id(v)] = f"v{len(ids)}"
            if v.owner is None or id(v) in input_ids:
                if isinstance(v, Constant):
                    style = 'shape=ellipse, style=filled, fillcolor="#dddddd"'
                elif isinstance(v, SharedVariable) or id(v) in shared:
                    style = 'shape=ellipse, style=filled, fillcolor="#9ecae1"'
                else:
                    style = 'shape=ellipse, style=filled, fillcolor="#a1d99b"'
                label = f"{v} {getattr(v.type, 'dtype', '')}{getattr(v.type, 'shape', '')}"
                lines.append(f"  {ids[id(v)]} [label={_quote(label)}, {style}];")
        return ids[id(v)]

    for k, node in enumerate(toposort(outputs, stop=inputs)):
        nid = f"n{k}"
        lines.append(f"  {nid} [label={_quote(str(node.op))}, shape=box];")
        for i, inp in enumerate(node.inputs):
            src = var_id(inp)
            edge = f" [label={i}]" if len(node.inputs) > 1 else ""
            lines.append(f"  {src} -> {nid}{edge};")
        for out in node.outputs:
            ids[id(out)] = nid
    for i, out in enumerate(outputs):
        oid = f"out{i}"
        label = f"output {i}: {getattr(out.type, 'dtype', '')}{getattr(out.type, 'shape', '')}"
        lines.append(f"  {oid} [label={_quote(label)}, shape=ellipse, peripheries=2];")
        lines.append(f"  {var_id(out)} -> {oid};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(obj, outfile: str = "graph.png", format: str | None = None) -> str:
    """Draw the graph of ``obj`` (a compiled function or variables) to ``outfile``.

    The format follows the file's extension (``.svg``, ``.png``, ``.pdf``; ``.dot``
    writes the DOT text). Without Graphviz's ``dot`` program the DOT text is
    written next to ``outfile`` with a ``.dot`` extension, with a warning.
    Returns the path written.

    Examples
    --------
    >>> f = function([a], a + a ** 10); pydotprint(f, 'after.svg')
    """
    text = dot_source(obj)
    fmt = format or os.path.splitext(outfile)[1].lstrip(".").lower() or "dot"
    dot = shutil.which("dot")
    if fmt != "dot" and dot is None:
        warnings.warn("pydotprint: Graphviz's `dot` is not installed; writing the DOT text "
                      "instead of a picture", stacklevel=2)
        outfile, fmt = os.path.splitext(outfile)[0] + ".dot", "dot"
    tmp = f"{outfile}.tmp{os.getpid()}"
    if fmt == "dot":
        with open(tmp, "w") as fh:
            fh.write(text)
    else:
        proc = subprocess.run([dot, f"-T{fmt}", "-o", tmp], input=text.encode(), capture_output=True)
        if proc.returncode != 0:
            raise ValueError(f"pydotprint: dot failed on format {fmt!r}: "
                             f"{proc.stderr.decode(errors='replace').strip()}")
    os.replace(tmp, outfile)
    return outfile
