"""Signal processing ops over the last two axes: ``pool_2d`` (as ``theano.tensor.signal``)."""
from . import pool
from .pool import pool_2d

__all__ = ["pool", "pool_2d"]
