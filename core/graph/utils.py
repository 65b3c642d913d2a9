"""Graph walks: ancestors, topological order, cloning with replacements."""
from __future__ import annotations

from typing import Iterable, Sequence

from .basic import Apply, Variable


def toposort(outputs: Sequence[Variable], stop: Iterable[Variable] = (),
             orderings: dict | None = None) -> list[Apply]:
    """Apply nodes needed for ``outputs``, each after the nodes it reads from.

    Walks no further than the variables in ``stop``. ``orderings`` maps a node to nodes
    that must run before it without being read by it (a node that overwrites a value
    comes after the value's other readers). Iterative, so deep graphs (long unrolled
    chains) do not hit Python's recursion limit.
    """
    stop_ids = {id(v) for v in stop}
    orderings = orderings or {}
    order: list[Apply] = []
    seen: set[int] = set()
    for out in outputs:
        if out.owner is None or id(out) in stop_ids or id(out.owner) in seen:
            continue
        stack = [(out.owner, 0)]
        seen.add(id(out.owner))
        while stack:
            node, i = stack.pop()
            n_in = len(node.inputs)
            before = orderings.get(node, ())
            if i < n_in + len(before):
                stack.append((node, i + 1))
                if i < n_in:
                    inp = node.inputs[i]
                    owner = None if id(inp) in stop_ids else inp.owner
                else:
                    owner = before[i - n_in]
                if owner is not None and id(owner) not in seen:
                    seen.add(id(owner))
                    stack.append((owner, 0))
            else:
                order.append(node)
    return order


def graph_inputs(outputs: Sequence[Variable], stop: Iterable[Variable] = ()) -> list[Variable]:
    """Ownerless variables (inputs, shared, constants) the outputs depend on, in order."""
    stop_list = list(stop)
    stop_ids = {id(v) for v in stop_list}
    found: dict[int, Variable] = {}
    for out in outputs:
        if out.owner is None or id(out) in stop_ids:
            found.setdefault(id(out), out)
    for node in toposort(outputs, stop_list):
        for inp in node.inputs:
            if inp.owner is None or id(inp) in stop_ids:
                found.setdefault(id(inp), inp)
    return list(found.values())


def ancestors(outputs: Sequence[Variable], stop: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable the outputs depend on, themselves included."""
    result = {id(v): v for v in graph_inputs(outputs, stop)}
    for node in toposort(outputs, stop):
        for v in node.inputs + node.outputs:
            result.setdefault(id(v), v)
    for v in outputs:
        result.setdefault(id(v), v)
    return list(result.values())


def clone_replace(outputs: Sequence[Variable], replace: dict | None = None,
                  keep_inputs: Iterable[Variable] = ()) -> tuple[list[Variable], dict]:
    """Copy the graph of ``outputs``, substituting ``replace``'s keys by its values.

    Ownerless variables are kept as they are (they are the graph's inputs);
    every Apply node between them and the outputs is rebuilt. Returns the new
    outputs and the map from old variables to new ones.
    """
    equiv: dict[Variable, Variable] = dict(replace or {})
    for v in keep_inputs:
        equiv.setdefault(v, v)
    for node in toposort(outputs, stop=list(equiv)):
        new_inputs = [equiv.get(i, i) for i in node.inputs]
        new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            equiv.setdefault(old, new)
    return [equiv.get(o, o) for o in outputs], equiv
