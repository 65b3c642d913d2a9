"""``BaseRNN``: the base of SimpleRNN, LSTM and GRU: one ``core.scan`` loop over time.

A subclass gives its weights (``build_cell``), the recurrent weights the step
reads (``step_weights``) and one step (``step``). The base does what Keras's
``RNN`` does around the cell: the loop over the time axis, masks (masked steps
carry the states over), initial and stateful states, dropout masks (drawn once
per call, as Keras), ``return_sequences``/``return_state``/``go_backwards``.

Speed: ``x @ kernel`` (+ the input bias) for every time step is one batched
product outside the loop (``project_inputs``; the kernel broadcast as a batch of
one, never copied per step), landing in the loop's layout; the loop's step holds
only the recurrent product and the gate arithmetic (one fused elementwise loop),
and is compiled once by ``scan``. With a gradient, the forward loop also stores
the gate activations the backward step reads (``core.scan.grad``): per step, one
product forward and two backward, and the gate gradients, one fused loop, are
concatenated straight into the sequence gradient's row.
Inside the loop everything is feature-major, ``(features, batch)``: a state is
``h.T`` and the step computes ``U.T @ h.T``, so each gate is a block of whole
rows, contiguous in memory, and the gates' elementwise kernels (and their
gradients) run on contiguous arrays of one shape (masks are broadcast once,
outside the loop).
"""
from __future__ import annotations

import numpy as np

import core.tensor as T
from core import scan, shared
from core.graph.basic import Variable
from core.graph.trace import format_trace, user_frame
from core.tensor.random import RandomStreams

from ... import activations, backend, initializers, regularizers
from ...distribution import host as dist_host
from ...utils.random import next_seed
from ..layer import Layer, is_symbolic


class BaseRNN(Layer):
    """Base class of the recurrent layers (inputs ``(batch, timesteps, features)``).

    Parameters common to all of them, with Keras's meaning:
    ``return_sequences`` (the output of every step, else the last), ``return_state``
    (also return the final states), ``go_backwards`` (process the sequence in reverse and
    return the outputs in processing order), ``stateful`` (the final states of a batch are
    the initial states of the next; needs a fixed batch size; ``reset_states()``),
    ``dropout``/``recurrent_dropout`` (fractions of the inputs / the recurrent state dropped
    in training, one mask per call), ``zero_output_for_mask`` (masked steps output zeros
    instead of the previous output; Bidirectional sets it to ``return_sequences``).
    The layer is called as ``layer(x, initial_state=[...], mask=m, training=...)``.
    """

    n_gates = 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{kind}: units must be a positive int, got {units!r}")
        if any(c is not None for c in (kernel_constraint, recurrent_constraint,
                                       bias_constraint)):
            raise ValueError(f"{kind}: weight constraints are not supported")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = min(1.0, max(0.0, float(dropout)))  # clipped, as Keras
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._streams = RandomStreams(seed if seed is not None else next_seed())
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for Keras compatibility; the loop is always scan
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states: list | None = None

    # ----- what a subclass defines -----
    @property
    def state_size(self) -> list[int]:
        return [self.units]

    def build_cell(self, n_in: int) -> None:
        """Create kernel, recurrent_kernel and bias (Keras's order and shapes)."""
        raise NotImplementedError

    def input_bias(self):
        """The bias added to the input projection (None without bias)."""
        return self.bias

    def step_weights(self, per_gate: bool, batch) -> list:
        """The recurrent weights the step reads (non-sequences of the loop), transposed for
        the feature-major step; ``batch`` is the symbolic batch size."""
        raise NotImplementedError

    def step(self, x_t, states: list, weights: list, rec_masks: list | None) -> list:
        """New states from the projected input ``x_t`` (n_gates*units, batch) and ``states``
        (each (units, batch)); feature-major, see the module docstring. The first state is
        the step's output."""
        raise NotImplementedError

    # ----- weights -----
    def build(self, input_shape) -> None:
        shape = _sequence_shape(input_shape)
        if len(shape) != 3:
            raise ValueError(f"{self.name}: expects inputs of shape (batch, timesteps, "
                             f"features), got shape {shape}, at {_where()}")
        if shape[-1] is None:
            raise ValueError(f"{self.name}: the feature axis of the input must be known, got "
                             f"shape {shape}, at {_where()}")
        if self.stateful and shape[0] is None:
            raise ValueError(f"{self.name}: a stateful RNN needs a fixed batch size (give "
                             f"Input(batch_shape=...) or batch_size=); got input shape {shape}, "
                             f"at {_where()}")
        self.build_cell(int(shape[-1]))
        if self.stateful:
            self.state_batch = int(shape[0])  # the global batch (data parallel: see reset)
            self.states = [shared(np.zeros((shape[0], n), dtype=self.dtype),
                                  name=f"{self.name}/rnn_state")
                           for n in self.state_size]
        self.built = True

    def reset_states(self, states=None) -> None:
        """Set a stateful layer's states to zeros (or to the given arrays)."""
        if not self.stateful:
            raise ValueError(f"{self.name}: reset_states() needs stateful=True")
        if self.states is None:
            return
        values = [None] * len(self.states) if states is None else (
            list(states) if isinstance(states, (list, tuple)) else [states])
        if len(values) != len(self.states):
            raise ValueError(f"{self.name}: reset_states expected {len(self.states)} arrays, "
                             f"got {len(values)}")
        checked = []
        for var, value in zip(self.states, values):
            current = var.get_value(borrow=True)
            value = np.zeros_like(current) if value is None else np.asarray(value)
            if value.shape != current.shape and value.shape[1:] == current.shape[1:]:
                # the global batch's rows, where data parallel keeps this process's
                value = dist_host.local_rows(value, self.state_batch)
            if value.shape != current.shape:
                raise ValueError(f"{self.name}: a state has shape {current.shape}, got an "
                                 f"array of shape {value.shape}")
            checked.append(value.astype(current.dtype))
        for var, value in zip(self.states, checked):
            var.set_value(value)

    reset_state = reset_states

    # ----- call -----
    def _call_eagerly(self, args, kwargs):
        if self.stateful and not self.built:  # the arrays give the fixed batch size
            first = args[0][0] if isinstance(args[0], (list, tuple)) else args[0]
            self._check_and_build(tuple(np.shape(first)))
        return super()._call_eagerly(args, kwargs)

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        # Initial states travel with the inputs, so that a functional Model replays them.
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            if is_symbolic(x):
                states = [s if is_symbolic(s) else T.as_tensor_variable(
                    np.asarray(s, dtype=self.dtype)) for s in states]
            inputs = [x] + states
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, mask=None, training=None):
        x, given = _split_inputs(inputs)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if x.ndim != 3:
            raise ValueError(f"{self.name}: expects inputs of shape (batch, timesteps, "
                             f"features), got a tensor of {x.ndim} dimension(s) ({x.type}), "
                             f"at {_where()}")
        states = self._initial_states(x, given)
        per_gate = bool(training) and 0.0 < self.recurrent_dropout < 1.0 and self.n_gates > 1
        n_masks = self.n_gates if per_gate else 1
        xs = x.dimshuffle(1, 0, 2)  # time-major: scan loops over the first axis
        n_in = self.kernel.get_value(borrow=True).shape[0]
        batch = T.shape_i(x, 0)
        dp = self._dropout_masks(x, self.dropout, n_masks, n_in, training)
        rdp = self._dropout_masks(x, self.recurrent_dropout, n_masks, self.units, training,
                                  feature_major=True)
        sequences = [self.project_inputs(xs, dp)]
        m = None
        if mask is not None:
            mask = mask if is_symbolic(mask) else T.as_tensor_variable(np.asarray(mask))
            m = T.neq(mask, 0).dimshuffle(1, "x", 0)  # (time, 1, batch)
            sequences.append(T.alloc(m, T.shape_i(m, 0), self.units, batch))
        # Keras's masked output is the previous *output* (zeros before the first unmasked
        # step), which differs from the carried state only when the initial state is not zero.
        track_out = m is not None and (given is not None or self.stateful)
        weights = self.step_weights(per_gate, batch)
        n_states, n_w = len(states), len(weights)

        def step_fn(*args):
            x_t, args = args[0], args[1:]
            m_t = None
            if m is not None:
                m_t, args = args[0], args[1:]
            prev, args = list(args[:n_states]), args[n_states:]
            out_prev = None
            if track_out:
                out_prev, args = args[0], args[1:]
            w, rd = list(args[:n_w]), list(args[n_w:]) or None
            new = self.step(x_t, prev, w, rd)
            if m_t is None:
                return new
            carried = [T.switch(m_t, n, p) for n, p in zip(new, prev)]
            return carried + ([T.switch(m_t, new[0], out_prev)] if track_out else [])

        outputs_info = states + ([T.zeros_like(states[0])] if track_out else [])
        results, _ = scan(step_fn, sequences=sequences, outputs_info=outputs_info,
                          non_sequences=weights + (rdp or []), go_backwards=self.go_backwards,
                          name=self.name, return_list=True)
        out_seq = results[-1] if track_out else results[0]  # (time, units, batch)
        finals = [r[-1].T for r in results[:n_states]]
        last = out_seq[-1].T
        if m is not None and self.zero_output_for_mask:
            m_proc = m[::-1] if self.go_backwards else m
            out_seq = T.switch(m_proc, out_seq, T.zeros_like(out_seq))
            last = T.switch(m_proc[-1].T, last, T.zeros_like(last))
        if self.stateful:
            for var, value in zip(self.states, finals):
                backend.add_update(var, value)
        output = out_seq.dimshuffle(2, 0, 1) if self.return_sequences else last
        return [output] + finals if self.return_state else output

    def project_inputs(self, xs, dp):
        """``xs @ kernel + input bias`` for all steps at once, laid out for the loop:
        (time, n_gates*units, batch), step t's block is ``kernel.T @ x_t.T``.
        With one dropout mask per gate (recurrent dropout on), each gate's slice of the
        kernel sees its own masked input, as Keras's implementation 1."""
        n_in = self.kernel.get_value(borrow=True).shape[0]
        n_steps, batch = T.shape_i(xs, 0), T.shape_i(xs, 1)

        def features_major(v):  # (time, batch, in) -> (in, time*batch): a small copy
            return T.reshape(v.dimshuffle(2, 0, 1), (n_in, -1))

        bias = self.input_bias() if self.use_bias else None
        rows = self.n_gates * self.units
        if dp is not None and len(dp) > 1:
            u = self.units
            proj = T.concatenate(
                [T.dot(self.kernel[:, k * u:(k + 1) * u].T,
                       features_major(xs * d.dimshuffle("x", 0, 1)))
                 for k, d in enumerate(dp)], axis=0)
            if bias is not None:
                proj = proj + bias.dimshuffle(0, "x")
            # (the loop copies this view once, so that each step's block is contiguous)
            return T.reshape(proj, [rows, n_steps, batch], ndim=3).dimshuffle(1, 0, 2)
        if dp is not None:
            xs = xs * dp[0].dimshuffle("x", 0, 1)
        kernel_t, inputs = self.kernel.T, xs.dimshuffle(0, 2, 1)  # inputs (time, in, batch)
        if bias is not None:  # the bias as one more input feature, always 1: no broadcast
            # addition over the whole projection (nor a sum for its gradient)
            kernel_t = T.concatenate([kernel_t, bias.dimshuffle(0, "x")], axis=1)
            ones = T.ones((n_steps, 1, batch), dtype=inputs.dtype)
            inputs = T.concatenate([inputs, ones], axis=1)
        # kernel.T @ x_t for every t in one batched product: it lands in the loop's layout,
        # (time, rows, batch), so neither it nor its gradient needs a transposing copy; the
        # kernel is broadcast (a batch of 1), not copied per step.
        return T.batched_dot(kernel_t.dimshuffle("x", 0, 1), inputs)

    def _initial_states(self, x, given) -> list:
        if given is None:
            if self.stateful:
                expected = self.states[0].get_value(borrow=True).shape[0]
                if x.type.shape[0] not in (None, expected):
                    raise ValueError(f"{self.name}: a stateful RNN keeps states for batches of "
                                     f"{expected}, got inputs of shape {x.type.shape}, at "
                                     f"{_where()}")
                return [s.T for s in self.states]
            batch = T.shape_i(x, 0)
            return [T.zeros((n, batch), dtype=self.dtype) for n in self.state_size]
        if len(given) != len(self.state_size):
            raise ValueError(f"{self.name}: initial_state needs {len(self.state_size)} "
                             f"tensor(s) of shapes (batch, {self.state_size}), got {len(given)}, "
                             f"at {_where()}")
        out = []
        for s, n in zip(given, self.state_size):
            s = s if is_symbolic(s) else T.as_tensor_variable(np.asarray(s, dtype=self.dtype))
            if s.ndim != 2 or s.type.shape[-1] not in (None, n):
                raise ValueError(f"{self.name}: an initial state must have shape (batch, {n}), "
                                 f"got {s.type}, at {_where()}")
            out.append((s if s.dtype == self.dtype else T.cast(s, self.dtype)).T)
        return out

    def _dropout_masks(self, x, rate: float, count: int, size, training,
                       feature_major: bool = False):
        """``count`` inverted-dropout masks of shape (batch, size) (or (size, batch)), or
        None (Keras applies dropout only for 0 < rate < 1, in training)."""
        if not training or not 0.0 < rate < 1.0:
            return None
        keep = 1.0 - rate
        masks = []
        for _ in range(count):
            shape = [T.shape_i(x, 0), int(size)]
            u = self._streams.uniform(size=shape[::-1] if feature_major else shape,
                                      dtype=self.dtype)
            masks.append(T.cast(T.lt(u, keep), self.dtype) * np.asarray(1.0 / keep, self.dtype))
        return masks

    # ----- shapes, masks, config -----
    def compute_output_shape(self, input_shape):
        shape = _sequence_shape(input_shape)
        out = (shape[0], shape[1], self.units) if self.return_sequences \
            else (shape[0], self.units)
        if self.return_state:
            return [out] + [(shape[0], n) for n in self.state_size]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self.state_size)
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}


def _where() -> str:
    """The user's source line (for error messages)."""
    return format_trace(user_frame())


def _sequence_shape(input_shape) -> tuple:
    """The shape of the sequence when the inputs are [sequence, *initial_states]."""
    if input_shape and isinstance(input_shape[0], (tuple, list)):
        return tuple(input_shape[0])
    return tuple(input_shape)


def _split_inputs(inputs):
    if isinstance(inputs, (list, tuple)):
        return inputs[0], (list(inputs[1:]) or None)
    return inputs, None


def recurrent_slices(kernel: Variable, units: int, n: int) -> list:
    """The ``n`` column blocks (one per gate) of a (units, n*units) recurrent kernel,
    transposed for the feature-major step (``block.T @ h.T``)."""
    return [kernel[:, k * units:(k + 1) * units].T for k in range(n)]
