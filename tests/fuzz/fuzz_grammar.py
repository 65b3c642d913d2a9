"""A grammar of random graphs for the differential fuzzer (``test_differential.py``).

A graph is grown step by step from a pool of terms. Each term is a symbolic variable
with its dimensions named by letter (``'n'``, ``'k'``, ``'m'``, sizes drawn per graph;
``'1'`` a broadcastable dimension), so that every rule knows which terms it may combine:
elementwise ops with broadcasting, switch, dimshuffles, reductions, ``dot``, the softmax
family, the crossentropies, indexing (slices, gathers, ``x[arange(n), y]``, set and
inc_subtensor), repeated subexpressions, and shared variables updated by SGD or momentum.

Besides the graph, the builder records "kinks": the operands of every maximum, minimum,
relu, abs, switch condition and max/min reduction. The fuzzer reads them in the
reference run to reject inputs where two optimized graphs could, by rounding, take
different branches of a kink (a near-tie): their gradients would then legitimately
differ. Exact ties (the same value on both sides) are kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st

import core.tensor as T
from core import shared


@dataclass
class Term:
    """A variable of the graph and its dimensions' letters (``'1'``: broadcastable)."""

    var: object
    dims: tuple
    rebuild: Callable | None = None  # builds the same expression again (a repeated one)


@dataclass
class Graph:
    """A drawn graph: inputs with their values, outputs, cost, shared variables and updates."""

    dtype: str
    inputs: list = field(default_factory=list)        # symbolic inputs
    values: list = field(default_factory=list)        # a function(rng) -> value per input
    wrt: list = field(default_factory=list)           # float inputs and shared, to differentiate
    outputs: list = field(default_factory=list)
    cost: object = None
    shared: list = field(default_factory=list)        # (shared variable, initial value)
    updates: list = field(default_factory=list)
    kinks: list = field(default_factory=list)         # ("pair", a, b) or ("reduce", x, axis)
    steps: list = field(default_factory=list)         # rule names, for error messages

    def __repr__(self):
        return f"Graph({self.dtype}, steps={self.steps}, {len(self.updates)} update(s))"


def _uniform(rng, shape, dtype, low=0.25, high=1.5):
    """Values of moderate size away from zero, either sign."""
    mag = rng.uniform(low, high, shape)
    return (mag * rng.choice([-1.0, 1.0], shape)).astype(dtype)


class Builder:
    """Grows one graph; ``draw`` is hypothesis's draw function."""

    def __init__(self, draw, dtype: str):
        self.draw = draw
        self.g = Graph(dtype)
        # small sizes, sizes that fill the C kernels' vector lanes (16 floats) and leave a
        # remainder (a vectorized math function may round differently from the scalar
        # one), and (n, k) matrices large enough for the C kernels' reused output buffers
        self.sizes = {"n": draw(st.sampled_from([1, 2, 3, 4, 19, 40, 200])),
                      "k": draw(st.sampled_from([2, 3, 4, 5, 17, 36, 180])),
                      "m": draw(st.sampled_from([2, 3, 5, 16, 33])), "1": 1}
        self.made: dict = {}  # cached inputs by key
        self.pool: list[Term] = []

    # --- inputs ---------------------------------------------------------------
    def shape(self, dims) -> tuple:
        return tuple(self.sizes[d] for d in dims)

    def _input(self, key, make_var, make_value, differentiable=True):
        if key not in self.made:
            var = make_var()
            self.g.inputs.append(var)
            self.g.values.append(make_value)
            if differentiable:
                self.g.wrt.append(var)
            self.made[key] = var
        return self.made[key]

    def float_input(self, dims, differentiable: bool = True) -> Term:
        dtype = self.g.dtype
        bcast = tuple(d == "1" for d in dims)
        name = "x_" + "".join(dims)
        var = self._input(("float", dims, differentiable), lambda: T.tensor(
            dtype, shape=tuple(1 if b else None for b in bcast), name=name),
            lambda rng, s=self.shape(dims): _uniform(rng, s, dtype), differentiable)
        return Term(var, tuple(dims))

    def shared_input(self, dims) -> Term:
        key = ("shared", dims)
        if key not in self.made:
            value = _uniform(np.random.default_rng(len(self.made)), self.shape(dims), self.g.dtype)
            var = shared(value.copy(), name="s_" + "".join(dims))
            self.made[key] = var
            self.g.shared.append((var, value))
            self.g.wrt.append(var)
        return Term(self.made[key], tuple(dims))

    def labels(self, rows: str, classes: str):
        n, c = self.sizes[rows], self.sizes[classes]
        return self._input(("labels", rows, classes), lambda: T.ivector(f"y_{rows}{classes}"),
                           lambda rng: rng.integers(0, c, n).astype("int32"), False)

    def gather_index(self, dim: str):
        n = self.sizes[dim]
        return self._input(("gather", dim), lambda: T.lvector(f"i_{dim}"),
                           lambda rng: rng.integers(0, n, n).astype("int64"), False)

    def target(self, dims, onehot=False):
        dtype, shape = self.g.dtype, self.shape(dims)

        def value(rng):
            if onehot:
                return np.eye(shape[1], dtype=dtype)[rng.integers(0, shape[1], shape[0])]
            return rng.uniform(0.05, 0.95, shape).astype(dtype)

        return self._input(("target", dims, onehot), lambda: T.tensor(
            dtype, shape=(None,) * len(dims), name="t_" + "".join(dims)), value, False)

    # --- helpers --------------------------------------------------------------
    def dot_scale(self, inner: str) -> float:
        """1 / sqrt(inner size): a product over 180 terms stays of order one, far from the
        extreme logits whose stability is tested elsewhere (tests/core/rewrite/test_stabilize)."""
        return 1 / float(np.sqrt(self.sizes[inner]))

    def learning_rate(self) -> float:
        """A step that moves the shared values by about 0.1, whatever the sizes summed over."""
        return 0.1 / max(self.sizes.values())

    def pick(self, ok=lambda t: True) -> Term | None:
        choices = [t for t in self.pool if ok(t)]
        if not choices:
            return None
        return choices[self.draw(st.integers(0, len(choices) - 1))]

    def add(self, name: str, var, dims, rebuild=None) -> Term:
        term = Term(var, tuple(dims), rebuild)
        self.pool.append(term)
        self.g.steps.append(name)
        return term

    def aligned(self, a: Term, b: Term):
        """``a`` and ``b`` made broadcast-compatible (a dimshuffle of ``b`` when needed) and
        the result's dims; None when they cannot be."""
        bvar, bd = b.var, b.dims
        if len(bd) == 1 and len(a.dims) == 2 and bd[0] == a.dims[0] != a.dims[1]:
            bvar, bd = bvar.dimshuffle(0, "x"), (bd[0], "1")  # a column against rows
        da, db = a.dims, bd
        width = max(len(da), len(db))
        da, db = ("1",) * (width - len(da)) + da, ("1",) * (width - len(db)) + db
        out = []
        for x, y in zip(da, db):
            if x != y and "1" not in (x, y):
                return None
            out.append(y if x == "1" else x)
        return bvar, tuple(out)

    def kink(self, a, b=None):
        self.g.kinks.append(("pair", a, b if b is not None else T.zeros_like(a)))


UNARY = {
    "tanh": T.tanh, "sigmoid": T.nnet.sigmoid, "neg": lambda a: -a,
    "sqr": lambda a: T.sqr(T.tanh(a)) * 3, "exp_tanh": lambda a: T.exp(T.tanh(a)),
    "log1p_sqr": lambda a: T.log(1 + T.sqr(a)), "sqrt1p": lambda a: T.sqrt(1 + T.sqr(a)),
    "softplus": T.nnet.softplus, "scale_shift": lambda a: a * 0.7 + 0.3,
    "recip": lambda a: 1 / (1 + T.sqr(a)), "cube_tanh": lambda a: T.tanh(a) ** 3,
    "neutral": lambda a: (a * 1 + 0) * 2 - a,
}
KINKED_UNARY = {"relu": T.nnet.relu, "abs": T.abs}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1 + T.sqr(b)), "mean2": lambda a, b: (a + b) / 2,
}
KINKED_BINARY = {"maximum": T.maximum, "minimum": T.minimum}


def rule_unary(b: Builder):
    a = b.pick()
    names = sorted(UNARY) + sorted(KINKED_UNARY)
    name = b.draw(st.sampled_from(names))
    fn = UNARY.get(name) or KINKED_UNARY[name]
    if name in KINKED_UNARY:
        b.kink(a.var)
    b.add(name, fn(a.var), a.dims, lambda: fn(a.var))


def rule_binary(b: Builder):
    x = b.pick()
    y = b.pick(lambda t: b.aligned(x, t) is not None)
    yvar, dims = b.aligned(x, y)
    name = b.draw(st.sampled_from(sorted(BINARY) + sorted(KINKED_BINARY)))
    fn = BINARY.get(name) or KINKED_BINARY[name]
    if name in KINKED_BINARY:
        b.kink(x.var, yvar)
    b.add(name, fn(x.var, yvar), dims, lambda: fn(x.var, yvar))


def rule_switch(b: Builder):
    x = b.pick()
    y = b.pick(lambda t: b.aligned(x, t) is not None)
    yvar, dims = b.aligned(x, y)
    b.kink(x.var, yvar)
    build = lambda: T.switch(T.gt(x.var, yvar), T.tanh(x.var), yvar * 0.5)  # noqa: E731
    b.add("switch", build(), dims, build)


def rule_reduce(b: Builder):
    a = b.pick(lambda t: len(t.dims) > 0)
    axis = b.draw(st.sampled_from([None] + list(range(len(a.dims)))))
    keep = b.draw(st.booleans())
    name = b.draw(st.sampled_from(["sum", "mean", "max", "min", "logsumexp"]))
    if name in ("max", "min"):
        b.g.kinks.append(("reduce", a.var, axis))
    fn = {"sum": T.sum, "mean": T.mean, "max": T.max, "min": T.min,
          "logsumexp": lambda v, axis, keepdims: T.log(T.sum(T.exp(v), axis=axis, keepdims=keepdims))}[name]
    build = lambda: fn(a.var, axis=axis, keepdims=keep)  # noqa: E731
    axes = range(len(a.dims)) if axis is None else [axis]
    dims = tuple("1" if k in axes else d for k, d in enumerate(a.dims)) if keep else tuple(
        d for k, d in enumerate(a.dims) if k not in axes)
    b.add(name + ("_keep" if keep else ""), build(), dims, build)


def rule_dot(b: Builder):
    a = b.pick(lambda t: len(t.dims) > 0 and t.dims[-1] != "1")
    if a is None:
        return
    inner = a.dims[-1]
    other = b.pick(lambda t: len(t.dims) in (1, 2) and t.dims[0] == inner and t is not a)
    if other is None or b.draw(st.booleans()):
        out_dims = b.draw(st.sampled_from([("n",), ("k",), ("m",), ()]))  # (): a vector
        other = (b.shared_input((inner,) + out_dims) if b.draw(st.booleans())
                 else b.float_input((inner,) + out_dims))
    scale = b.dot_scale(inner)
    build = lambda: T.dot(a.var, other.var) * scale  # noqa: E731
    b.add("dot", build(), a.dims[:-1] + other.dims[1:], build)


def rule_dense(b: Builder):
    """A layer: ``act(a @ W + bias)``, its weights shared (updated in place) or inputs."""
    a = b.pick(lambda t: len(t.dims) == 2 and "1" not in t.dims)
    if a is None:
        return
    out = b.draw(st.sampled_from(["k", "m"]))
    make = b.shared_input if b.draw(st.booleans()) else b.float_input
    w, bias = make((a.dims[1], out)), make((out,))
    act = b.draw(st.sampled_from(["relu", "tanh", "linear"]))
    fn = {"relu": T.nnet.relu, "tanh": T.tanh, "linear": lambda v: v}[act]
    scale = b.dot_scale(a.dims[1])
    pre = T.dot(a.var, w.var) * scale + bias.var
    if act == "relu":
        b.kink(pre)
    build = lambda: fn(T.dot(a.var, w.var) * scale + bias.var)  # noqa: E731
    b.add("dense_" + act, fn(pre), (a.dims[0], out), build)


def _matrix(b: Builder):
    return b.pick(lambda t: len(t.dims) == 2 and "1" not in t.dims)


def rule_softmax(b: Builder):
    a = _matrix(b)
    if a is None:
        return
    name = b.draw(st.sampled_from(["softmax", "log_softmax", "log(softmax)", "softmax0"]))
    fn = {"softmax": T.nnet.softmax, "log_softmax": T.nnet.log_softmax,
          "log(softmax)": lambda v: T.log(T.nnet.softmax(v)),
          "softmax0": lambda v: T.nnet.softmax(v, axis=0)}[name]
    b.add(name, fn(a.var), a.dims, lambda: fn(a.var))


def rule_crossentropy(b: Builder):
    a = _matrix(b)
    if a is None:
        return
    rows, classes = a.dims
    name = b.draw(st.sampled_from(["cce_labels", "cce_onehot", "nll_index", "bce", "sigmoid_bce"]))
    if name == "cce_labels":
        y = b.labels(rows, classes)
        fn = lambda: T.nnet.categorical_crossentropy(T.nnet.softmax(a.var), y)  # noqa: E731
        dims = (rows,)
    elif name == "cce_onehot":
        t = b.target(a.dims, onehot=True)
        fn = lambda: T.nnet.categorical_crossentropy(T.nnet.softmax(a.var), t)  # noqa: E731
        dims = (rows,)
    elif name == "nll_index":
        y = b.labels(rows, classes)
        fn = lambda: -T.log(T.nnet.softmax(a.var)[T.arange(a.var.shape[0]), y])  # noqa: E731
        dims = (rows,)
    elif name == "bce":
        t = b.target(a.dims)
        fn = lambda: T.nnet.binary_crossentropy(T.nnet.sigmoid(a.var), t)  # noqa: E731
        dims = a.dims
    else:
        t = b.target(a.dims)
        fn = lambda: T.nnet.sigmoid_binary_crossentropy(a.var, t)  # noqa: E731
        dims = a.dims
    b.add(name, fn(), dims, fn)


def rule_index(b: Builder):
    a = b.pick(lambda t: len(t.dims) > 0 and t.dims[0] != "1")
    if a is None:
        return
    choices = ["reverse", "gather"] + (["reverse_cols", "inc_row", "set_col"] if
                                        len(a.dims) == 2 and a.dims[1] != "1" else [])
    name = b.draw(st.sampled_from(choices))
    if name == "reverse":
        fn = lambda: a.var[::-1]  # noqa: E731
    elif name == "reverse_cols":
        fn = lambda: a.var[:, ::-1]  # noqa: E731
    elif name == "gather":
        idx = b.gather_index(a.dims[0])
        fn = lambda: a.var[idx]  # noqa: E731
    elif name == "inc_row":
        row = b.pick(lambda t: t.dims == a.dims[1:]) or b.float_input(a.dims[1:])
        fn = lambda: T.inc_subtensor(a.var[0], row.var)  # noqa: E731
    else:
        col = b.pick(lambda t: t.dims == a.dims[:1]) or b.float_input(a.dims[:1])
        fn = lambda: T.set_subtensor(a.var[:, 0], T.tanh(col.var))  # noqa: E731
    b.add(name, fn(), a.dims, fn)


def rule_dimshuffle(b: Builder):
    a = b.pick(lambda t: len(t.dims) > 0)
    if len(a.dims) == 2 and "1" in a.dims:
        keep = [k for k, d in enumerate(a.dims) if d != "1"]
        fn = lambda: a.var.dimshuffle(*keep)  # noqa: E731
        dims = tuple(a.dims[k] for k in keep)
    elif len(a.dims) == 2:
        fn = lambda: a.var.T  # noqa: E731
        dims = a.dims[::-1]
    elif b.draw(st.booleans()):
        fn = lambda: a.var.dimshuffle("x", 0)  # noqa: E731
        dims = ("1", a.dims[0])
    else:
        fn = lambda: a.var.dimshuffle(0, "x")  # noqa: E731
        dims = (a.dims[0], "1")
    b.add("dimshuffle", fn(), dims, fn)


def rule_repeat(b: Builder):
    """The same expression built a second time: merge must find it, nothing may mix them up."""
    a = b.pick(lambda t: t.rebuild is not None)
    if a is not None:
        b.add("repeat", a.rebuild(), a.dims, a.rebuild)


def rule_input(b: Builder):
    dims = b.draw(st.sampled_from([("n", "k"), ("k",), ("n",), (), ("1", "k"), ("k", "m")]))
    if b.draw(st.integers(0, 3)) == 0 and len(dims) > 0 and "1" not in dims:
        b.pool.append(b.shared_input(dims))
    else:
        b.pool.append(b.float_input(dims))


RULES = {"unary": rule_unary, "binary": rule_binary, "switch": rule_switch,
         "reduce": rule_reduce, "dot": rule_dot, "softmax": rule_softmax,
         "crossentropy": rule_crossentropy, "index": rule_index,
         "dimshuffle": rule_dimshuffle, "repeat": rule_repeat, "input": rule_input,
         "dense": rule_dense}
# the symptom's ingredients (maximum, relu, dot, log(softmax)) come up often
WEIGHTED_RULES = sorted(RULES) + ["binary", "unary", "dot", "softmax", "dense"]


UPDATES = ["sgd", "momentum", "sgd_return_old", "sgd_return_new", "decay_view", "self_dot"]


def _update(b: Builder, sv, value, g, dims) -> None:
    """The update of shared ``sv`` (gradient ``g``): SGD, momentum (a second shared), or SGD
    plus a term that reads ``sv`` again through a view or a product (an in-place update
    must not overwrite what it still reads)."""
    rule = b.draw(st.sampled_from(UPDATES))
    if rule == "momentum":
        vel = shared(np.zeros_like(value), name=f"vel_{sv.name}")
        b.g.shared.append((vel, np.zeros_like(value)))
        new_vel = 0.9 * vel - b.learning_rate() * g
        b.g.updates += [(vel, new_vel), (sv, sv + new_vel)]
        return
    new = sv
    if rule == "sgd_return_old":
        b.g.outputs.append(sv)  # the old value, returned while updated in place
    elif rule == "decay_view":  # the update's loop reads sv twice, once through a view
        views = [sv[::-1]] + ([sv[0], sv[:, ::-1]] if len(dims) == 2 else [])
        new = (sv + views[b.draw(st.integers(0, len(views) - 1))]) * 0.5
    elif rule == "self_dot" and len(dims) == 2:  # a product accumulating into sv reads sv
        if b.draw(st.booleans()):
            a = b.float_input((dims[0], dims[0]), differentiable=False)
            new = sv - 0.01 * T.dot(a.var, sv)
        else:
            a = b.float_input((dims[1], dims[1]), differentiable=False)
            new = sv - 0.01 * T.dot(sv, a.var)
    new = new - b.learning_rate() * g
    if rule == "sgd_return_new":  # a view of the new value, returned while it is the update
        flipped = new.dimshuffle(*reversed(range(len(dims))))
        b.g.outputs.append(new[::-1] if b.draw(st.booleans()) else flipped)
    b.g.updates.append((sv, new))


def _probe(b: Builder, term: Term):
    """Weights for the term in the cost (not all ones: a row sum of softmax is constant, and
    its gradient would be rounding noise). An input, not a constant: a constant's static
    shape would reach the gradients and keep the in-place pass from their buffers."""
    dtype, shape, k = b.g.dtype, b.shape(term.dims), len(b.g.outputs)
    return b._input(("probe", k, term.dims), lambda: T.tensor(
        dtype, shape=tuple(1 if d == "1" else None for d in term.dims), name=f"p{k}"),
        lambda rng: rng.uniform(0.5, 1.5, shape).astype(dtype), False)


@st.composite
def graphs(draw) -> Graph:
    """A random graph with its cost, outputs, gradients' targets and updates."""
    b = Builder(draw, draw(st.sampled_from(["float64", "float32"])))
    b.pool.append(b.float_input(("n", "k")))
    for _ in range(draw(st.integers(2, 12))):
        RULES[draw(st.sampled_from(WEIGHTED_RULES))](b)
    made = [t for t in b.pool if t.rebuild is not None] or [b.add("tanh", T.tanh(b.pool[0].var),
                                                                   b.pool[0].dims)]
    chosen = made[-draw(st.integers(1, min(3, len(made)))):]
    b.g.cost = 0
    for t in chosen:
        b.g.cost = b.g.cost + (t.var * _probe(b, t)).sum()
        b.g.outputs.append(t.var)
    grads = T.grad(b.g.cost, b.g.wrt, disconnected_inputs="ignore")
    grad_of = dict(zip(map(id, b.g.wrt), grads))
    dims_of = {id(var): key[1] for key, var in b.made.items() if key[0] == "shared"}
    for sv, value in list(b.g.shared):
        _update(b, sv, value, grad_of[id(sv)], dims_of[id(sv)])
    b.g.outputs += grads
    return b.g
