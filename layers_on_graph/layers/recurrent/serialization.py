"""Layer configs for wrappers: ``{"class_name": ..., "config": ...}`` as Keras writes them."""
from __future__ import annotations


def layer_to_config(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(config: dict):
    """A new layer from ``layer_to_config``'s dict (a class of ``layers_on_graph.layers``)."""
    from ... import layers

    name = config.get("class_name")
    cls = getattr(layers, name, None) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown layer class {name!r} in config {config!r}")
    return cls.from_config(dict(config.get("config", {})))
