"""The CUDA backend on a GPU, in one run (about 5 minutes); writes ``OUTDIR/gpu_check.json``.

1. ``kernels``: every graph of a table (elementwise ops and fusions, reductions, softmax
   and crossentropies, products, conv2d, pooling, indexing, joins, ifelse) on the device
   against the numpy reference, on random shapes and three layouts (contiguous, Fortran
   order, strided views), with the gradients; float32 rtol 1e-5, float64 rtol 1e-10;
   ``random``: reseeding repeats the device's random streams, and their moments are right;
2. ``mlp_sgd``: 50 SGD-momentum steps of the 784-512-512-10 MLP from the same weights and
   batches as the numpy backend: loss curves within 1e-4; ``layers_fit``: one epoch of a
   Keras-style ``fit`` on both, the same way;
3. ``speed``: training steps next to PyTorch CUDA (TF32 off on both sides, CUDA events):
   MLP 784-2048-2048-10 batch 1024, a CIFAR-sized CNN batch 256, LSTM(128) over 50x64x32
   forward and backward; peak GPU memory next to PyTorch's;
4. ``compile``: the MLP train function built and first called in a fresh process with an
   empty kernel cache (cold), then again with the filled one (warm).

Each section is guarded: a failure is reported with its traceback and the rest still run.
Needs cupy (``pip install 'layers-on-graph[cuda]'``), PyTorch with CUDA for section 3 and
nothing else (no cffi, no network). ``--device cpu --small`` runs the same script with the
C backend in place of CUDA and small sizes: a dry run of the script itself.

    python benchmarks/gpu_check.py OUTDIR [--device cuda|cpu] [--small] [--only kernels,...]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

os.environ.setdefault("CUPY_TF32", "0")  # cuBLAS in full float32, as PyTorch with TF32 off
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402

import core.tensor as T  # noqa: E402
from core import config, function, shared  # noqa: E402
from core.ifelse import ifelse  # noqa: E402

RTOL = {"float32": 1e-5, "float64": 1e-10}
ARGS = None  # the parsed command line


def on_device():
    """Flags for the backend under test: CUDA, or C in a ``--device cpu`` dry run."""
    if ARGS.device == "cuda":
        return config.change_flags(device="cuda")
    return config.change_flags(backend="c", c_lazy=False)


def on_reference():
    return config.change_flags(device="cpu", backend="numpy")


# --- 1. kernels against the numpy reference ---------------------------------------------

def _cases():
    """(name, inputs builder(dtype) -> (inputs, output), value shapes, integer inputs' range)."""
    def mat(dtype, name="x"):
        return T.TensorType(dtype, (None, None))(name)

    def unary(fn):
        return lambda d: ([x := mat(d)], fn(x))

    def binary(fn, second=None):
        def build(d):
            x, y = mat(d), (second(d) if second else mat(d, "y"))
            return [x, y], fn(x, y)
        return build

    row = lambda d: T.TensorType(d, (1, None))("r")  # noqa: E731
    t4 = lambda d, n="x": T.TensorType(d, (None,) * 4)(n)  # noqa: E731
    cases = [
        ("exp_tanh_sigmoid", unary(lambda x: T.exp(x * 0.1) + T.tanh(x) * T.nnet.sigmoid(x)), [(37, 29)]),
        ("log_sqrt_abs", unary(lambda x: T.log1p(abs(x)) + T.sqrt(abs(x) + 1) - T.log(abs(x) + 2)), [(64, 33)]),
        ("pow_sqr_sign", unary(lambda x: x ** 3 - abs(x) ** 2.5 + T.sign(x) * T.sqr(x)), [(31, 17)]),
        ("relu_softplus_clip", unary(lambda x: T.nnet.relu(x) + T.nnet.softplus(x) + T.clip(x, -0.5, 0.5)), [(100, 7)]),
        ("switch_max_min", binary(lambda x, y: T.switch(x > y, T.maximum(x, y), T.minimum(x, y) * 2)), [(23, 45), (23, 45)]),
        ("broadcast_row", binary(lambda x, r: (x - r) / (1 + r * r), row), [(40, 21), (1, 21)]),
        ("sum_max_prod", unary(lambda x: T.concatenate([T.sum(x, axis=0), T.max(x, axis=0), T.prod(x * 0.01 + 1, axis=0)])), [(50, 30)]),
        ("mean_all", unary(lambda x: T.mean(x) + T.sum(x ** 2)), [(64, 64)]),
        ("softmax", unary(lambda x: T.nnet.softmax(x * 3)), [(32, 10)]),
        ("log_softmax", unary(lambda x: T.nnet.log_softmax(x * 3)), [(32, 10)]),
        ("logsumexp", unary(lambda x: T.log(T.sum(T.exp(x), axis=1))), [(32, 10)]),
        ("dot", binary(lambda x, y: T.dot(x, y)), [(33, 47), (47, 21)]),
        ("dot_transposed", binary(lambda x, y: T.dot(x.T, y) * 0.5 + 1), [(47, 33), (47, 21)]),
        ("dot_vector", binary(lambda x, y: T.dot(x, y[:, 0])), [(20, 30), (30, 4)]),
        ("subtensor", unary(lambda x: x[1:7:2, ::-1] * 2), [(9, 8)]),
        ("set_inc_subtensor", binary(lambda x, y: T.inc_subtensor(T.set_subtensor(x[2:5], y)[1:3], y[:2])), [(8, 6), (3, 6)]),
        ("reshape_dimshuffle", unary(lambda x: T.reshape(x.T, (-1,)).dimshuffle("x", 0) * 2), [(6, 10)]),
        ("gemm", lambda d: ([x := mat(d), y := mat(d, "y"), z := mat(d, "z")],
                            z * 0.9 - 0.1 * T.dot(x, y)), [(12, 20), (20, 9), (12, 9)]),
        ("batched_dot", lambda d: ([a := T.TensorType(d, (None,) * 3)("a"),
                                    b := T.TensorType(d, (None,) * 3)("b")], T.batched_dot(a, b)),
         [(4, 5, 6), (4, 6, 3)]),
        ("argmax_alloc", unary(lambda x: T.argmax(x, axis=1) + T.zeros_like(x[:, 0], dtype="int64")),
         [(9, 13)]),
        ("ifelse", binary(lambda x, y: ifelse(T.sum(x) > 0, x * y, x - y)), [(5, 6), (5, 6)]),
    ]

    def xent(d):
        x, labels = mat(d), T.lvector("labels")
        return [x, labels], T.nnet.categorical_crossentropy(T.nnet.softmax(x), labels)

    def advanced(d):
        x, idx = mat(d), T.lvector("idx")
        return [x, idx], T.inc_subtensor(x[idx], x[idx] * 2)

    def conv(cfg, op=None):
        def build(d):
            x, w = t4(d), t4(d, "w")
            return [x, w], (op or T.nnet.conv2d)(x, w, **cfg)
        return build

    def pool(cfg):
        def build(d):
            x = t4(d)
            return [x], T.signal.pool.pool_2d(x, **cfg)
        return build

    def rnn(d):
        from core import scan

        x, w = T.TensorType(d, (None, None, None))("x"), mat(d, "w")
        h, _ = scan(lambda x_t, h_prev, w_: T.tanh(x_t + T.dot(h_prev, w_)), sequences=[x],
                    outputs_info=[T.zeros_like(x[0])], non_sequences=[w])
        return [x, w], h

    cases += [("crossentropy", xent, [(16, 10), (16,)]),
              ("scan_rnn", rnn, [(7, 5, 6), (6, 6)]),
              ("advanced_inc_subtensor", advanced, [(10, 4), (6,)])]
    for k, cfg in enumerate([dict(border_mode="half"), dict(border_mode="valid", subsample=(2, 2)),
                             dict(border_mode="full", filter_dilation=(2, 1))]):
        cases.append((f"conv2d_{k}", conv(cfg), [(4, 3, 11, 10), (5, 3, 3, 3)]))
    from core.tensor.grouped_conv import grouped_conv2d

    cases += [("grouped_conv2d", conv(dict(border_mode="half", num_groups=3), grouped_conv2d),
               [(4, 6, 9, 8), (6, 2, 3, 3)]),
              ("depthwise_conv2d", conv(dict(subsample=(2, 1), num_groups=6), grouped_conv2d),
               [(4, 6, 9, 8), (12, 1, 3, 3)])]
    for k, cfg in enumerate([dict(ws=(2, 2), mode="max"), dict(ws=(3, 3), stride=(2, 2), mode="average_exc_pad",
                                                                 pad=(1, 1)),
                             dict(ws=(3, 2), stride=(2, 2), ignore_border=False, mode="max"),
                             dict(ws=(2, 3), mode="sum")]):
        cases.append((f"pool_{k}", pool(cfg), [(2, 3, 9, 10)]))
    return cases


def _layouts(values):
    """The input values as given, in Fortran order, and as strided views."""
    def fortran(v):
        return np.asfortranarray(v) if v.ndim >= 2 else v

    def strided(v):
        if v.ndim == 0 or v.dtype.kind not in "f":
            return v
        big = np.zeros(v.shape[:-1] + (2 * v.shape[-1],), v.dtype)
        big[..., ::2] = v
        return big[..., ::2]

    return [("contiguous", values), ("fortran", [fortran(v) for v in values]),
            ("strided", [strided(v) for v in values])]


def _compare(got, want, dtype) -> float:
    """The largest error relative to the reference's magnitude; raises when over RTOL."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise AssertionError(f"shape {got.shape} != reference {want.shape}")
    if want.dtype.kind not in "fc":
        if not np.array_equal(got, want):
            raise AssertionError("integer results differ")
        return 0.0
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
    if not np.isfinite(err) or err > RTOL[dtype]:
        raise AssertionError(f"max error {err:.3g} (relative to max |ref| {scale:.3g}) over "
                             f"rtol {RTOL[dtype]}")
    return err


def check_kernels() -> dict:
    rng = np.random.default_rng(0)
    results, failures, ops_seen = {}, 0, set()
    for name, build, shapes in _cases():
        for dtype in ("float32", "float64"):
            key = f"{name}/{dtype}"
            try:
                inputs, out = build(dtype)
                floats = [v for v in inputs if v.type.dtype == dtype]
                cost = T.sum(out * out) if out.type.dtype == dtype else None
                grads = T.grad(cost, floats) if cost is not None else []
                with on_device():
                    f_dev = function(inputs, [out] + grads)
                with on_reference():
                    f_ref = function(inputs, [out] + grads)
                ops_seen.update(type(n.op).__name__ for n in f_dev.maker.fgraph.toposort())
                values = []
                for v, shape in zip(inputs, shapes):
                    if v.type.dtype.startswith("int"):
                        values.append(rng.integers(0, shapes[0][0] if name.startswith("adv") else
                                                   shapes[0][1], size=shape))
                    else:
                        values.append(rng.normal(size=shape).astype(dtype))
                errors = {}
                for layout, vals in _layouts(values):
                    want = f_ref(*vals)
                    got = f_dev(*vals)
                    errors[layout] = max(_compare(g, w, dtype) for g, w in zip(got, want))
                results[key] = {"ok": True, "max_error": max(errors.values()),
                                "gradients": len(grads)}
            except Exception as exc:
                failures += 1
                results[key] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    return {"cases": results, "failures": failures, "ops_seen": sorted(ops_seen)}


def check_random() -> dict:
    """Random streams on the device: reseeding repeats a draw, the next call differs, and
    the moments are right (the numbers themselves differ from the numpy backend's)."""
    from core.tensor.random import RandomStreams

    n = 200000 if not ARGS.small else 20000
    with on_device():
        srng = RandomStreams(seed=3)
        f = function([], [srng.uniform((n,), low=-1.0, high=3.0, dtype="float32"),
                          srng.normal((n,), avg=1.0, std=2.0), srng.binomial((n,), n=1, p=0.3),
                          srng.choice((n,), a=4, p=[0.1, 0.0, 0.6, 0.3]),
                          srng.choice((2, 3), a=6, replace=False),
                          srng.permutation((n // 100,), n=5)])
    first = f()
    second = f()
    srng.seed(3)
    again = f()
    u, z, b, picks, distinct, perms = first
    moments = {"uniform_mean": float(u.mean()), "normal_mean": float(z.mean()),
               "normal_std": float(z.std()), "binomial_mean": float(b.mean()),
               "choice_frequencies": (np.bincount(picks, minlength=4) / n).tolist()}
    ok = (all(np.array_equal(a, c) for a, c in zip(first, again))
          and not any(np.array_equal(a, c) for a, c in zip(first, second))
          and abs(moments["uniform_mean"] - 1.0) < 0.02 and abs(moments["normal_mean"] - 1.0) < 0.05
          and abs(moments["normal_std"] - 2.0) < 0.05 and abs(moments["binomial_mean"] - 0.3) < 0.02
          and -1.0 <= u.min() and u.max() < 3.0
          and np.allclose(moments["choice_frequencies"], [0.1, 0.0, 0.6, 0.3], atol=0.01)
          and sorted(distinct.ravel().tolist()) == list(range(6))
          and (np.sort(perms, axis=1) == np.arange(5)).all())
    return {"ok": bool(ok), **moments}


# --- 2. training against the numpy backend ------------------------------------------------

def _mlp_values(sizes, seed=0):
    rng = np.random.default_rng(seed)
    values = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        values.append((rng.normal(size=(n_in, n_out)) * np.sqrt(2 / n_in)).astype("float32"))
        values.append(np.zeros(n_out, "float32"))
    return values


def check_mlp_sgd() -> dict:
    import mlp_step

    sizes = (784, 512, 512, 10) if not ARGS.small else (64, 32, 32, 10)
    values = _mlp_values(sizes)
    rng = np.random.default_rng(1)
    batches = [(rng.random((128, sizes[0]), dtype=np.float32), rng.integers(0, 10, 128).astype("int32"))
               for _ in range(50)]
    curves = {}
    for label, flags in (("device", on_device), ("numpy", on_reference)):
        with flags():
            f, params = mlp_step.build_ours(values)
        curves[label] = [float(f(x, y)) for x, y in batches]
        curves[label + "_weights"] = [p.get_value() for p in params]
    diff = float(np.max(np.abs(np.array(curves["device"]) - np.array(curves["numpy"]))))
    wdiff = max(float(np.max(np.abs(a - b))) for a, b in zip(curves["device_weights"],
                                                                curves["numpy_weights"]))
    return {"ok": diff <= 1e-4, "max_loss_difference": diff, "max_weight_difference": wdiff,
            "loss_device": curves["device"], "loss_numpy": curves["numpy"]}


def check_layers_fit() -> dict:
    from layers_on_graph import Input, Sequential, layers, optimizers

    rng = np.random.default_rng(2)
    x = rng.random((512, 20), dtype=np.float32)
    y = rng.integers(0, 5, 512)
    histories, weights = {}, None
    for label, flags in (("device", on_device), ("numpy", on_reference)):
        with flags():
            model = Sequential([Input(shape=(20,)), layers.Dense(64, activation="relu"),
                                layers.Dense(5, activation="softmax")])
            if weights is None:
                weights = model.get_weights()
            model.set_weights(weights)
            model.compile(optimizer=optimizers.SGD(0.05, momentum=0.9),
                          loss="sparse_categorical_crossentropy")
            histories[label] = model.fit(x, y, batch_size=64, epochs=2, shuffle=False,
                                         verbose=0).history["loss"]
    diff = float(np.max(np.abs(np.array(histories["device"]) - np.array(histories["numpy"]))))
    return {"ok": diff <= 1e-4, "max_loss_difference": diff, "losses": histories}


# --- 3. speed next to PyTorch ----------------------------------------------------------

class Clock:
    """Milliseconds per call of ``fn`` on the device: CUDA events (cupy or torch)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, fn, steps: int) -> float:
        for _ in range(3):
            fn()
        if ARGS.device != "cuda":
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            return (time.perf_counter() - start) * 1e3 / steps
        if self.kind == "torch":
            import torch

            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            begin.record()
            for _ in range(steps):
                fn()
            end.record()
            end.synchronize()
            return begin.elapsed_time(end) / steps
        import cupy as cp

        begin, end = cp.cuda.Event(), cp.cuda.Event()
        cp.cuda.runtime.deviceSynchronize()
        begin.record()
        for _ in range(steps):
            fn()
        end.record()
        end.synchronize()
        return cp.cuda.get_elapsed_time(begin, end) / steps


def _our_memory(reset: bool = False):
    if ARGS.device != "cuda":
        return None
    import cupy as cp

    pool = cp.get_default_memory_pool()
    if reset:
        pool.free_all_blocks()
        return None
    return pool.total_bytes()  # the pool keeps its blocks: what the run needed at most


def _torch_setup():
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if ARGS.device == "cuda" else "cpu"
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    return torch, device


def _torch_memory(torch, device):
    return torch.cuda.max_memory_reserved() if device == "cuda" else None


def _to_device(a):
    if ARGS.device != "cuda":
        return a
    import cupy as cp

    return cp.asarray(a)


def _row(ours_fn, torch_fn, steps) -> dict:
    _our_memory(reset=True)
    ours_ms = Clock("ours")(ours_fn, steps)
    ours_mem = _our_memory()
    row = {"ours_ms": ours_ms, "ours_peak_bytes": ours_mem}
    try:
        torch, device = _torch_setup()
        step = torch_fn(torch, device)
        row["torch_ms"] = Clock("torch")(step, steps)
        row["torch_peak_bytes"] = _torch_memory(torch, device)
        row["ratio"] = ours_ms / row["torch_ms"]
    except Exception as exc:
        row["torch_error"] = f"{type(exc).__name__}: {exc}"
    return row


def speed_mlp() -> dict:
    import mlp_step

    sizes, batch = ((784, 2048, 2048, 10), 1024) if not ARGS.small else ((64, 128, 128, 10), 64)
    values = _mlp_values(sizes)
    rng = np.random.default_rng(3)
    x = rng.random((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype("int32")
    with on_device():
        f, _ = mlp_step.build_ours(values)
    xd, yd = _to_device(x), _to_device(y)

    def torch_step(torch, device):
        layers_ = []
        for i in range(0, len(values), 2):
            lin = torch.nn.Linear(*values[i].shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(values[i].T.copy()))
                lin.bias.zero_()
            layers_ += [lin, torch.nn.ReLU()]
        net = torch.nn.Sequential(*layers_[:-1]).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=mlp_step.LR, momentum=mlp_step.MOMENTUM)
        xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y.astype("int64")).to(device)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(xt), yt)
            loss.backward()
            opt.step()
            return loss.item()  # ours returns the loss to the host too

        return step

    return _row(lambda: f(xd, yd), torch_step, 20 if not ARGS.small else 5)


def _cnn_values(seed=0, small=False):
    rng = np.random.default_rng(seed)
    chans = [(32, 3), (32, 32), (64, 32), (64, 64)] if not small else [(4, 3), (4, 4), (8, 4), (8, 8)]
    side = 32 if not small else 8
    values = []
    for f, c in chans:
        values += [(rng.normal(size=(f, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype("float32"),
                   np.zeros(f, "float32")]
    flat = chans[-1][0] * (side // 4) ** 2
    hidden = 512 if not small else 16
    values += [(rng.normal(size=(flat, hidden)) * np.sqrt(2 / flat)).astype("float32"),
               np.zeros(hidden, "float32"),
               (rng.normal(size=(hidden, 10)) * np.sqrt(2 / hidden)).astype("float32"),
               np.zeros(10, "float32")]
    return values, side


def _our_cnn(values, lr=0.01, momentum=0.9):
    x, y = T.ftensor4("x"), T.ivector("y")
    params = [shared(v.copy()) for v in values]
    h = x
    for k in range(4):
        w, b = params[2 * k], params[2 * k + 1]
        h = T.nnet.relu(T.nnet.conv2d(h, w, border_mode="half") + b.dimshuffle("x", 0, "x", "x"))
        if k % 2 == 1:
            h = T.signal.pool.pool_2d(h, ws=(2, 2), ignore_border=True)
    h = T.reshape(h, (h.shape[0], -1))
    h = T.nnet.relu(T.dot(h, params[8]) + params[9])
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, params[10]) + params[11]), y).mean()
    updates = []
    for p, g in zip(params, T.grad(cost, params)):
        v = shared(np.zeros_like(p.get_value()))
        updates += [(v, momentum * v - lr * g), (p, p + momentum * v - lr * g)]
    return function([x, y], cost, updates=updates)


def speed_cnn() -> dict:
    values, side = _cnn_values(small=ARGS.small)
    batch = 256 if not ARGS.small else 16
    rng = np.random.default_rng(4)
    x = rng.random((batch, 3, side, side), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype("int32")
    with on_device():
        f = _our_cnn(values)
    xd, yd = _to_device(x), _to_device(y)

    def torch_step(torch, device):
        nn = torch.nn
        convs = [nn.Conv2d(values[2 * k].shape[1], values[2 * k].shape[0], 3, padding=1)
                 for k in range(4)]
        net = nn.Sequential(convs[0], nn.ReLU(), convs[1], nn.ReLU(), nn.MaxPool2d(2),
                            convs[2], nn.ReLU(), convs[3], nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(*values[8].shape), nn.ReLU(),
                            nn.Linear(*values[10].shape)).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y.astype("int64")).to(device)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(net(xt), yt)
            loss.backward()
            opt.step()
            return loss.item()

        return step

    return _row(lambda: f(xd, yd), torch_step, 10 if not ARGS.small else 3)


def speed_lstm() -> dict:
    from layers_on_graph import layers

    seq, batch, n_in, hidden = (50, 64, 32, 128) if not ARGS.small else (5, 4, 3, 8)
    rng = np.random.default_rng(5)
    data = rng.normal(size=(batch, seq, n_in)).astype("float32")
    with on_device():
        layer = layers.LSTM(hidden, return_sequences=True)
        x = T.TensorType("float32", (None, seq, n_in))("x")
        cost = T.sum(layer(x))
        f = function([x], [cost] + T.grad(cost, layer.trainable_weights))
    xd = _to_device(data)

    def torch_step(torch, device):
        net = torch.nn.LSTM(n_in, hidden, batch_first=True).to(device)
        xt = torch.from_numpy(data).to(device)

        def step():
            net.zero_grad(set_to_none=True)
            out, _ = net(xt)
            loss = out.sum()
            loss.backward()
            return loss.item()

        return step

    return _row(lambda: f(xd), torch_step, 10 if not ARGS.small else 3)


# --- 4. compile time ----------------------------------------------------------------

def compile_worker() -> None:
    """In a fresh process: build the MLP train function and call it once; print timings."""
    import mlp_step

    values = mlp_step.init_params()
    rng = np.random.default_rng(0)
    x = rng.random((mlp_step.BATCH, 784), dtype=np.float32)
    y = rng.integers(0, 10, mlp_step.BATCH).astype("int32")
    with on_device():
        t0 = time.perf_counter()
        f, _ = mlp_step.build_ours(values)
        t1 = time.perf_counter()
        f(x, y)
        t2 = time.perf_counter()
        f(x, y)
        t3 = time.perf_counter()
    print(json.dumps({"function_s": t1 - t0, "first_call_s": t2 - t1, "second_call_s": t3 - t2}))


def check_compile(outdir: str) -> dict:
    cache = os.path.join(outdir, "compile_cache")
    env = dict(os.environ, CUPY_CACHE_DIR=os.path.join(cache, "cuda"),
               LAYERS_ON_GRAPH_FLAGS=f"compiledir={cache}")
    runs = {}
    for label in ("cold", "warm"):
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), outdir, "--device",
                               ARGS.device, "--compile-worker"], env=env, capture_output=True,
                              text=True, timeout=300)
        if proc.returncode:
            raise RuntimeError(f"{label} run failed: {proc.stderr[-3000:]}")
        runs[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return runs


# --- driver ---------------------------------------------------------------------------

def _device_info() -> dict:
    info = {"python": sys.version.split()[0], "device_flag": ARGS.device}
    if ARGS.device == "cuda":
        try:
            import cupy as cp

            props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
            info.update(gpu=props["name"].decode(), cupy=cp.__version__,
                        cuda_runtime=cp.cuda.runtime.runtimeGetVersion())
        except Exception as exc:
            info["error"] = f"{type(exc).__name__}: {exc}"
    return info


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--small", action="store_true", help="small sizes (a dry run)")
    parser.add_argument("--only", default="", help="comma-separated section names to run")
    parser.add_argument("--compile-worker", action="store_true", help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.compile_worker:
        compile_worker()
        return
    os.makedirs(ARGS.outdir, exist_ok=True)
    report = {"device": _device_info(), "sections": {}}
    sections = [("kernels", check_kernels), ("random", check_random), ("mlp_sgd", check_mlp_sgd),
                ("layers_fit", check_layers_fit), ("speed_mlp", speed_mlp),
                ("speed_cnn", speed_cnn), ("speed_lstm", speed_lstm),
                ("compile", lambda: check_compile(ARGS.outdir))]
    if ARGS.only:
        sections = [(n, r) for n, r in sections if n in ARGS.only.split(",")]
    path = os.path.join(ARGS.outdir, "gpu_check.json")
    for name, run in sections:
        start = time.perf_counter()
        try:
            result = run()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:3000],
                      "traceback": traceback.format_exc()[-6000:]}
        result["seconds"] = round(time.perf_counter() - start, 2)
        report["sections"][name] = result
        print(f"{name}: {json.dumps(result, default=str)[:400]}", flush=True)
        with open(path, "w") as fh:  # after every section: a crash later keeps the rest
            json.dump(report, fh, indent=1, default=str)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
