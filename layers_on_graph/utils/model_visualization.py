"""``plot_model``: a picture of a model's layers through Graphviz, or its DOT text.

The picture is drawn through pydot (the ``plot`` extra) by Graphviz's ``dot``
program. Where either is missing, the DOT text is written next to ``to_file``
(extension ``.dot``) and a warning says so, once per process.
"""
from __future__ import annotations

import os
import shutil
import warnings

from core.graphviz import _quote

_warned = False


def shape_text(shape) -> str:
    """'(None, 4)' for a shape, shapes joined by commas for a list of them, '?' unknown."""
    if isinstance(shape, list):
        return ", ".join(shape_text(s) for s in shape)
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def layer_attr(layer, attr: str):
    """``layer.<attr>``, or None where the layer cannot say (not called yet)."""
    try:
        return getattr(layer, attr)
    except (AttributeError, ValueError):
        return None


def layer_edges(model) -> tuple[list, list[tuple[object, object]]]:
    """(layers in order, (producer, consumer) pairs)."""
    from ..layers.input_layer import InputLayer

    nodes = getattr(model, "_nodes", None)
    if nodes is not None:  # functional: follow each call's input tensors to their layers
        layers, edges, seen = [], [], set()
        for node in nodes:
            for layer in [t._keras_history[0] for t in node.input_tensors] + [node.layer]:
                if id(layer) not in seen:
                    seen.add(id(layer))
                    layers.append(layer)
            edges += [(t._keras_history[0], node.layer) for t in node.input_tensors]
        return layers, edges
    layers = list(model.layers)  # Sequential: a chain, from its input layer if it has one
    first = getattr(model, "_input_layer", None)
    if isinstance(first, InputLayer) and first not in layers:
        layers.insert(0, first)
    return layers, list(zip(layers, layers[1:]))


def model_to_dot_text(model, show_shapes: bool = False, show_dtype: bool = False,
                      show_layer_names: bool = False, rankdir: str = "TB",
                      show_layer_activations: bool = False, show_trainable: bool = False,
                      dpi: int = 200) -> str:
    """The DOT text of ``model``'s layer graph: one box per layer, one arrow per tensor."""
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR', got {rankdir!r}")
    layers, edges = layer_edges(model)
    ids = {id(layer): f"layer{k}" for k, layer in enumerate(layers)}
    lines = [f"digraph {_quote(model.name)} {{", f"  rankdir={rankdir};", f"  dpi={int(dpi)};",
             '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for layer in layers:
        kind = type(layer).__name__
        label = [f"{layer.name} ({kind})" if show_layer_names else kind]
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            label.append(f"activation: {getattr(activation, '__name__', activation)}")
        if show_shapes:
            label.append(f"input: {shape_text(layer_attr(layer, 'input_shape'))}   "
                         f"output: {shape_text(layer_attr(layer, 'output_shape'))}")
        if show_dtype:
            label.append(f"dtype: {layer.dtype}")
        if show_trainable:
            label.append(f"trainable: {layer.trainable}")
        lines.append(f"  {ids[id(layer)]} [label={_quote(chr(10).join(label))}];")
    lines += [f"  {ids[id(a)]} -> {ids[id(b)]};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False) -> str:
    """Draw ``model``'s layers to ``to_file`` (format from its extension: png, svg, pdf;
    ``.dot`` writes the DOT text). Returns the path written, which ends in ``.dot`` when
    pydot or Graphviz's ``dot`` is missing.

    Examples
    --------
    >>> plot_model(model, to_file='model.png', show_shapes=True, show_layer_names=True)
    """
    global _warned
    text = model_to_dot_text(model, show_shapes, show_dtype, show_layer_names, rankdir,
                             show_layer_activations, show_trainable, dpi)
    to_file = os.fspath(to_file)
    fmt = os.path.splitext(to_file)[1].lstrip(".").lower() or "png"
    pydot = None
    if fmt != "dot":
        try:
            import pydot
        except ImportError:
            pydot = None
        if pydot is None or shutil.which("dot") is None:
            if not _warned:
                missing = "pydot (pip install 'layers-on-graph[plot]')" if pydot is None \
                    else "Graphviz's `dot` program"
                warnings.warn(f"plot_model: {missing} is not installed; writing the model's "
                              f"DOT text instead of a picture", stacklevel=2)
                _warned = True
            to_file, fmt = os.path.splitext(to_file)[0] + ".dot", "dot"
    tmp = f"{to_file}.tmp{os.getpid()}.{fmt}"
    try:
        if fmt == "dot":
            with open(tmp, "w") as fh:
                fh.write(text)
        else:
            (graph,) = pydot.graph_from_dot_data(text)
            graph.write(tmp, format=fmt)
        os.replace(tmp, to_file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return to_file
