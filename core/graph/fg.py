"""FunctionGraph: a private copy of a graph that rewrites may change in place."""
from __future__ import annotations

from typing import Sequence

from .basic import Apply, Variable
from .utils import clone_replace, toposort


class FunctionGraph:
    """A graph between fixed ``inputs`` and ``outputs``, with client lists.

    The nodes between inputs and outputs are cloned (unless ``clone=False``),
    so rewriting never touches the user's graph. Inputs stay the user's own
    variables, so ``fgraph.inputs`` can be matched against what was passed.
    ``clients[var]`` lists ``(node, i)`` pairs, with ``("output", i)`` for
    the graph's outputs.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True):
        self.inputs = list(inputs)
        if clone:
            outputs, _ = clone_replace(outputs, keep_inputs=self.inputs)
        self.outputs = list(outputs)
        self._rebuild()

    def _rebuild(self) -> None:
        self.clients: dict[Variable, list] = {}
        self.apply_nodes: set[Apply] = set()
        for node in toposort(self.outputs, stop=self.inputs):
            self._import(node)
        for i, out in enumerate(self.outputs):
            self.clients.setdefault(out, []).append(("output", i))
        self._order = None

    def _import(self, node: Apply) -> None:
        self.apply_nodes.add(node)
        for i, inp in enumerate(node.inputs):
            self.clients.setdefault(inp, []).append((node, i))
        for out in node.outputs:
            self.clients.setdefault(out, [])

    @property
    def variables(self) -> set[Variable]:
        return set(self.clients)

    def toposort(self) -> list[Apply]:
        """Apply nodes in an order where each comes after those it reads."""
        if self._order is None:
            self._order = toposort(self.outputs, stop=self.inputs)
        return list(self._order)

    def replace(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of ``old`` read ``new`` instead."""
        if old is new:
            return
        if old.type != new.type and getattr(old.type, "ndim", None) != getattr(new.type, "ndim", None):
            raise TypeError(f"FunctionGraph.replace({reason}): {old.type} cannot become {new.type}")
        if new.tag.__dict__.get("trace") is None:
            new.tag.trace = old.tag.trace
        for client, i in list(self.clients.get(old, [])):
            if client == "output":
                self.outputs[i] = new
            else:
                client.inputs[i] = new
        self._rebuild()

    def replace_all(self, pairs, reason: str | None = None) -> None:
        for old, new in pairs:
            self.replace(old, new, reason)

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
