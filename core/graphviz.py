"""pydotprint: a picture of a graph through Graphviz (``dot``), or its DOT text.

Theano's keywords and looks: apply nodes are boxes coloured by op class
(``colorCodes``), inputs green ellipses, shared values cyan, constants grey,
outputs blue; with ``compact`` (the default) an unnamed intermediate variable is
an edge between two boxes, labelled with its type, instead of an ellipse.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings

from .graph.basic import Constant, Variable
from .graph.utils import toposort

# Theano's default fill colours by op class name (an op's classes are looked up in order)
COLOR_CODES = {"Scan": "yellow", "Shape": "brown", "Shape_i": "brown", "IfElse": "magenta",
               "Elemwise": "#FFAABB", "Subtensor": "#FFAAFF", "Alloc": "#FFAA22",
               "Output": "blue"}
_INPUT, _SHARED, _CONSTANT = "green", "cyan", "#dddddd"


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


def _quote(text: str, limit: int | None = None) -> str:
    """``text`` as a quoted DOT string, cut to ``limit`` characters when given."""
    if limit is not None and len(text) > limit:
        text = text[:max(limit - 3, 0)] + "..."
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _type_text(v) -> str:
    return f"{getattr(v.type, 'dtype', '')}{getattr(v.type, 'shape', '')}"


def _op_color(op, codes: dict) -> str | None:
    for cls in type(op).__mro__:
        if cls.__name__ in codes:
            return codes[cls.__name__]
    return None


def _style(color: str | None, high_contrast: bool) -> str:
    if color is None:
        return ""
    return f', style=filled, fillcolor="{color}"' if high_contrast else f', color="{color}"'


def dot_source(obj, name: str = "G", compact: bool = True, with_ids: bool = False,
               var_with_name_simple: bool = False, high_contrast: bool = True,
               max_label_size: int = 70, colorCodes: dict | None = None) -> str:
    """The DOT text of the graph of ``obj`` (a compiled function or variables).

    The keywords are ``pydotprint``'s.
    """
    from .compile.shared import SharedVariable

    codes = COLOR_CODES if colorCodes is None else colorCodes
    inputs, outputs, shared = _graph_of(obj)
    input_ids, output_ids = {id(v) for v in inputs}, {id(v) for v in outputs}
    nodes = toposort(outputs, stop=inputs)
    lines = [f"digraph {name} {{", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    var_ids: dict[int, str] = {}  # variables drawn as ellipses
    node_ids = {id(node): f"n{k}" for k, node in enumerate(nodes)}

    def var_label(v) -> str:
        if v.name is not None:
            text = v.name if var_with_name_simple else f"name={v.name} {_type_text(v)}"
        elif isinstance(v, Constant):
            text = f"constant {v.data!s} {_type_text(v)}"
        else:
            text = _type_text(v)
        return f"{text} id={len(var_ids)}" if with_ids else text

    def drawn(v) -> bool:
        return (v.owner is None or id(v) in input_ids or id(v) in output_ids or not compact
                or v.name is not None)

    def var_node(v) -> str:
        if id(v) not in var_ids:
            if v.owner is not None and id(v) not in input_ids:
                color = codes.get("Output") if id(v) in output_ids else None
            elif isinstance(v, Constant):
                color = _CONSTANT
            elif isinstance(v, SharedVariable) or id(v) in shared:
                color = _SHARED
            else:
                color = _INPUT
            label = var_label(v)
            var_ids[id(v)] = f"v{len(var_ids)}"
            lines.append(f"  {var_ids[id(v)]} [label={_quote(label, max_label_size)}, "
                         f"shape=ellipse{_style(color, high_contrast)}];")
        return var_ids[id(v)]

    for k, node in enumerate(nodes):
        label = f"{node.op} id={k}" if with_ids else str(node.op)
        lines.append(f"  {node_ids[id(node)]} [label={_quote(label, max_label_size)}, shape=box"
                     f"{_style(_op_color(node.op, codes), high_contrast)}];")
        for i, inp in enumerate(node.inputs):
            edge = [str(i)] if len(node.inputs) > 1 else []
            if drawn(inp):
                src = var_node(inp)
            else:
                src = node_ids[id(inp.owner)]
                edge.append(_type_text(inp))
            text = f" [label={_quote(' '.join(edge), max_label_size)}]" if edge else ""
            lines.append(f"  {src} -> {node_ids[id(node)]}{text};")
        for out in node.outputs:
            if drawn(out):
                lines.append(f"  {node_ids[id(node)]} -> {var_node(out)};")
    for out in outputs:
        if out.owner is None or id(out) in input_ids:
            var_node(out)
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(fct, outfile: str | None = None, compact: bool = True, format: str | None = None,
               with_ids: bool = False, high_contrast: bool = True, cond_highlight=None,
               colorCodes: dict | None = None, max_label_size: int = 70,
               scan_graphs: bool = False, var_with_name_simple: bool = False,
               print_output_file: bool = True, return_image: bool = False):
    """Draw the graph of ``fct`` (a compiled function or variables), Theano's ``pydotprint``.

    Parameters
    ----------
    outfile : the file to write; default ``<compiledir>/pydotprint.<device>.<format>``
    compact : draw unnamed intermediate variables as edges, not ellipses
    format : 'png', 'svg', 'pdf', ... or 'dot' (the DOT text); default: the extension of
        ``outfile``, else 'png'
    with_ids : add each node's position in the order and each variable's number
    high_contrast : fill the shapes with their colours (else colour their borders)
    colorCodes : {op class name: colour} for the boxes (default ``COLOR_CODES``)
    max_label_size : labels longer than this are cut, ending with '...'
    var_with_name_simple : label named variables by name only (else name and type)
    print_output_file : print where the file went
    return_image : return the picture's bytes instead of writing a file

    Without Graphviz's ``dot`` program the DOT text is written next to ``outfile``
    with a ``.dot`` extension, with a warning. Returns the path written.

    Examples
    --------
    >>> f = function([a], a + a ** 10); pydotprint(f, 'after.svg', with_ids=True)
    """
    if cond_highlight is not None:
        raise NotImplementedError("pydotprint: cond_highlight (IfElse branches) is not supported")
    if scan_graphs:
        raise NotImplementedError("pydotprint: scan_graphs (scan's inner graphs) is not supported")
    text = dot_source(fct, compact=compact, with_ids=with_ids,
                      var_with_name_simple=var_with_name_simple, high_contrast=high_contrast,
                      max_label_size=max_label_size, colorCodes=colorCodes)
    if outfile is None:
        from .config import config

        os.makedirs(config.compiledir, exist_ok=True)
        outfile = os.path.join(config.compiledir, f"pydotprint.{config.device}.{format or 'png'}")
    fmt = format or os.path.splitext(outfile)[1].lstrip(".").lower() or "png"
    dot = shutil.which("dot")
    if return_image:
        if fmt == "dot":
            return text.encode()
        if dot is None:
            raise RuntimeError("pydotprint: return_image needs Graphviz's `dot` program")
        return _render(dot, text, fmt, "-")
    if fmt != "dot" and dot is None:
        warnings.warn("pydotprint: Graphviz's `dot` is not installed; writing the DOT text "
                      "instead of a picture", stacklevel=2)
        outfile, fmt = os.path.splitext(outfile)[0] + ".dot", "dot"
    tmp = f"{outfile}.tmp{os.getpid()}"
    if fmt == "dot":
        with open(tmp, "w") as fh:
            fh.write(text)
    else:
        _render(dot, text, fmt, tmp)
    os.replace(tmp, outfile)
    if print_output_file:
        print("The output file is available at", outfile)
    return outfile


def _render(dot: str, text: str, fmt: str, target: str) -> bytes:
    """Run ``dot`` on ``text``; ``target`` '-' returns the picture's bytes."""
    args = [dot, f"-T{fmt}"] + ([] if target == "-" else ["-o", target])
    proc = subprocess.run(args, input=text.encode(), capture_output=True)
    if proc.returncode != 0:
        raise ValueError(f"pydotprint: dot failed on format {fmt!r}: "
                         f"{proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout
