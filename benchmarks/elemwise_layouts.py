"""Elementwise work on operands that disagree on memory order, float32.

A ReLU-style mask ``g * ((z + b) >= 0)`` and a product ``z * g`` where ``g`` is stored
transposed (Fortran order) next to a C-ordered ``z``, as in gradient graphs full of
``W.T``; the all-C-ordered mask for reference. Ours (C backend) next to numpy and
PyTorch on the same arrays. Run: python benchmarks/elemwise_layouts.py [--threads N]
"""
from __future__ import annotations

from harness import interleaved_medians, parse_args, peer, table

import numpy as np

import core.tensor as T
from core import function


def main() -> None:
    args = parse_args(__doc__)
    repeats = 7 if args.quick else 21
    torch = peer("torch")
    z, b, g = T.fmatrix("z"), T.fvector("b"), T.fmatrix("g")
    mask = function([z, b, g], g * ((z + b) >= 0), trust_input=True)
    prod = function([z, g], z * g, trust_input=True)
    for shape in ((128, 512), (1000, 1000)):
        rng = np.random.default_rng(0)
        zv = rng.normal(size=shape).astype("float32")
        bv = rng.normal(size=shape[1]).astype("float32")
        gc = rng.normal(size=shape).astype("float32")
        gf = np.asfortranarray(gc)
        for name, ours, ref, tref in (
                ("g * ((z + b) >= 0), g transposed", lambda: mask(zv, bv, gf),
                 lambda: gf * ((zv + bv) >= 0), lambda: tg * ((tz + tb) >= 0)),
                ("z * g, g transposed", lambda: prod(zv, gf), lambda: zv * gf,
                 lambda: tz * tg),
                ("g * ((z + b) >= 0), all C-ordered", lambda: mask(zv, bv, gc),
                 lambda: gc * ((zv + bv) >= 0), lambda: tgc * ((tz + tb) >= 0))):
            np.testing.assert_allclose(ours(), ref(), rtol=1e-6)
            fns = {"layers-on-graph (C)": ours, "numpy": ref}
            if torch is not None:
                tz, tb = torch.from_numpy(zv), torch.from_numpy(bv)
                tg, tgc = torch.from_numpy(gf), torch.from_numpy(gc)
                fns["PyTorch"] = tref
            med = interleaved_medians(fns, repeats, min_round=0.02)
            print(table(f"{name}, {shape[0]}x{shape[1]} float32", list(med.items()),
                        "layers-on-graph (C)"))


if __name__ == "__main__":
    main()
