"""``MRG_RandomStreams``: Theano's ``theano.sandbox.rng_mrg`` names on this library's
random streams (``core.tensor.random``).

The generator is not Theano's MRG31k3p: a seed gives other numbers than in Theano, with
the same distributions and the same calls. ``nstreams`` (Theano's count of parallel
generator streams on GPUs) is accepted and has no effect: every draw has its own state.
"""
from __future__ import annotations

from ..tensor.random import RandomStreams


class MRG_RandomStreams(RandomStreams):
    """Theano's ``MRG_RandomStreams(seed)``: ``uniform``, ``normal``, ``binomial``,
    ``choice``, ``permutation``, each also taking ``nstreams``.

    Examples
    --------
    >>> srng = MRG_RandomStreams(seed=234)
    >>> mask = srng.binomial(size=(2, 3), p=0.8, dtype='float32')
    """

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        return super().uniform(size, low, high, ndim, dtype)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate: bool = False):
        if truncate:
            raise NotImplementedError("MRG_RandomStreams.normal: truncate=True (a normal cut "
                                      "at two standard deviations) is not supported")
        return super().normal(size, avg, std, ndim, dtype)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None):
        return super().binomial(size, n, p, ndim, dtype)


__all__ = ["MRG_RandomStreams"]
