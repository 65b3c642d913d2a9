"""``Layer``: the base class of every layer (Keras 3's API on core.tensor).

A layer stores its configuration in ``__init__``, creates its weights in
``build(input_shape)`` (``add_weight`` makes ``core.shared`` variables) and
computes in ``call(inputs)`` on symbolic tensors. Calling a layer on a
symbolic tensor builds it if needed, runs ``call`` and, when the input came
from ``Input()``, records the call so that a functional ``Model`` can replay it.
Calling it on numpy arrays evaluates it eagerly.
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np

import core.tensor as T
from core import function, shared
from core.graph.basic import Variable
from core.graph.trace import scope, user_frame
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import DimShuffle, Elemwise

from .. import backend, initializers, regularizers
from ..keras_tensor import as_keras_tensor, is_keras_tensor, placeholder
from .keras_variable import as_keras_variable
from ..utils.naming import to_snake_case, unique_name

_TRAINING: list[bool] = []


def in_training_phase() -> bool:
    """The ``training`` flag of the innermost layer call (False outside any call)."""
    return _TRAINING[-1] if _TRAINING else False


def is_symbolic(x) -> bool:
    return isinstance(x, Variable)


def static_shape(x) -> tuple:
    """The Keras shape of a symbolic tensor: recorded by the layer that made it, else its type's."""
    shape = getattr(x, "_keras_shape", None)
    return tuple(shape) if shape is not None else tuple(x.type.shape)


def flatten_structure(x) -> list:
    if isinstance(x, (list, tuple)):
        return [e for item in x for e in flatten_structure(item)]
    if isinstance(x, dict):
        return [e for key in x for e in flatten_structure(x[key])]
    return [x]


def map_structure(fn, x):
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, e) for e in x)
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    return fn(x)


class Node:
    """One call of a layer on symbolic tensors from ``Input()``: what a Model replays."""

    def __init__(self, layer: "Layer", args: Any, kwargs: dict, outputs: Any):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        # tensors passed by keyword (an explicit mask=, constants) are inputs of the call too
        self.input_tensors = [t for t in flatten_structure(args) if is_symbolic(t)] + [
            t for value in kwargs.values() for t in flatten_structure(value)
            if is_symbolic(t) and hasattr(t, "_keras_history")]
        self.output_tensors = flatten_structure(outputs)


class Layer:
    """Base class of layers.

    Examples
    --------
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer='ones')
    ...     def call(self, x):
    ...         return x * self.w
    """

    def __init__(self, name: str | None = None, trainable: bool = True, dtype: str | None = None,
                 input_shape=None, input_dim: int | None = None, batch_size: int | None = None,
                 activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unknown keyword argument(s) {sorted(kwargs)}")
        object.__setattr__(self, "_layers", [])
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._created_at = user_frame()  # the user's line, for errors naming this layer
        self.trainable = trainable
        self.dtype = str(np.dtype(dtype)) if dtype is not None else backend.floatx()
        self.built = False
        self._weights: list = []
        self._trainable_flags: dict[int, bool] = {}
        self._regularized: list = []
        self._inbound_nodes: list[Node] = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._batch_size_arg = batch_size
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._call_has_training = "training" in inspect.signature(self.call).parameters
        self._call_has_mask = "mask" in inspect.signature(self.call).parameters
        self.supports_masking = False

    # ----- sublayer tracking -----
    def __setattr__(self, key: str, value) -> None:
        if key != "_layers" and hasattr(self, "_layers"):
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Layer) and item is not self and item not in self._layers:
                    self._layers.append(item)
        object.__setattr__(self, key, value)

    # ----- weights -----
    def add_weight(self, shape=None, initializer=None, dtype: str | None = None,
                   trainable: bool = True, autocast: bool = True, regularizer=None,
                   constraint=None, aggregation: str = "none", name: str | None = None):
        """Create a weight (a ``core.shared`` variable) and track it; creation order is kept.

        Examples
        --------
        >>> self.kernel = self.add_weight(shape=(n_in, n_out), initializer='glorot_uniform')
        """
        if constraint is not None:
            raise ValueError(f"{self.name}: weight constraints are not supported")
        shape = tuple(int(s) for s in (shape or ()))
        if any(s is None or s < 0 for s in shape):
            raise ValueError(f"{self.name}: cannot create weight {name!r} of shape {shape}")
        dtype = str(np.dtype(dtype)) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        if value.shape != shape:
            raise ValueError(f"{self.name}: initializer gave shape {value.shape} for weight "
                             f"{name!r} of shape {shape}")
        var = as_keras_variable(shared(value, name=f"{self.name}/{name or 'variable'}",
                                       shape=shape), self, bool(trainable))
        self._weights.append(var)
        self._trainable_flags[id(var)] = bool(trainable)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((var, reg))
        return var

    @property
    def weights(self) -> list:
        """All weights in creation order (own first, then sublayers')."""
        out, seen = [], set()
        for w in self._weights + [w for layer in self._layers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        own = [w for w in self._weights if self._trainable_flags[id(w)]]
        return _unique(own + [w for layer in self._layers for w in layer.trainable_weights])

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self.weights
        own = [w for w in self._weights if not self._trainable_flags[id(w)]]
        return _unique(own + [w for layer in self._layers for w in layer.non_trainable_weights])

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weight values, in ``weights`` order."""
        return [w.get_value() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays; nothing changes if one does not fit."""
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(f"{self.name}: set_weights expected {len(params)} arrays "
                             f"(shapes {[w.get_value(borrow=True).shape for w in params]}), "
                             f"got {len(weights)}")
        checked = []
        for var, value in zip(params, weights):
            value = np.asarray(value)
            current = var.get_value(borrow=True)
            if value.shape != current.shape:
                raise ValueError(f"{self.name}: weight {var.name} has shape {current.shape}, "
                                 f"got an array of shape {value.shape}")
            checked.append(value.astype(current.dtype))
        for var, value in zip(params, checked):
            var.set_value(value)

    def count_params(self) -> int:
        """Number of scalars in all weights."""
        return int(sum(np.prod(w.get_value(borrow=True).shape) for w in self.weights))

    def add_loss(self, loss) -> None:
        """Add a symbolic scalar (computed in ``call`` from the inputs) to the training loss.

        Examples
        --------
        >>> def call(self, x):
        ...     self.add_loss(0.01 * T.mean(T.sqr(x)))
        ...     return x
        """
        loss = T.as_tensor_variable(loss)
        if loss.ndim != 0:
            raise ValueError(f"{self.name}: add_loss takes a scalar, got {loss.type}")
        backend.add_loss(loss)

    @property
    def losses(self) -> list:
        """Symbolic regularization penalties of this layer and its sublayers."""
        own = [reg(var) for var, reg in self._regularized]
        return own + [loss for layer in self._layers for loss in layer.losses]

    # ----- build / call -----
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis None)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The computation on symbolic tensors."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``; by default found by calling on a symbolic input."""
        return None

    def __call__(self, *args, **kwargs):
        if not args:
            raise TypeError(f"{self.name}: called without inputs")
        flat = flatten_structure(args[0])
        if flat and not any(is_symbolic(t) for t in flatten_structure(args)):
            return self._call_eagerly(args, kwargs)
        keras_mode = any(is_keras_tensor(t) for t in flatten_structure(args))
        inputs = map_structure(self._autocast, args[0])
        training = kwargs.pop("training", None)
        if training is None:
            training = in_training_phase()
        if not self.built:
            shapes = map_structure(static_shape, inputs)
            self._check_and_build(shapes)
        if self._call_has_training:
            kwargs["training"] = bool(training)
        # Keras masks ride on tensors (``_keras_mask``): passed to ``call(mask=)`` when it
        # takes one, and set on the outputs from ``compute_mask``.
        mask = kwargs.get("mask")
        auto_mask = mask is None and _mask_of(inputs) is not None
        if mask is None:
            mask = _mask_of(inputs)
        if auto_mask and self._call_has_mask:
            kwargs["mask"] = mask
        _TRAINING.append(bool(training))
        try:
            with scope(self.name):  # tag.scope names this layer in errors (NanGuardMode)
                outputs = _distinct_from(args, self.call(inputs, *args[1:], **kwargs))
        finally:
            _TRAINING.pop()
        if keras_mode:  # Keras tensors in, Keras tensors out (tuple shapes)
            outputs = as_keras_tensor(_fresh_outputs(outputs, inputs))
        self._annotate(inputs, outputs)
        if keras_mode:
            outputs = map_structure(_with_static_type, outputs)
        if self.activity_regularizer is not None:  # as Keras 3: divided by the batch size
            for t in flatten_structure(outputs):
                if is_symbolic(t):
                    penalty = self.activity_regularizer(t)
                    if t.ndim > 0:
                        penalty = penalty / T.cast(T.shape_i(t, 0), penalty.dtype)
                    self.add_loss(penalty)
        _set_masks(outputs, self.compute_mask(inputs, mask))
        if keras_mode and not _TRAINING:  # operations between layers (x + y) join the graph
            from .expression import record_all

            record_all(flatten_structure(args) + [
                t for value in kwargs.values() for t in flatten_structure(value)])
        if any(hasattr(t, "_keras_history") for t in flatten_structure(args)):
            skip = ("training", "mask") if auto_mask else ("training",)
            node = Node(self, (inputs,) + tuple(args[1:]), {k: v for k, v in kwargs.items()
                                                          if k not in skip}, outputs)
            self._inbound_nodes.append(node)
            for i, t in enumerate(flatten_structure(outputs)):
                t._keras_history = (self, node, i)
        return outputs

    def _check_and_build(self, shapes) -> None:
        try:
            self.build(shapes)
        except (ValueError, TypeError):
            self._weights.clear()
            self._trainable_flags.clear()
            self._regularized.clear()
            raise
        self.built = True

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs (Keras): the input mask if ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    def _autocast(self, x):
        if is_symbolic(x) and np.dtype(x.dtype).kind == "f" and x.dtype != self.dtype:
            out = T.cast(x, self.dtype)
            if is_keras_tensor(x):
                out = as_keras_tensor(out)
            for attr in ("_keras_shape", "_keras_mask"):
                if hasattr(x, attr):
                    setattr(out, attr, getattr(x, attr))
            return out
        return x

    def _annotate(self, inputs, outputs) -> None:
        in_shapes = map_structure(static_shape, inputs)
        try:
            shapes = self.compute_output_shape(in_shapes)
        except (ValueError, TypeError):
            shapes = None
        flat_out = flatten_structure(outputs)
        if shapes is None:
            return
        flat_shapes = [shapes] if len(flat_out) == 1 else list(shapes)
        for t, s in zip(flat_out, flat_shapes):
            if is_symbolic(t):
                t._keras_shape = tuple(s)

    def _call_eagerly(self, args, kwargs):
        first = args[0]
        arrays = map_structure(lambda a: np.asarray(a), first)
        flat_arrays = flatten_structure(arrays)
        placeholders = [placeholder(str(a.dtype) if a.dtype.kind != "f" else self.dtype,
                                    (None,) + tuple(a.shape[1:]), f"input{i}")
                        for i, a in enumerate(flat_arrays)]
        it = iter(placeholders)
        symbolic = map_structure(lambda a: next(it), arrays)
        with backend.collect_updates() as updates:  # e.g. a stateful RNN's states
            outputs = self(symbolic, *args[1:], **kwargs)
        flat_out = flatten_structure(outputs)
        fn = function(placeholders, flat_out, updates=list(updates), on_unused_input="ignore")
        values = fn(*[a.astype(p.dtype) for a, p in zip(flat_arrays, placeholders)])
        it = iter(values)
        return map_structure(lambda t: next(it), outputs)

    # ----- functional helpers -----
    def _node_attr(self, attr: str):
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has never been called, so it has no {attr}")
        tensors = getattr(self._inbound_nodes[0], attr)
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def input(self):
        return self._node_attr("input_tensors")

    @property
    def output(self):
        return self._node_attr("output_tensors")

    @property
    def output_shape(self):
        out = self.output
        return [static_shape(o) for o in out] if isinstance(out, list) else static_shape(out)

    # ----- configuration -----
    def get_config(self) -> dict:
        """What ``__init__`` took (name, trainable, dtype plus the layer's own arguments)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["input_shape"] = self._input_shape_arg
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _fresh_outputs(outputs, inputs):
    """Outputs that are one of the inputs (an identity ``call``) become new tensors, so each
    keeps its own Keras history, as Keras's."""
    ins = {id(t) for t in flatten_structure(inputs)}

    def fresh(t):
        if not is_symbolic(t) or id(t) not in ins:
            return t
        out = _identity(t)
        for attr in ("_keras_shape", "_keras_mask"):
            if hasattr(t, attr):
                setattr(out, attr, getattr(t, attr))
        return out

    return map_structure(fresh, outputs)


_identity = Elemwise(ps.identity)


def _with_static_type(t):
    """``t`` reshaped (a view) so that its type knows the sizes its ``compute_output_shape``
    gave where the graph could not infer them (a scan's steps), for the ops that follow.
    The batch axis stays as the graph has it: a model built for a fixed batch size is also
    called on slices of it (data parallel, a short last batch)."""
    shape = getattr(t, "_keras_shape", None)
    if not is_symbolic(t) or shape is None or len(shape) != t.ndim or not any(
            s is not None and k is None for s, k in zip(shape[1:], t.type.shape[1:])):
        return t
    out = as_keras_tensor(T.reshape(t, [T.shape_i(t, 0)] + [
        s if s is not None else T.shape_i(t, i + 1) for i, s in enumerate(shape[1:])],
        ndim=t.ndim))
    for attr in ("_keras_shape", "_keras_mask"):
        if hasattr(t, attr):
            setattr(out, attr, getattr(t, attr))
    return out


def _mask_of(inputs):
    """The ``_keras_mask`` of the inputs: one mask, a list (several inputs), or None."""
    masks = [getattr(t, "_keras_mask", None) for t in flatten_structure(inputs)]
    if all(m is None for m in masks):
        return None
    return masks[0] if len(masks) == 1 else masks


def _set_masks(outputs, masks) -> None:
    """Attach ``masks`` to symbolic outputs that do not carry a mask of their own."""
    if masks is None:
        return
    flat = flatten_structure(outputs)
    flat_masks = flatten_structure(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(flat_masks) == 1 and len(flat) > 1:
        flat_masks = flat_masks * len(flat)
    for t, m in zip(flat, flat_masks):
        if is_symbolic(t) and m is not None and getattr(t, "_keras_mask", None) is None:
            t._keras_mask = m


def _distinct_from(args, outputs):
    """``outputs``, where one is an input (Dropout at inference returns its input) replaced
    by a view of it: each call's outputs then carry their own Keras history."""
    ids = {id(t) for t in flatten_structure(args) if is_symbolic(t)}

    def fresh(t):
        if not is_symbolic(t) or id(t) not in ids:
            return t
        out = DimShuffle(t.ndim, tuple(range(t.ndim)))(t)  # removed by the optimizer
        for attr in ("_keras_shape", "_keras_mask"):
            if hasattr(t, attr):
                setattr(out, attr, getattr(t, attr))
        return out

    return map_structure(fresh, outputs) if ids else outputs


def _unique(items: list) -> list:
    seen, out = set(), []
    for w in items:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out
