"""Theano's introspection (fgraph, nodes, ops) and printing (pp, debugprint)."""
import io

import numpy as np
import pytest

import core.tensor as T
from core import debugprint, function, pp, shared
from core.graph import Apply, Constant, Variable
from core.tensor import scalar_ops as ps


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


def test_fgraph_toposort_nodes_and_variables():
    x = T.dmatrix("x")
    w = shared(np.ones((3, 2)), name="w")
    y = T.tanh(T.dot(x, w))
    f = function([x], y)
    nodes = f.maker.fgraph.toposort()
    assert nodes and all(isinstance(n, Apply) for n in nodes)
    seen = set(f.maker.fgraph.inputs)
    for node in nodes:
        assert all(i in seen or isinstance(i, Constant) for i in node.inputs)  # topological
        seen.update(node.outputs)
        assert all(o.owner is node for o in node.outputs)
        assert all(isinstance(v, Variable) for v in node.inputs + node.outputs)
    assert f.maker.fgraph.outputs[0].owner is nodes[-1]
    ops = [n.op for n in nodes]
    assert any(isinstance(op, T.Dot) for op in ops)
    elemwise = [op for op in ops if isinstance(op, T.Elemwise)]
    assert elemwise and any(isinstance(op.scalar_op, ps.Tanh) or "tanh" in str(op.scalar_op)
                            for op in elemwise)


def test_user_graph_introspection():
    x = T.dvector("x")
    y = T.exp(x) + 1
    assert x.owner is None and y.owner is not None
    assert isinstance(y.owner.op, T.Elemwise) and isinstance(y.owner.op.scalar_op, ps.Add)
    inner = y.owner.inputs[0]
    assert inner.owner.op.scalar_op is ps.exp
    assert y.owner.outputs == [y] and y.index == 0
    assert y.type == T.dvector
    assert str(y.owner.op) == "Elemwise{add}"
    assert (T.Dot().name or type(T.Dot()).__name__) == "Dot"
    assert str(T.argmax(x).owner.op) == "Argmax{None}"


def test_op_equality_and_hash_from_props():
    a, b = T.CAReduce(ps.add, (0,)), T.CAReduce(ps.add, (0,))
    assert a == b and hash(a) == hash(b)
    assert a != T.CAReduce(ps.add, (1,))
    assert T.Elemwise(ps.Add()) == T.Elemwise(ps.add)
    assert T.DimShuffle(2, (1, 0)) == T.DimShuffle(2, (1, 0))


def test_pp_infix():
    x, y = T.dscalars("x", "y")
    assert pp(x + y) == "(x + y)"
    assert pp(x * y - x / y) == "((x * y) - (x / y))"
    assert pp(-x) == "-x"
    assert pp(x ** 2) == "(x ** 2.0)"
    assert pp(T.exp(x)) == "exp(x)"
    assert pp(T.maximum(x, y)) == "maximum(x, y)"
    assert pp(x > y) == "(x > y)"
    assert "x" in pp(T.grad(x ** 2, x))


def test_debugprint_to_string_and_file():
    x = T.dvector("x")
    w = shared(np.ones(3), name="w")
    y = T.exp(x * w) + x
    text = debugprint(y, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Elemwise{add} [id A]")
    assert lines[1].startswith(" |Elemwise{exp} [id B]")
    assert " | | |x [id D] <TensorType(float64, (?,))>" in lines
    assert any("shared w" in line for line in lines)
    # a repeated variable keeps its id
    assert text.count("[id D]") == 2
    buf = io.StringIO()
    assert debugprint(y, file=buf) is None
    assert buf.getvalue() == text


def test_debugprint_of_a_compiled_function_marks_shared_inputs_and_order():
    x = T.dvector("x")
    w = shared(np.ones(3), name="w")
    f = function([x], (x * w).sum())
    text = debugprint(f, file="str")
    assert "shared w" in text
    first = text.splitlines()[0]
    assert first.split()[-1].isdigit()  # the node's position in the toposort


def test_debugprint_repeated_subgraph_printed_once():
    x = T.dvector("x")
    e = T.exp(x)
    text = debugprint(e + e, file="str")
    assert text.count("Elemwise{exp}") == 2 and "..." in text
    assert text.count(" x [id") + text.count("|x [id") == 1
