"""A broad table of Elemwise nodes for the CUDA source tests: every scalar op of the shared
C table over several dtypes, constants, scalars, broadcasts, and the fused (Composite)
nodes of real graphs (an MLP's training step, crossentropy, clipping)."""
from __future__ import annotations

import itertools

import numpy as np

import core.tensor as T
from core import config, function
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from core.tensor.type import TensorType

DTYPES = ("float32", "float64", "int8", "int32", "int64", "uint8", "uint64", "bool")
UNARY = [c for c in vars(ps).values() if isinstance(c, type) and issubclass(c, ps.UnaryScalarOp)
         and c not in (ps.UnaryScalarOp, ps.Cast) and not c.__name__.startswith("_")]
BINARY = [c for c in vars(ps).values() if isinstance(c, type) and issubclass(c, ps.BinaryScalarOp)
          and c is not ps.BinaryScalarOp and not c.__name__.startswith("_")]


def _matrix(dtype: str, shape=(None, None)):
    return TensorType(dtype, shape)()


def single_op_nodes() -> list:
    """One node per (scalar op, dtype) that the op accepts."""
    nodes = []
    ops = [(cls(), 1) for cls in UNARY] + [(cls(), 2) for cls in BINARY]
    ops += [(ps.Add(), 3), (ps.Mul(), 3), (ps.Clip(), 3)]
    ops += [(ps.Cast(d), 1) for d in DTYPES]
    for (op, arity), dtype in itertools.product(ops, DTYPES):
        try:
            nodes.append(Elemwise(op).make_node(*[_matrix(dtype) for _ in range(arity)]))
        except (TypeError, ValueError):
            continue  # the op refuses the dtype (a float-only op on ints, ...)
    cond = _matrix("bool")
    nodes.append(Elemwise(ps.Switch()).make_node(cond, _matrix("float32"), _matrix("float32")))
    nodes.append(Elemwise(ps.Switch()).make_node(cond, _matrix("int64"), _matrix("float64")))
    return nodes


def _graph_nodes(inputs, outputs) -> list:
    with config.change_flags(backend="numpy"):
        f = function(inputs, outputs, on_unused_input="ignore")
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


def fused_nodes() -> list:
    """The Elemwise nodes (mostly fused Composites) of a few real graphs."""
    x, w, b, y = T.fmatrix("x"), T.fmatrix("w"), T.fvector("b"), T.ivector("y")
    s = T.fscalar("s")
    h = T.nnet.relu(T.dot(x, w) + b)
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(h), y).mean()
    gw, gb = T.grad(cost, [w, b])
    nodes = _graph_nodes([x, w, b, y], [cost, w - 0.1 * gw, b * 0.9 - gb])
    d = T.dmatrix("d")
    nodes += _graph_nodes([d, s], [T.tanh(d) ** 3 + T.sqrt(abs(d)), T.clip(d, -1.0, 1.0) * s,
                                   T.switch(d > 0, d, T.exp(d) - 1), (d ** 2.5) / (1 + d ** -2),
                                   T.nnet.sigmoid(d) * T.nnet.softplus(-d)])
    i = T.lmatrix("i")
    nodes += _graph_nodes([i], [i // 3 + i % 5, i ** 2, (i > 2) & (i < 9), -i])
    return nodes


def constant_nodes() -> list:
    """Inputs that are size-1 constants (inlined) and static size-1 (scalar) inputs."""
    x = _matrix("float32")
    row = _matrix("float32", (1, None))
    scalar = TensorType("float64", (1, 1))()
    half = T.constant(np.full((1, 1), 0.5, "float32"))
    return [Elemwise(ps.Mul()).make_node(x, half), Elemwise(ps.Add()).make_node(x, row),
            Elemwise(ps.Pow()).make_node(_matrix("float64"), scalar),
            Elemwise(ps.Maximum()).make_node(x, T.constant(np.full((1, 1), np.inf, "float32")))]
