"""Theano's ``theano.sandbox`` import paths that user code still names (``rng_mrg``)."""
