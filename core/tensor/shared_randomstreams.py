"""Theano's import path ``theano.tensor.shared_randomstreams.RandomStreams``: the same
``RandomStreams`` as ``core.tensor.random`` (also reachable as ``T.shared_randomstreams``)."""
from .random import RandomStreams, RandomVariable

__all__ = ["RandomStreams", "RandomVariable"]
