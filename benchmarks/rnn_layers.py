"""LSTM and GRU layers (sequence 50, batch 64, input 32, hidden 128, float32): forward, and
forward + backward (gradients of all weights), next to PyTorch's nn.LSTM/nn.GRU and Keras 3
(torch backend), on CPU at one thread, in the same run.

Run: python benchmarks/rnn_layers.py [--repeats N] [--no-keras] [--numpy]
PyTorch and Keras are optional (their rows are skipped without them). The cost is the sum
of the output sequence (return_sequences=True) for every implementation; all of them get the
same weights and their outputs and kernel gradients are checked equal before timing.
Prints a markdown table; ratio = time / PyTorch's time. ``--clock cpu`` (the default)
times each call by the process's CPU time, which stays faithful on a shared, loaded machine
(every implementation runs on one thread); ``--clock wall`` uses wall-clock time.
"""
import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from timing import interleaved_medians  # noqa: E402

SEQ, BATCH, N_IN, HIDDEN = 50, 64, 32, 128


def ours(kind: str, data, weights, backend: str):
    """(forward, forward+backward, (outputs, kernel gradient)) of our layer."""
    import core.tensor as T
    from core import config, function
    from layers_on_graph import layers

    config.backend = backend
    layer = getattr(layers, kind)(HIDDEN, return_sequences=True)
    x = T.TensorType("float32", (None, SEQ, N_IN))("x")
    out = layer(x)
    layer.set_weights(weights)
    cost = T.sum(out)
    fwd = function([x], out)
    bwd = function([x], [cost] + T.grad(cost, layer.trainable_weights))
    return (lambda: fwd(data)), (lambda: bwd(data)), (fwd(data), bwd(data)[1])


def pytorch(kind: str, data, weights):
    import torch

    torch.set_num_threads(1)
    kernel, rec, bias = weights
    if kind == "LSTM":
        net = torch.nn.LSTM(N_IN, HIDDEN, batch_first=True)
        b_ih, b_hh = bias, np.zeros_like(bias)
        order = [0, 1, 2, 3]  # Keras i, f, c, o == PyTorch i, f, g, o
    else:
        net = torch.nn.GRU(N_IN, HIDDEN, batch_first=True)
        b_ih, b_hh = bias[0], bias[1]
        order = [1, 0, 2]  # PyTorch r, z, n from Keras z, r, h

    def blocks(a):
        parts = np.split(a, len(order), axis=-1)
        return np.concatenate([parts[k] for k in order], axis=-1)

    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(blocks(kernel).T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(blocks(rec).T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(blocks(b_ih)))
        net.bias_hh_l0.copy_(torch.from_numpy(blocks(b_hh)))
    x = torch.from_numpy(data)

    def fwd():
        with torch.no_grad():
            return net(x)[0]

    def bwd():
        net.zero_grad()
        out = net(x)[0]
        out.sum().backward()

    bwd()
    grad = net.weight_ih_l0.grad.numpy().T
    inverse = np.argsort(order)
    grad = np.concatenate([np.split(grad, len(order), axis=-1)[k] for k in inverse], axis=-1)
    return fwd, bwd, (fwd().numpy(), grad), torch.__version__


def keras_layer(kind: str, data, weights):
    import keras
    import torch

    torch.set_num_threads(1)
    layer = getattr(keras.layers, kind)(HIDDEN, return_sequences=True)
    x = torch.from_numpy(data)
    layer(x)
    layer.set_weights(weights)

    def fwd():
        with torch.no_grad():
            return layer(x)

    def bwd():
        for v in layer.trainable_weights:
            v.value.grad = None
        layer(x).sum().backward()

    bwd()
    grad = layer.trainable_weights[0].value.grad.numpy()
    return fwd, bwd, (fwd().detach().numpy(), grad), keras.__version__


def main(repeats: int, with_keras: bool, with_numpy: bool, clock: str = "cpu") -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(BATCH, SEQ, N_IN)).astype(np.float32)
    results = {}
    fns = {}
    impls = []
    for kind, n_gates in (("LSTM", 4), ("GRU", 3)):
        weights = [rng.normal(scale=0.1, size=(N_IN, n_gates * HIDDEN)),
                   rng.normal(scale=0.1, size=(HIDDEN, n_gates * HIDDEN)),
                   rng.normal(scale=0.1, size=(n_gates * HIDDEN,) if kind == "LSTM"
                              else (2, n_gates * HIDDEN))]
        weights = [w.astype(np.float32) for w in weights]
        rows = {}
        f, b, ref = ours(kind, data, weights, "c")
        rows["layers-on-graph (C backend)"] = (f, b, ref)
        if with_numpy:
            rows["layers-on-graph (numpy backend)"] = ours(kind, data, weights, "numpy")
        try:
            f, b, res, version = pytorch(kind, data, weights)
            rows[f"PyTorch {version} nn.LSTM / nn.GRU"] = (f, b, res)
        except ImportError:
            pass
        if with_keras:
            try:
                f, b, res, version = keras_layer(kind, data, weights)
                rows[f"Keras {version} (torch backend)"] = (f, b, res)
            except ImportError:
                pass
        for name, (f, b, (out, grad)) in rows.items():
            np.testing.assert_allclose(out, ref[0], rtol=1e-4, atol=1e-4, err_msg=name)
            np.testing.assert_allclose(grad, ref[1], rtol=1e-3, atol=1e-2, err_msg=name)
            fns[(kind, name, "fwd")] = f
            fns[(kind, name, "bwd")] = b
            if name not in impls:
                impls.append(name)
    med = interleaved_medians(fns, repeats,
                              clock=time.process_time if clock == "cpu" else time.perf_counter)
    torch_name = next((n for n in impls if n.startswith("PyTorch")), None)
    print(f"Recurrent layers, sequence {SEQ}, batch {BATCH}, input {N_IN}, hidden {HIDDEN}, "
          f"float32, CPU, 1 thread, {clock} time, median of {repeats} interleaved rounds; "
          f"ratio = time / PyTorch's\n")
    cols = [(k, p) for k in ("LSTM", "GRU") for p in ("fwd", "bwd")]
    header = " | ".join(f"{k} {'forward' if p == 'fwd' else 'fwd+bwd'} ms (ratio)"
                        for k, p in cols)
    print(f"| implementation | {header} |")
    print("|---" * (len(cols) + 1) + "|")
    for name in impls:
        cells = []
        for k, p in cols:
            t = med.get((k, name, p))
            base = med.get((k, torch_name, p)) if torch_name else None
            cells.append("-" if t is None else f"{t * 1e3:.2f}" + (
                f" ({t / base:.2f}x)" if base else ""))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n(outputs and kernel gradients of every row checked equal to layers-on-graph's)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--numpy", action="store_true", help="also time the numpy backend")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    main(args.repeats, not args.no_keras, args.numpy, args.clock)
