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
        # node -> nodes that must run before it without being read by it (set by the
        # inplace pass: an update overwriting a shared value after the value's readers)
        self.orderings: dict[Apply, list[Apply]] = {}
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
            self._order = toposort(self.outputs, stop=self.inputs, orderings=self.orderings)
        return list(self._order)

    def replace(self, old: Variable, new: Variable, reason: str | None = None) -> None:
        """Make every client of ``old`` read ``new`` instead.

        Incremental: imports the nodes ``new`` brings, moves the client entries,
        and drops the nodes left without clients; cost is proportional to the
        nodes touched, not to the graph.
        """
        if old is new:
            return
        if old.type != new.type and getattr(old.type, "ndim", None) != getattr(new.type, "ndim", None):
            raise TypeError(f"FunctionGraph.replace({reason}): {old.type} cannot become {new.type}")
        if new.tag.__dict__.get("trace") is None:
            new.tag.trace = old.tag.trace
        moved = self.clients.get(old, [])
        self.clients[old] = []
        self._import_var(new, reason)  # after taking old's clients: new may read old
        new_clients = self.clients.setdefault(new, [])
        for client, i in moved:
            if client == "output":
                self.outputs[i] = new
            else:
                client.inputs[i] = new
            new_clients.append((client, i))
        self._prune(old)
        self._order = None

    def _import_var(self, var: Variable, reason) -> None:
        """Add the nodes between the graph and ``var`` (in dependency order)."""
        if var in self.clients or var.owner is None or var.owner in self.apply_nodes:
            if var.owner is None and var not in self.clients:
                self._check_free(var, reason)
                self.clients[var] = []
            return
        order: list[Apply] = []
        stack = [(var.owner, 0)]
        seen = {var.owner}
        while stack:  # post-order walk that stops at what the graph already has
            node, i = stack.pop()
            if i < len(node.inputs):
                stack.append((node, i + 1))
                inp = node.inputs[i]
                if inp in self.clients:
                    continue
                owner = inp.owner
                if owner is None:
                    self._check_free(inp, reason)
                elif owner not in self.apply_nodes and owner not in seen:
                    seen.add(owner)
                    stack.append((owner, 0))
            else:
                order.append(node)
        for node in order:
            self._import(node)

    def _check_free(self, var: Variable, reason) -> None:
        from .basic import Constant

        if not isinstance(var, Constant) and not any(var is i for i in self.inputs):
            raise ValueError(f"FunctionGraph.replace({reason}): {var} ({var.type}) is not "
                             f"computable from the graph's inputs")

    def _prune(self, var: Variable) -> None:
        """Remove ``var``'s owner (and its now unused ancestors) if nothing reads them."""
        stack = [var]
        while stack:
            v = stack.pop()
            node = v.owner
            if node is None or node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.clients.pop(o, None)
            for i, inp in enumerate(node.inputs):
                cl = self.clients.get(inp)
                if cl is not None:
                    try:
                        cl.remove((node, i))
                    except ValueError:
                        pass
                    if not cl:
                        stack.append(inp)

    def replace_all(self, pairs, reason: str | None = None) -> None:
        for old, new in pairs:
            self.replace(old, new, reason)

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"
