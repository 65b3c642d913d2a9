"""``model.summary()``: the Keras 3 table of layers, output shapes and parameter counts."""
from __future__ import annotations

import numpy as np


def _shape_text(layer) -> str:
    try:
        shape = layer.output_shape
    except AttributeError:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_fmt(s) for s in shape)
    return _fmt(shape)


def _fmt(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _count(weights) -> int:
    return int(sum(np.prod(w.get_value(borrow=True).shape) for w in weights))


def _bytes(weights) -> str:
    n = float(sum(w.get_value(borrow=True).nbytes for w in weights))
    if n < 1024:
        return f"{int(n)} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
    return ""


def format_summary(model, width: int = 90) -> str:
    """The summary of ``model`` as text, boxed as Keras 3 prints it."""
    widths = [int(width * 0.46), int(width * 0.30)]
    widths.append(width - sum(widths) - 4)

    def row(cells, left="\u2502", mid="\u2502", right="\u2502", align=("l", "l", "r")):
        parts = []
        for text, w, a in zip(cells, widths, align):
            text = text[:w - 2]
            parts.append(" " + (text.ljust(w - 2) if a == "l" else text.rjust(w - 2)) + " ")
        return left + mid.join(parts) + right

    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("\u250f", "\u2533", "\u2513", "\u2501"),
             row(["Layer (type)", "Output Shape", "Param #"], "\u2503", "\u2503", "\u2503"),
             rule("\u2521", "\u2547", "\u2529", "\u2501")]
    layers = model.layers
    for k, layer in enumerate(layers):
        lines.append(row([f"{layer.name} ({type(layer).__name__})", _shape_text(layer),
                          f"{layer.count_params():,}"]))
        if k < len(layers) - 1:
            lines.append(rule("\u251c", "\u253c", "\u2524", "\u2500"))
    lines.append(rule("\u2514", "\u2534", "\u2518", "\u2500"))
    total, trainable = _count(model.weights), _count(model.trainable_weights)
    lines.append(f" Total params: {total:,} ({_bytes(model.weights)})")
    lines.append(f" Trainable params: {trainable:,} ({_bytes(model.trainable_weights)})")
    lines.append(f" Non-trainable params: {total - trainable:,} "
                 f"({_bytes(model.non_trainable_weights)})")
    return "\n".join(lines)
