"""fit throughput: layers_on_graph next to Keras 3 (torch backend) and a plain PyTorch loop.

Rows (each framework runs in its own subprocess at 1 thread, same data, same model,
Adam, sparse categorical crossentropy, shuffling on, one warm-up epoch not timed):

- ``mlp60k``: the 784-512-512-10 ReLU MLP on 60000 generated samples, batch 128:
  samples per second over one epoch (best of ``--repeats``);
- ``digits_cnn``: the digits CNN of ``examples/cnn_digits.py`` on the 1437 training
  images, batch 32: milliseconds per epoch (best of ``--repeats``);
- ``digits_mlp``: the digits MLP of ``examples/mlp_digits.py``, batch 32: ms per epoch.

Run: ``python benchmarks/fit_throughput.py`` (Keras and torch are the optional ``bench``
extra; a missing one is reported as such). ``--only ours`` runs this library alone.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ours", "keras", "torch")
ROWS = ("mlp60k", "digits_cnn", "digits_mlp")


def _threads_env() -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    env["KERAS_BACKEND"] = "torch"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _data(row: str):
    import numpy as np

    if row == "mlp60k":
        rng = np.random.default_rng(0)
        x = rng.random((60000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60000)
        return x, y, 128
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images[..., None] if row == "digits_cnn" else d.data).astype("float32") / 16.0
    x_train, _, y_train, _ = train_test_split(x, d.target.astype("int64"), test_size=0.2,
                                              random_state=0)
    return np.ascontiguousarray(x_train), y_train, 32


def _timed_epochs(run_epoch, repeats: int) -> float:
    run_epoch()  # warm-up: compilation, caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run_epoch()
        best = min(best, time.perf_counter() - start)
    return best


# ----- the three frameworks -----
def _ours(row, x, y, batch, repeats):
    from layers_on_graph import Input, Sequential, layers

    if row == "mlp60k":
        model = Sequential([Input(shape=(784,)), layers.Dense(512, activation="relu"),
                            layers.Dense(512, activation="relu"),
                            layers.Dense(10, activation="softmax")])
    elif row == "digits_cnn":
        sys.path.insert(0, os.path.join(ROOT, "examples"))
        from cnn_digits import build_model

        model = build_model()
    else:
        model = Sequential([Input(shape=(64,)), layers.Dense(128, activation="relu"),
                            layers.Dropout(0.2), layers.Dense(64, activation="relu"),
                            layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return _timed_epochs(lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0),
                         repeats)


def _keras(row, x, y, batch, repeats):
    import keras
    from keras import layers

    if row == "mlp60k":
        model = keras.Sequential([keras.Input(shape=(784,)),
                                  layers.Dense(512, activation="relu"),
                                  layers.Dense(512, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
    elif row == "digits_cnn":
        model = keras.Sequential([keras.Input(shape=(8, 8, 1)),
                                  layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
                                  layers.MaxPooling2D((2, 2)),
                                  layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
                                  layers.MaxPooling2D((2, 2)), layers.Flatten(),
                                  layers.Dropout(0.25), layers.Dense(64, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
    else:
        model = keras.Sequential([keras.Input(shape=(64,)), layers.Dense(128, activation="relu"),
                                  layers.Dropout(0.2), layers.Dense(64, activation="relu"),
                                  layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return _timed_epochs(lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0),
                         repeats)


def _torch(row, x, y, batch, repeats):
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(0)
    if row == "mlp60k":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                              nn.Linear(512, 10))
    elif row == "digits_cnn":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NCHW, torch's layout
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Dropout(0.25), nn.Linear(256, 64), nn.ReLU(),
                              nn.Linear(64, 10))
    else:
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64),
                              nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)

    def epoch():
        model.train()
        perm = torch.randperm(n)
        correct = 0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            correct += (logits.argmax(1) == yb).sum().item()  # as fit reports accuracy
        return correct

    return _timed_epochs(epoch, repeats)


def worker(framework: str, row: str, repeats: int) -> None:
    x, y, batch = _data(row)
    fn = {"ours": _ours, "keras": _keras, "torch": _torch}[framework]
    seconds = fn(row, x, y, batch, repeats)
    print(json.dumps({"seconds": seconds, "samples": len(x)}))


def run_one(framework: str, row: str, repeats: int) -> dict:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", framework,
                           "--row", row, "--repeats", str(repeats)], capture_output=True,
                          text=True, env=_threads_env(), cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:100]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=FRAMEWORKS)
    parser.add_argument("--row", choices=ROWS)
    parser.add_argument("--only", choices=FRAMEWORKS, action="append")
    parser.add_argument("--rows", nargs="*", choices=ROWS, default=list(ROWS))
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.row, args.repeats)
        return
    frameworks = args.only or list(FRAMEWORKS)
    print(f"fit throughput at 1 thread (best of {args.repeats} epochs after a warm-up)")
    print(f"{'row':<12}" + "".join(f"{f:>14}" for f in frameworks) + "   ours/torch  ours/keras")
    for row in args.rows:
        results = {f: run_one(f, row, args.repeats) for f in frameworks}
        cells, values = [], {}
        for f in frameworks:
            r = results[f]
            if "error" in r:
                cells.append(f"{'n/a':>14}")
                continue
            if row == "mlp60k":
                values[f] = r["samples"] / r["seconds"]
                cells.append(f"{values[f] / 1000:>11.1f}k/s")
            else:
                values[f] = r["seconds"] * 1000
                cells.append(f"{values[f]:>11.0f} ms")
        ratios = []
        for other in ("torch", "keras"):
            if "ours" in values and other in values:
                # speed ratio (>1 means ours is faster)
                ratio = values["ours"] / values[other] if row == "mlp60k" else \
                    values[other] / values["ours"]
                ratios.append(f"{ratio:>11.2f}x")
            else:
                ratios.append(f"{'-':>12}")
        print(f"{row:<12}" + "".join(cells) + " " + "".join(ratios))
        for f in frameworks:
            if "error" in results[f]:
                print(f"    {f}: {results[f]['error']}")
    print("(mlp60k in samples/s, higher is better; digits rows in ms per epoch, lower is "
          "better; ratios are speed ratios, > 1 means layers_on_graph is faster)")


if __name__ == "__main__":
    main()
