"""A MobileNet-style block's train step and predict, next to PyTorch eager and Keras 3 (torch).

``Input(32,32,64) - DepthwiseConv2D(3,same,relu) - Conv2D(128,1,relu) -
GlobalAveragePooling2D - Dense(10,softmax)``, Adam, float32, batch 64 (``--batch``). PyTorch
runs the same block with ``groups=64`` for the depthwise convolution. Prints the step's FLOPs
(multiply-adds x 2 of the convolutions and the dense layer: forward, and input plus filter
gradients for the step) and each implementation's time as a ratio to ours.
``--cpu 1`` times CPU time (all the process's threads) instead of wall time: faithful at
1 thread on a machine shared with other jobs.
Run: python benchmarks/depthwise_conv.py [--threads N] [--batch 64] [--cpu 1]
"""
from __future__ import annotations

from harness import CHILD, THREADS, parse_args, peer

from cnn_cifar import factories, installed_peers, time_and_print

import time

import numpy as np

SIZE, CHANNELS, POINTWISE, CLASSES = 32, 64, 128, 10


def flops(batch: int) -> tuple[float, float]:
    """(forward FLOPs, train-step FLOPs): the depthwise and pointwise products and the dense
    layer; the step adds the filter gradients and the input gradients but the first layer's."""
    pixels = batch * SIZE * SIZE
    depthwise, pointwise = pixels * CHANNELS * 9, pixels * CHANNELS * POINTWISE
    dense = batch * POINTWISE * CLASSES
    fwd = 2 * (depthwise + pointwise + dense)
    return fwd, 2 * (2 * depthwise + 3 * pointwise + 3 * dense)


def _block(L):
    """The block's layers, from a Keras-like ``layers`` module."""
    return [L.DepthwiseConv2D(3, padding="same", activation="relu"),
            L.Conv2D(POINTWISE, 1, activation="relu"), L.GlobalAveragePooling2D(),
            L.Dense(CLASSES, activation="softmax")]


def build_ours():
    import layers_on_graph as lg
    from layers_on_graph import layers as L

    model = lg.Sequential([L.Input((SIZE, SIZE, CHANNELS))] + _block(L))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def build_keras():
    import keras

    model = keras.Sequential([keras.Input((SIZE, SIZE, CHANNELS))] + _block(keras.layers))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def build_torch(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1, groups=CHANNELS), nn.ReLU(),
                          nn.Conv2d(CHANNELS, POINTWISE, 1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(POINTWISE, CLASSES))
    return model, torch.optim.Adam(model.parameters(), 1e-3), nn.CrossEntropyLoss()


def main() -> None:
    args = parse_args(__doc__, batch=64, cpu=0)
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    repeats = 5 if args.quick else 11
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, SIZE, SIZE, CHANNELS)).astype("float32")
    y = rng.integers(0, CLASSES, args.batch).astype("int32")
    makers = factories(None, x, y, (build_ours, build_torch, build_keras))
    if CHILD is None:
        makers = installed_peers(makers)
    clock = time.process_time if args.cpu else time.perf_counter
    fwd_flops, step_flops = flops(args.batch)
    header = (f"MobileNet-style block ({SIZE}x{SIZE}x{CHANNELS}, depthwise 3x3 + pointwise 1x1 "
              f"to {POINTWISE}), batch {args.batch}, float32: forward {fwd_flops / 1e9:.3f} "
              f"GFLOP, train step {step_flops / 1e9:.3f} GFLOP, {THREADS} thread(s)")
    time_and_print(makers, repeats, clock, header, "MobileNet block", args.batch,
                   (step_flops, fwd_flops), "GFLOP/s", lambda work, t: f"{work / t / 1e9:.1f}")


if __name__ == "__main__":
    main()
