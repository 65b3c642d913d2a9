"""``MRG_RandomStreams``: Theano's ``theano.sandbox.rng_mrg`` names on this library's
random streams (``core.tensor.random``).

The generator is not Theano's MRG31k3p: a seed gives other numbers than in Theano, with
the same distributions and the same calls. ``nstreams`` (Theano's count of parallel
generator streams on GPUs) is accepted and has no effect: every draw has its own state.
"""
from __future__ import annotations

from .. import tensor as T
from ..tensor.random import RandomStreams


class MRG_RandomStreams(RandomStreams):
    """Theano's ``MRG_RandomStreams(seed)``: ``uniform``, ``normal``, ``binomial``,
    ``multinomial``, ``choice``, ``permutation``, each also taking ``nstreams``.

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

    def multinomial(self, size=None, n: int = 1, pvals=None, ndim=None, dtype="int64",
                    nstreams=None):
        """Counts of ``n`` draws per row of the probability matrix ``pvals`` (rows, classes):
        a matrix of ``pvals``'s shape, each row summing to ``n``. As in Theano, ``size`` and
        ``ndim`` are only there for the common signature and must be left out.

        Examples
        --------
        >>> srng.multinomial(pvals=[[.98, .01, .01], [.01, .49, .50]])  # e.g. [[1,0,0],[0,0,1]]
        """
        if size is not None or ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial: size and ndim are not supported; "
                             "the shape is that of pvals")
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial: pvals (a matrix) is required")
        pvals = T.as_tensor_variable(pvals)
        if pvals.ndim != 2 or not isinstance(n, int) or n < 1:
            raise ValueError(f"MRG_RandomStreams.multinomial: expected a matrix pvals and an int "
                             f"n >= 1, got {pvals.type} and n={n!r}")
        classes = T.arange(pvals.shape[1])
        # cdf[r, j] = pvals[r, 0] + ... + pvals[r, j]: a product with an upper triangle of ones
        upper = T.cast(T.le(classes.dimshuffle(0, "x"), classes.dimshuffle("x", 0)), pvals.dtype)
        cdf = T.dot(pvals, upper)
        u = self.uniform(size=(n, pvals.shape[0]), dtype=pvals.dtype)
        # each draw's class: how many cumulative sums it passes (the last class if rounding
        # leaves the total a hair below the draw)
        k = T.minimum(T.sum(T.le(cdf.dimshuffle("x", 0, 1), u.dimshuffle(0, 1, "x")), axis=2),
                      pvals.shape[1] - 1)
        hits = T.eq(k.dimshuffle(0, 1, "x"), classes.dimshuffle("x", "x", 0))
        return T.cast(T.sum(hits, axis=0), dtype)


__all__ = ["MRG_RandomStreams"]
