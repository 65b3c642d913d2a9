"""CIFAR-sized CNN train step and predict, next to PyTorch eager and Keras 3 (torch backend).

``Input(32,32,3) - Conv2D(32,3,same,relu) - Conv2D(32,3,relu) - MaxPooling2D(2) -
Conv2D(64,3,same,relu) - MaxPooling2D(2) - Flatten - Dense(128,relu) - Dense(10,softmax)``,
Adam, float32; also a VGG-style block (``--model vgg``: 3x3 convs of 64, 64, 128, 128
channels on 32x32 input). Prints the step's FLOPs (multiply-adds x 2 of the convolutions
and dense layers: forward, and input plus filter gradients for the step) and the share of
numpy's measured float32 GEMM peak each implementation reaches (counting the direct
convolution's FLOPs: Winograd kernels, which multiply less, can pass 100%).
``--cpu 1`` times CPU time (all the process's threads) instead of wall time: faithful at
1 thread on a machine shared with other jobs.
Run: python benchmarks/cnn_cifar.py [--threads N] [--batch 64] [--model cifar|vgg] [--cpu 1]
"""
from __future__ import annotations

from harness import CHILD, THREADS, gemm_peak, measure, parse_args, peer, table

import time

import numpy as np

ARCH = {
    # (kind, argument): conv (filters, padding) / pool / dense units
    "cifar": [("conv", 32, "same"), ("conv", 32, "valid"), ("pool",), ("conv", 64, "same"),
              ("pool",), ("flatten",), ("dense", 128), ("out", 10)],
    "vgg": [("conv", 64, "same"), ("conv", 64, "same"), ("pool",), ("conv", 128, "same"),
            ("conv", 128, "same"), ("pool",), ("flatten",), ("out", 10)],
}


def flops(arch, batch: int) -> tuple[float, float]:
    """(forward FLOPs, train-step FLOPs) of the convolutions and dense layers."""
    h, w, c = 32, 32, 3
    fwd = step = 0.0
    first = True
    for layer in arch:
        if layer[0] == "conv":
            f, pad = layer[1], layer[2]
            if pad == "valid":
                h, w = h - 2, w - 2
            mac = batch * h * w * f * 9 * c
            fwd += 2 * mac
            step += 2 * mac * (2 if first else 3)  # forward, filter grad, input grad but the 1st
            c, first = f, False
        elif layer[0] == "pool":
            h, w = h // 2, w // 2
        elif layer[0] == "flatten":
            c, h, w = h * w * c, 1, 1
        else:
            mac = batch * c * layer[1]
            fwd += 2 * mac
            step += 6 * mac
            c = layer[1]
    return fwd, step


def build_ours(arch, x, y):
    import layers_on_graph as lg
    from layers_on_graph import layers as L

    model = lg.Sequential([L.Input((32, 32, 3))] + [_keras_layer(L, spec) for spec in arch])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _keras_layer(L, spec):
    kind = spec[0]
    if kind == "conv":
        return L.Conv2D(spec[1], 3, padding=spec[2], activation="relu")
    if kind == "pool":
        return L.MaxPooling2D(2)
    if kind == "flatten":
        return L.Flatten()
    return L.Dense(spec[1], activation="relu" if kind == "dense" else "softmax")


def build_keras(arch):
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3))] + [_keras_layer(keras.layers, s)
                                                           for s in arch])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def build_torch(torch, arch):
    nn = torch.nn
    mods, h, c = [], 32, 3
    for spec in arch:
        if spec[0] == "conv":
            mods += [nn.Conv2d(c, spec[1], 3, padding=1 if spec[2] == "same" else 0), nn.ReLU()]
            h, c = (h if spec[2] == "same" else h - 2), spec[1]
        elif spec[0] == "pool":
            mods.append(nn.MaxPool2d(2))
            h //= 2
        elif spec[0] == "flatten":
            mods.append(nn.Flatten())
            c = c * h * h
        else:
            mods.append(nn.Linear(c, spec[1]))
            if spec[0] == "dense":
                mods.append(nn.ReLU())
            c = spec[1]
    model = nn.Sequential(*mods)
    return model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss()


def factories(arch, x, y, builders: tuple | None = None) -> dict:
    """(pass, implementation) -> a function building that implementation's callable;
    ``builders``: (ours(), torch(torch) -> (model, optimizer, loss), keras()), by default
    ``arch``'s models."""
    build_o, build_t, build_k = builders or (lambda: build_ours(arch, x, y),
                                             lambda torch: build_torch(torch, arch),
                                             lambda: build_keras(arch))

    def ours(kind):
        def make():
            model = build_o()
            if kind == "train step":
                return lambda: model.train_on_batch(x, y)
            return lambda: model.predict_on_batch(x)
        return make

    def torch_impl(kind):
        def make():
            torch = peer("torch")
            tmodel, opt, loss_fn = build_t(torch)
            tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
            ty = torch.from_numpy(y.astype("int64"))

            def step():
                opt.zero_grad()
                loss_fn(tmodel(tx), ty).backward()
                opt.step()

            def pred():
                with torch.no_grad():
                    return tmodel(tx)

            return step if kind == "train step" else pred
        return make

    def keras_impl(kind):
        def make():
            peer("torch")  # its thread count
            kmodel = build_k()
            if kind == "train step":
                return lambda: kmodel.train_on_batch(x, y)
            return lambda: kmodel.predict_on_batch(x)
        return make

    out = {}
    for kind in ("train step", "predict"):
        out[f"{kind}|layers-on-graph"] = ours(kind)
        out[f"{kind}|PyTorch eager"] = torch_impl(kind)
        out[f"{kind}|Keras 3 (torch)"] = keras_impl(kind)
    return out


def installed_peers(makers: dict) -> dict:
    """``makers`` without the peers that are not installed."""
    if peer("torch") is None:  # no peers: ours only
        makers = {k: v for k, v in makers.items() if k.endswith("layers-on-graph")}
    try:
        import keras  # noqa: F401
    except Exception:
        makers = {k: v for k, v in makers.items() if "Keras" not in k}
    return makers


def time_and_print(makers: dict, repeats: int, clock, header: str, label: str, batch: int,
                   works: tuple, column: str, cell) -> None:
    """Time ``makers`` ('train step|NAME' and 'predict|NAME' builders) and print ``header``,
    then a table per pass with a ``column`` of ``cell(FLOPs, seconds)``; ``works`` holds the
    (train step, predict) FLOPs. Interleaved in one process at 1 thread, one child process
    per implementation at more; rounds of at least 0.1 s, so that a 5 ms predict is timed
    over many calls, not one."""
    med = measure(makers, repeats, min_round=0.1, warmup=5, clock=clock)
    print(header + "\n")
    what = "CPU time" if clock is time.process_time else "wall time"
    for kind, work in zip(("train step", "predict"), works):
        rows = [(name.split("|")[1], t, cell(work, t) if t else "n/a")
                for name, t in med.items() if name.startswith(kind + "|")]
        print(table(f"{label} {kind}, batch {batch}, {what}", rows, "layers-on-graph",
                    (column,)))


def main() -> None:
    args = parse_args(__doc__, batch=64, model="cifar", cpu=0)
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    repeats = 5 if args.quick else 11
    arch = ARCH[args.model]
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, args.batch).astype("int32")
    makers = factories(arch, x, y)
    if CHILD is None:
        makers = installed_peers(makers)
    clock = time.process_time if args.cpu else time.perf_counter
    peak = gemm_peak("float32", clock=clock) if CHILD is None else 0.0  # before any model
    fwd_flops, step_flops = flops(arch, args.batch)
    header = (f"{args.model} CNN, batch {args.batch}, float32: forward {fwd_flops / 1e9:.2f} "
              f"GFLOP, train step {step_flops / 1e9:.2f} GFLOP; numpy float32 GEMM peak "
              f"{peak / 1e9:.1f} GFLOP/s at {THREADS} thread(s)")
    time_and_print(makers, repeats, clock, header, f"{args.model} CNN", args.batch,
                   (step_flops, fwd_flops), "share of GEMM peak",
                   lambda work, t: f"{work / t / peak:.0%}")


if __name__ == "__main__":
    main()
