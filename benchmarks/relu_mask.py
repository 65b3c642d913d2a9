"""ReLU's backward mask ``(z >= 0) * g`` and other selects on 1000x1000 float32, against
numpy and PyTorch: the generated loops must vectorize (a scalar select loop ran 12x
numpy's time). Run: python benchmarks/relu_mask.py [--threads N]
"""
from __future__ import annotations

from harness import interleaved_medians, parse_args, peer, table

import numpy as np

import core.tensor as T
from core import function

CASES = {
    "(z >= 0) * g": (lambda z, g: (z >= 0) * g, lambda z, g: (z >= 0) * g),
    "clip(z, -1, 1) * g": (lambda z, g: T.clip(z, -1.0, 1.0) * g,
                           lambda z, g: np.clip(z, -1, 1) * g),
    "switch(z > 0, g, 0.1 * g)": (lambda z, g: T.switch(z > 0, g, 0.1 * g),
                                  lambda z, g: np.where(z > 0, g, np.float32(0.1) * g)),
}


def main() -> None:
    args = parse_args(__doc__)
    repeats = 5 if args.quick else 15
    torch = peer("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1000, 1000)).astype("float32")
    b = rng.standard_normal((1000, 1000)).astype("float32")
    for name, (build, ref) in CASES.items():
        z, g = T.fmatrices("z", "g")
        f = function([z, g], build(z, g), trust_input=True)
        np.testing.assert_allclose(f(a, b), ref(a, b), rtol=1e-6)
        fns = {"layers-on-graph (C)": lambda: f(a, b), "numpy": lambda: ref(a, b)}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["PyTorch"] = {
                "(z >= 0) * g": lambda: (ta >= 0) * tb,
                "clip(z, -1, 1) * g": lambda: torch.clamp(ta, -1, 1) * tb,
                "switch(z > 0, g, 0.1 * g)": lambda: torch.where(ta > 0, tb, 0.1 * tb)}[name]
        med = interleaved_medians(fns, repeats, min_round=0.05)
        print(table(f"`{name}`, 1000x1000 float32", list(med.items()), "layers-on-graph (C)"))


if __name__ == "__main__":
    main()
