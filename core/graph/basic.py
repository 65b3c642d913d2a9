"""The graph's building blocks: Type, Variable, Constant, Apply, Op.

An Op is pure description: ``make_node`` infers output types, ``L_op``/``grad``
gives the gradient as more graph, ``__props__`` defines equality so identical
nodes can be merged. Numeric code lives in ``backends``.
"""
from __future__ import annotations

from typing import Any, Sequence

from .trace import SCOPES, user_frame


class Type:
    """The type of a Variable: knows how to check and convert runtime values."""

    variable_type: type = None  # set by subclasses
    constant_type: type = None

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None):
        raise NotImplementedError

    def make_variable(self, name: str | None = None) -> "Variable":
        return self.variable_type(self, owner=None, index=None, name=name)

    def __call__(self, name: str | None = None) -> "Variable":
        return self.make_variable(name)


class Tag:
    """A free-form bag of annotations (``trace`` holds the user's source line)."""

    def __repr__(self) -> str:
        return f"Tag({self.__dict__})"


class Variable:
    """A value in the graph: an input (``owner is None``) or the output of an Apply."""

    def __init__(self, type: Type, owner: "Apply | None" = None, index: int | None = None,
                 name: str | None = None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()
        self.tag.trace = user_frame()
        if SCOPES:
            self.tag.scope = "/".join(SCOPES)

    def clone(self) -> "Variable":
        """A new, ownerless variable of the same type, name and trace."""
        cp = type(self)(self.type, None, None, self.name)
        cp.tag.__dict__.update(self.tag.__dict__)
        return cp

    def eval(self, inputs_to_values: dict | None = None):
        """Compile (once per input set) and evaluate this variable."""
        from ..compile.function import function

        inputs_to_values = inputs_to_values or {}
        keys = tuple(inputs_to_values)
        cache = self.__dict__.setdefault("_eval_cache", {})
        if keys not in cache:
            cache[keys] = function(list(keys), self, on_unused_input="ignore")
        return cache[keys](*[inputs_to_values[k] for k in keys])

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)


class Constant(Variable):
    """A variable with a fixed value; equal constants merge."""

    def __init__(self, type: Type, data: Any, name: str | None = None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self):
        return (self.type, self.data)

    def clone(self) -> "Constant":
        cp = type(self)(self.type, self.data, self.name)
        cp.tag.__dict__.update(self.tag.__dict__)
        return cp

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.data)


class Apply:
    """One application of an Op to input variables, producing output variables."""

    def __init__(self, op: "Op", inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is not None and (out.owner is not self or out.index != i):
                raise ValueError(f"{op}: output {i} already belongs to another node")
            out.owner, out.index = self, i
        self.tag = Tag()

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    @property
    def out(self) -> Variable:
        return self.outputs[0]

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> "Apply":
        """Rebuild this node on new inputs, keeping types (and traces) where they match."""
        if strict and all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            outputs = [o.clone() for o in self.outputs]
            for o in outputs:
                o.owner = None
            return Apply(self.op, inputs, outputs)
        node = self.op.make_node(*inputs)
        for new, old in zip(node.outputs, self.outputs):
            new.tag.trace = old.tag.trace
            if hasattr(old.tag, "scope"):
                new.tag.scope = old.tag.scope
            new.name = old.name
        return node

    def __str__(self) -> str:
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__


class Op:
    """Base class of operations. Subclasses list their parameters in ``__props__``."""

    __props__: tuple[str, ...] = ()
    view_map: dict[int, list[int]] = {}
    destroy_map: dict[int, list[int]] = {}
    # Many flops per byte (matrix products, convolutions): a compiled function runs the
    # cheap readers of a fresh value before these, which stream enough data to evict it.
    compute_bound: bool = False

    def make_node(self, *inputs) -> Apply:
        raise NotImplementedError

    def __call__(self, *inputs, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def grad(self, inputs: list[Variable], output_grads: list[Variable]) -> list[Variable]:
        raise NotImplementedError(f"{self} has no gradient")

    def L_op(self, inputs, outputs, output_grads):
        """Gradient with access to the forward outputs; defaults to ``grad``."""
        return self.grad(inputs, output_grads)

    def R_op(self, inputs, eval_points):
        raise NotImplementedError(f"{self} has no R_op")

    def _props(self) -> tuple:
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self) -> int:
        return hash((type(self), self._props()))

    name: str | None = None  # a display name; the class name when None

    def __str__(self) -> str:
        label = self.name or type(self).__name__
        props = self._props()
        if not props:
            return label
        return f"{label}{{{', '.join(map(str, props))}}}"

    __repr__ = __str__
