"""Models: ``Sequential``, functional/subclassed ``Model``; ``clone_model``, ``load_model``,
``model_from_json`` (as ``keras.models``)."""
from ..saving import load_model, model_from_json
from .cloning import clone_model
from .functional import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]
