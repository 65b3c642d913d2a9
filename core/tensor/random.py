"""Random streams: ``RandomStreams(seed)`` draws symbolic random tensors.

Each draw owns a shared generator state, a uint64 vector ``[key, counter]``.
The drawing op is pure: ``(state, size, *params) -> (new_state, sample)``,
where ``new_state`` has the counter advanced by one. The state variable's
``default_update`` is that ``new_state``, which ``function`` applies after
every call (unless ``no_default_updates`` or an explicit update), so two calls
differ, and ``RandomStreams.seed(n)`` makes them repeat.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..compile.shared import SharedVariable, shared
from ..config import config
from ..graph.basic import Apply, Op, Variable
from ..graph.trace import format_trace, user_frame
from .shape_ops import _static_values, as_shape_vector
from .type import TensorType
from .variable import as_tensor_variable

STATE_DTYPE = "uint64"
DISTRIBUTIONS = ("uniform", "normal", "binomial", "choice", "permutation")


class RandomVariable(Op):
    """Draw from ``dist`` with a counter-based generator state.

    Inputs: ``state`` (uint64 ``[key, counter]``), ``size`` (int64 vector), then the
    distribution's parameters. Outputs: the advanced state and the sample.
    ``ndim`` is the sample's rank (``len(size)``, plus one for ``permutation``).
    """

    __props__ = ("dist", "dtype", "ndim", "replace")

    def __init__(self, dist: str, dtype: str, ndim: int, replace: bool = True):
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"RandomVariable: unknown distribution {dist!r}; "
                             f"expected one of {DISTRIBUTIONS}")
        self.dist = dist
        self.dtype = str(np.dtype(dtype))
        self.ndim = int(ndim)
        self.replace = bool(replace)

    def make_node(self, state, size, *params) -> Apply:
        state, size = as_tensor_variable(state), as_tensor_variable(size)
        if state.type.dtype != STATE_DTYPE or state.ndim != 1:
            raise TypeError(f"{self}: the generator state must be a uint64 vector, got {state.type}")
        if size.ndim != 1 or np.dtype(size.dtype).kind not in "iu":
            raise TypeError(f"{self}: size must be an integer vector, got {size.type}")
        params = [as_tensor_variable(p) for p in params]
        n_size = self.ndim - (self.dist == "permutation")
        static = _static_values(size) or [None] * n_size
        shape = [None if s is None or s < 0 else s for s in static]
        if self.dist == "permutation":
            n = params[0]
            shape.append(int(n.data) if hasattr(n, "data") else None)
        if len(shape) != self.ndim:
            raise ValueError(f"{self}: size has {len(shape)} entries but ndim={self.ndim}")
        sample = TensorType(self.dtype, tuple(shape))()
        return Apply(self, [state, size, *params], [state.type(), sample])

    def grad(self, inputs, output_grads):
        return [None] * len(inputs)

    def __str__(self) -> str:
        return f"RandomVariable{{{self.dist}, {self.dtype}}}"


def _size_and_ndim(size, params: Sequence[Variable], name: str,
                   ndim: int | None = None) -> tuple[Variable, int]:
    """The size argument as an int64 vector, and the sample's rank (``ndim`` is needed
    only when ``size`` is a symbolic vector of unknown length)."""
    vec, known = _size_vector(size, params, name, ndim)
    if ndim is not None and known is not None and ndim != known:
        raise ValueError(f"RandomStreams.{name}: ndim={ndim} but size has {known} entries, at "
                         f"{format_trace(user_frame())}")
    return vec, known if known is not None else int(ndim)


def _size_vector(size, params, name, ndim):
    if size is None:
        ndim = max((p.ndim for p in params), default=0)
        if any(p.ndim for p in params):
            from .shape_ops import shape

            biggest = next(p for p in params if p.ndim == ndim)
            return shape(biggest), ndim
        return as_shape_vector(()), 0
    if isinstance(size, Variable):
        vec = as_tensor_variable(size)
        if vec.ndim == 0:
            vec = as_shape_vector([vec])
        if vec.ndim != 1 or np.dtype(vec.dtype).kind not in "iu":
            raise TypeError(f"RandomStreams.{name}: a symbolic size must be an integer vector, "
                            f"got {vec.type}")
        if vec.type.shape[0] is None and ndim is None:
            raise ValueError(f"RandomStreams.{name}: the size vector's length is not known; "
                             f"pass ndim= (or a tuple of scalars as size)")
        return vec, vec.type.shape[0]
    if isinstance(size, (int, np.integer)):
        size = (size,)
    size = tuple(size)
    for s in size:
        if isinstance(s, (int, np.integer)) and s < 0:
            raise ValueError(f"RandomStreams.{name}: size {size} has a negative entry, at "
                             f"{format_trace(user_frame())}")
    return as_shape_vector(size), len(size)


class RandomStreams:
    """A source of symbolic random tensors, Theano's ``RandomStreams``.

    Every draw gets its own generator state (a shared variable) seeded from
    this stream's seed, and advanced automatically each time a compiled
    function that uses it runs.

    Examples
    --------
    >>> srng = RandomStreams(seed=234)
    >>> rv_u = srng.uniform((2, 2)); f = function([], rv_u)
    >>> a, b = f(), f()    # two calls draw different numbers
    >>> srng.seed(234)     # reseeding repeats them: f() equals a again
    """

    def __init__(self, seed: int = 12345):
        self.states: list[SharedVariable] = []
        self.seed(seed)

    def seed(self, seed: int | None = None) -> None:
        """Reseed the stream and every state drawn from it so far."""
        self._seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        self._master = np.random.default_rng(self._seed)
        for state in self.states:
            state.set_value(self._fresh_state())

    def updates(self) -> list:
        """(state, new state) pairs of every draw so far (Theano's ``RandomStreams.updates``),
        for ``function(..., updates=...)``; ``function`` also applies them by itself."""
        return [(state, state.default_update) for state in self.states]

    def _fresh_state(self) -> np.ndarray:
        return np.array([self._master.integers(2**63), 0], dtype=STATE_DTYPE)

    def _draw(self, dist: str, dtype: str, size, params: list, name: str, replace: bool = True,
              ndim: int | None = None):
        params = [as_tensor_variable(p) for p in params]
        vec, ndim = _size_and_ndim(size, params, name, ndim)
        if dist == "permutation":
            ndim += 1
        state = shared(self._fresh_state(), name=f"{name}_rng_state")
        op = RandomVariable(dist, dtype, ndim, replace)
        new_state, sample = op(state, vec, *params)
        state.default_update = new_state
        self.states.append(state)
        sample.rng = state
        return sample

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None) -> Variable:
        """Samples uniform on ``[low, high)``, of shape ``size`` (a tuple, maybe symbolic)."""
        dtype = _float_dtype(dtype, low, high)
        return self._draw("uniform", dtype, size, [_param(low, dtype), _param(high, dtype)],
                          "uniform", ndim=ndim)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None) -> Variable:
        """Gaussian samples with mean ``avg`` and standard deviation ``std``."""
        dtype = _float_dtype(dtype, avg, std)
        return self._draw("normal", dtype, size, [_param(avg, dtype), _param(std, dtype)],
                          "normal", ndim=ndim)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64") -> Variable:
        """Number of successes in ``n`` trials of probability ``p``."""
        return self._draw("binomial", dtype, size, [as_tensor_variable(n),
                                                    _param(p, "float64")], "binomial", ndim=ndim)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64") -> Variable:
        """Samples from ``arange(a)`` (``a`` an int) or from the vector ``a``, with
        probabilities ``p`` (uniform when None)."""
        a = as_tensor_variable(a)
        if a.ndim > 1:
            raise ValueError(f"RandomStreams.choice: a must be an int or a vector, got {a.type}")
        if a.ndim == 1:
            dtype = a.dtype
        params = [a] if p is None else [a, _param(p, "float64")]
        return self._draw("choice", dtype, () if size is None else size, params, "choice",
                          replace=replace, ndim=ndim)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64") -> Variable:
        """Permutations of ``arange(n)``: shape ``size + (n,)``."""
        return self._draw("permutation", dtype, () if size is None else size,
                          [as_tensor_variable(n)], "permutation", ndim=ndim)


def _float_dtype(dtype, *params) -> str:
    if dtype is not None:
        return config.floatX if dtype == "floatX" else str(np.dtype(dtype))
    dtypes = [p.dtype for p in params if isinstance(p, Variable) and
              np.dtype(p.dtype).kind == "f"]
    return str(np.result_type(*dtypes)) if dtypes else config.floatX


def _param(value, dtype: str) -> Variable:
    from .math import cast

    if isinstance(value, Variable):
        return cast(value, dtype) if np.dtype(value.dtype).kind in "fiub" else value
    return as_tensor_variable(np.asarray(value, dtype=dtype))


__all__ = ["RandomStreams", "RandomVariable"]
