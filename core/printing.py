"""Printing graphs: ``pp`` (infix expression) and ``debugprint`` (indented tree)."""
from __future__ import annotations

import io
import sys
from typing import Sequence

from .graph.basic import Constant, Variable


def _scalar_op(node):
    return getattr(node.op, "scalar_op", None)


def pp(var: Variable) -> str:
    """An infix rendering of ``var``'s graph, in Theano's style: ``(x + y)``.

    Examples
    --------
    >>> x = T.dscalar('x'); pp(x + 2 * x)
    '(x + (2 * x))'
    """
    memo: dict[int, str] = {}

    def render(v: Variable) -> str:
        key = id(v)
        if key in memo:
            return memo[key]
        if isinstance(v, Constant):
            text = str(v)
        elif v.owner is None:
            text = v.name if v.name is not None else f"<{v.type}>"
        else:
            node = v.owner
            args = [render(i) for i in node.inputs]
            sop = _scalar_op(node)
            symbol = getattr(sop, "symbol", None)
            if hasattr(sop, "fgraph"):  # a fused Composite: show the expression it computes
                text = sop.expression(args)[v.index]
            elif hasattr(node.op, "pp_format"):  # ops with their own notation (x[1:3])
                text = node.op.pp_format(args)
            elif symbol and len(args) >= 2:
                text = "(" + f" {symbol} ".join(args) + ")"
            elif symbol and len(args) == 1:
                text = f"{symbol}{args[0]}"
            elif sop is not None:
                text = f"{sop}({', '.join(args)})"
            else:
                text = f"{node.op}({', '.join(args)})"
            if node.nout > 1:
                text += f".{v.index}"
        memo[key] = text
        return text

    return render(var)


def debugprint(obj, file=None, ids: str = "CHAR", print_type: bool = True) -> str | None:
    """Print a graph as an indented tree, one node per line, with ids and types.

    ``obj`` is a variable, a list of variables, or a compiled function. Repeated
    sub-graphs are printed once and then referred to by id. With
    ``file='str'`` the text is returned instead of printed.
    """
    from .compile.function import Function

    if isinstance(obj, Function):
        outputs = obj.maker.fgraph.outputs
        order = {node: k for k, node in enumerate(obj.maker.fgraph.toposort())}
        shared_inputs = set(obj.shared_inputs)
    else:
        outputs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
        order, shared_inputs = None, set()
    ident: dict[int, str] = {}
    done: set[int] = set()
    buf = io.StringIO()

    def new_id(v) -> str:
        if id(v) not in ident:
            n = len(ident)
            label = ""
            while True:
                label = chr(ord("A") + n % 26) + label
                n = n // 26 - 1
                if n < 0:
                    break
            ident[id(v)] = label if ids == "CHAR" else str(len(ident))
        return ident[id(v)]

    def line(v: Variable, depth: int) -> None:
        pad = " |" * depth
        typ = f" <{v.type}>" if print_type else ""
        name = f" '{v.name}'" if v.name else ""
        if v.owner is None:
            kind = "shared " if (v in shared_inputs or hasattr(v, "get_value")) else ""
            what = str(v) if isinstance(v, Constant) else (v.name or f"<{v.type}>")
            buf.write(f"{pad}{kind}{what} [id {new_id(v)}]{typ}\n")
            return
        node = v.owner
        out = f".{v.index}" if node.nout > 1 else ""
        topo = f" {order[node]}" if order is not None and node in order else ""
        seen = id(node) in done
        buf.write(f"{pad}{node.op}{out} [id {new_id(node)}]{name}{typ}{topo}{' ...' if seen else ''}\n")
        if seen:
            return
        done.add(id(node))
        for inp in node.inputs:
            line(inp, depth + 1)

    for out in outputs:
        line(out, 0)
    text = buf.getvalue()
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return None
from .print_op import Print  # noqa: E402,F401  (runtime printing op)
from .graphviz import pydotprint  # noqa: E402,F401  (Graphviz pictures of graphs)
