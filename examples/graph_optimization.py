"""What the optimizer does to a graph: before/after pictures and node counts.

Run: python examples/graph_optimization.py [--outdir DIR]

Draws ``a + a**10`` before and after compilation (SVG through Graphviz's
``dot`` when installed, otherwise DOT text files), then prints node counts
before and after for a few graphs whose rewrites matter.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from core import function, pp  # noqa: E402
from core.graph.utils import toposort  # noqa: E402
from core.printing import pydotprint  # noqa: E402


def count(outputs, inputs) -> int:
    return len(toposort(outputs, stop=inputs))


def main(outdir: str) -> None:
    os.makedirs(outdir, exist_ok=True)
    a = T.dvector("a")
    b = a + a ** 10
    f = function([a], b)
    before = pydotprint(b, os.path.join(outdir, "a_plus_a_pow_10_before.svg"))
    after = pydotprint(f, os.path.join(outdir, "a_plus_a_pow_10_after.svg"))
    print(f"pictures: {before}, {after}")
    print(f"f([0, 1, 2]) = {f([0, 1, 2])}")
    print(f"optimized: {pp(f.maker.fgraph.outputs[0])}")

    x = T.dscalar("x")
    z, y = T.dmatrix("z"), T.lvector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(z), y).mean()
    cases = {
        "a + a**10": ([a], [b]),
        "grad(x**2)": ([x], [T.grad(x ** 2, x)]),
        "log(1 + exp(x)) and its gradient": ([x], [T.log(1 + T.exp(x)),
                                                   T.grad(T.log(1 + T.exp(x)), x)]),
        "softmax crossentropy and gradient": ([z, y], [cost, T.grad(cost, z)]),
    }
    print(f"\n{'graph':40s} {'nodes before':>12s} {'after':>6s}")
    for name, (ins, outs) in cases.items():
        g = function(ins, outs)
        print(f"{name:40s} {count(outs, ins):12d} {len(g.maker.fgraph.apply_nodes):6d}")
    g = function([x], [T.log(1 + T.exp(x)), T.grad(T.log(1 + T.exp(x)), x)])
    print(f"\nlog(1 + exp(1000)) and its gradient: {[float(v) for v in g(1000.0)]}")
    h = function([z, y], [cost, T.grad(cost, z)])
    loss, grad = h(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([1, 1]))
    print(f"crossentropy at logits of 1000: {float(loss)}, gradient finite: {np.isfinite(grad).all()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outdir", default="graph_pictures")
    main(parser.parse_args().outdir)
