"""conv2d forward and backward on a 64x3x32x32 batch with 16 3x3 filters, next to PyTorch (CPU).

One thread on both sides (BLAS and torch), float32 and float64. Prints a markdown table of
median times and ratios (ours / torch; below 1 means we are faster). Times are this process's
CPU time per call (``time.process_time``), which stays meaningful when other jobs share the
machine's cores; both sides are timed in turn, round after round.

    python3 benchmarks/conv2d.py            # needs the optional `bench` extra (torch) for the peer
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads its BLAS

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from timing import interleaved_medians  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import core.tensor as T  # noqa: E402
from core import function  # noqa: E402

SHAPE_X, SHAPE_W = (64, 3, 32, 32), (16, 3, 3, 3)
BORDER = "half"  # 'same'-style padding, the usual choice in a CNN layer


def ours(dtype: str) -> dict:
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    y = T.nnet.conv2d(x, w, border_mode=BORDER)
    gy = y.type("gy")
    gx, gw = T.grad(None, [x, w], known_grads={y: gy})
    fwd = function([x, w], y)
    bwd = function([x, w, gy], [gx, gw])
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=SHAPE_X).astype(dtype), rng.normal(size=SHAPE_W).astype(dtype)
    gyv = rng.normal(size=fwd(xv, wv).shape).astype(dtype)
    return {"forward": lambda: fwd(xv, wv),
            "backward": lambda: bwd(xv, wv, gyv),
            "forward+backward": lambda: (fwd(xv, wv), bwd(xv, wv, gyv))}


def peer(dtype: str) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tdtype = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(SHAPE_X, generator=gen, dtype=tdtype, requires_grad=True)
    w = torch.randn(SHAPE_W, generator=gen, dtype=tdtype, requires_grad=True)
    pad = SHAPE_W[2] // 2
    conv = torch.nn.functional.conv2d
    y = conv(x, w, padding=pad)
    gy = torch.randn(y.shape, generator=gen, dtype=tdtype)

    def fwd():
        with torch.no_grad():
            conv(x, w, padding=pad)

    return {"forward": fwd,
            "backward": lambda: torch.autograd.grad(y, [x, w], gy, retain_graph=True),
            "forward+backward": lambda: torch.autograd.grad(conv(x, w, padding=pad), [x, w], gy)}


def main() -> None:
    print(f"conv2d {SHAPE_X} * {SHAPE_W}, border_mode={BORDER!r}, 1 thread, median CPU time of "
          f"25 interleaved runs\n")
    print("| dtype | pass | layers-on-graph (ms) | PyTorch CPU (ms) | ratio (ours / torch) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for dtype in ("float32", "float64"):
        mine, theirs = ours(dtype), peer(dtype)
        fns = {("ours", k): f for k, f in mine.items()}
        fns.update({("torch", k): f for k, f in (theirs or {}).items()})
        t = interleaved_medians(fns, 25, clock=time.process_time, warmup=3)
        for key in mine:
            a = t[("ours", key)] * 1e3
            if theirs is None:
                print(f"| {dtype} | {key} | {a:.2f} | (torch not installed) | |")
            else:
                b = t[("torch", key)] * 1e3
                print(f"| {dtype} | {key} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
    try:
        import torch
        version = f", torch {torch.__version__}"
    except ImportError:
        version = ""
    print(f"\nnumpy {np.__version__}{version}")


if __name__ == "__main__":
    main()
