"""Saving and loading in HDF5 (Keras 3 and Keras 2 layouts) and Keras 3's ``.keras`` zip."""
from .model_io import (load_model, load_weights, model_from_json, save_model, save_weights,
                       to_json)

__all__ = ["load_model", "load_weights", "model_from_json", "save_model", "save_weights",
           "to_json"]
