"""``local_products_into_allreduce``: gradient products written into the packed buffer."""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import function
from core.config import config
from core.tensor.collective import PackedProductsAllReduce, allreduce_packed


def _packed_op(f):
    (node,) = [n for n in f.maker.fgraph.toposort()
               if "AllReduce" in type(n.op).__name__ or "Exchange" in type(n.op).__name__]
    return node.op


def test_products_fused_on_the_host_only_and_by_name():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    graph = allreduce_packed([T.dot(a, b), T.sum(a)])
    op = _packed_op(function([a, b], graph))
    assert isinstance(op, PackedProductsAllReduce) and op.products == (True, False)
    excluded = function([a, b], graph, excluding=["local_products_into_allreduce"])
    assert not isinstance(_packed_op(excluded), PackedProductsAllReduce)
    values = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(function([a, b], graph)(*values), excluded(*values))


def test_products_of_vectors_or_other_dtypes_stay_parts():
    a, v, f32 = T.dmatrix("a"), T.dvector("v"), T.fmatrix("f")
    op = _packed_op(function([a, v, f32], allreduce_packed([T.dot(a, v), T.dot(a, f32)])))
    assert not isinstance(op, PackedProductsAllReduce)


def test_products_stay_on_a_gpu():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    from core.rewrite import optimize_graph
    from core.graph.fg import FunctionGraph

    with config.change_flags(device="cuda"):
        fgraph = optimize_graph(FunctionGraph([a, b], [allreduce_packed([T.dot(a, b)])]))
    (node,) = [n for n in fgraph.toposort() if "AllReduce" in type(n.op).__name__]
    assert not isinstance(node.op, PackedProductsAllReduce)


def test_products_fused_into_an_exchange():
    from core.tensor.collective import PackedExchange, exchange_packed

    a, b = T.dmatrix("a"), T.dmatrix("b")
    first, second = exchange_packed([T.sum(a, axis=0), T.dot(a.T, b)], 2)
    op = _packed_op(function([a, b], first + second))
    assert isinstance(op, PackedExchange) and op.products == (False, True)
