"""Per-call overhead of tiny functions on 10-element float64 vectors: ``x + y`` and
``2 * v + 1`` (one fused node).

Ours with ``trust_input`` next to numpy, PyTorch and PyTensor (trust_input).
Run: python benchmarks/call_overhead.py [--threads N]
"""
from __future__ import annotations

from harness import interleaved_medians, parse_args, peer, table

import numpy as np

import core.tensor as T
from core import function


def main() -> None:
    args = parse_args(__doc__)
    repeats = 9 if args.quick else 31
    a, b = np.arange(10.0), np.ones(10)
    x, y = T.dvectors("x", "y")
    f = function([x, y], x + y, trust_input=True)
    g = function([x, y], x + y)
    fns = {"layers-on-graph, trust_input": lambda: f(a, b),
           "layers-on-graph, checked inputs": lambda: g(a, b), "numpy": lambda: a + b}
    torch, pyt = peer("torch"), peer("pytensor")
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        fns["PyTorch"] = lambda: ta + tb
    if pyt is not None:
        import pytensor
        import pytensor.tensor as pt

        px, py = pt.dvectors("x", "y")
        pf = pytensor.function([px, py], px + py)
        pf.trust_input = True
        fns["PyTensor (C), trust_input"] = lambda: pf(a, b)
    med = interleaved_medians(fns, repeats, min_round=0.02)
    print(table("Tiny function call, x + y on 10 float64", list(med.items()),
                "layers-on-graph, trust_input"))

    v = T.dvector("v")
    h = function([v], 2 * v + 1, trust_input=True)
    fns = {"layers-on-graph, trust_input": lambda: h(a), "numpy": lambda: 2 * a + 1}
    if torch is not None:
        fns["PyTorch"] = lambda: 2 * ta + 1
    if pyt is not None:
        pv = pt.dvector("v")
        ph = pytensor.function([pv], 2 * pv + 1)
        ph.trust_input = True
        fns["PyTensor (C), trust_input"] = lambda: ph(a)
    med = interleaved_medians(fns, repeats, min_round=0.02)
    print(table("Tiny function call, 2 * v + 1 on 10 float64", list(med.items()),
                "layers-on-graph, trust_input"))


if __name__ == "__main__":
    main()
