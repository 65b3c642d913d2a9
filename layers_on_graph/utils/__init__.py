"""Utilities: random seeding, label encoding, names, sequence padding, model plots."""
from .model_visualization import plot_model
from .naming import to_snake_case, unique_name
from .numerical import normalize, to_categorical
from .py_dataset import PyDataset, Sequence
from .random import get_rng, next_seed, set_random_seed
from .sequence_utils import pad_sequences

__all__ = ["PyDataset", "Sequence", "set_random_seed", "get_rng", "next_seed", "to_categorical",
           "normalize", "to_snake_case", "unique_name", "pad_sequences", "plot_model"]
