"""Saving and loading in HDF5 (Keras 3 and Keras 2 layouts) and Keras 3's ``.keras`` zip."""
from .model_io import (load_model, load_weights, model_from_json, save_model, save_weights,
                       to_json)
from .registration import (get_registered_name, get_registered_object,
                           register_keras_serializable)

__all__ = ["load_model", "load_weights", "model_from_json", "save_model", "save_weights",
           "to_json", "register_keras_serializable", "get_registered_object",
           "get_registered_name"]
