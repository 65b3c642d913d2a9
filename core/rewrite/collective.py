"""Gradient products written straight into the allreduce buffer of a data-parallel step."""
from __future__ import annotations

from ..tensor.collective import PackedAllReduce, PackedExchange, PackedProductsAllReduce
from ..tensor.math import Dot
from .engine import register
from .utils import single_client


def _product_operands(fgraph, x):
    """``(a, b)`` when ``x = dot(a, b)`` of two matrices of x's dtype that only the
    allreduce reads; else None."""
    node = x.owner
    if node is None or not isinstance(node.op, Dot) or not single_client(fgraph, x):
        return None
    a, b = node.inputs
    if a.ndim != 2 or b.ndim != 2 or a.dtype != x.dtype or b.dtype != x.dtype:
        return None
    return a, b


@register("specialize", PackedAllReduce, PackedExchange, tags=("allreduce_products",))
def local_products_into_allreduce(fgraph, node):
    """PackedAllReduce(..., dot(a, b), ...) -> PackedProductsAllReduce(..., a, b, ...), and
    PackedExchange alike: BLAS writes the product into its slice of the buffer, saving the
    product's array and the copy of it into the buffer (a weight gradient each, in a
    data-parallel step). Host backends only: a GPU's products stay on the GPU."""
    from ..config import config

    if config.device != "cpu":
        return None
    op = node.op
    parts = (op.parts(node.inputs) if isinstance(op, (PackedProductsAllReduce, PackedExchange))
             else [(x,) for x in node.inputs])
    new_parts = [(_product_operands(fgraph, p[0]) or p) if len(p) == 1 else p for p in parts]
    if all(len(new) == len(old) for new, old in zip(new_parts, parts)):
        return None
    products = [len(p) == 2 for p in new_parts]
    inputs = [t for p in new_parts for t in p]
    if isinstance(op, PackedExchange):
        return PackedExchange(op.processes, products).make_node(*inputs).outputs
    return [PackedProductsAllReduce(products)(*inputs)]
