"""``Bidirectional``: run a recurrent layer forwards and backwards and merge the outputs."""
from __future__ import annotations

import core.tensor as T

from ..layer import Layer
from .base_rnn import BaseRNN, _sequence_shape, _split_inputs, _where
from .serialization import layer_from_config, layer_to_config

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """A forward copy and a backward copy (``go_backwards=True``) of ``layer``, made from its
    config as Keras does, each with its own weights (forward's first). The backward outputs
    are flipped back to the input's time order and merged with ``merge_mode``:
    'concat' (last axis), 'sum', 'mul', 'ave', or None (a list of both). With
    ``return_sequences`` both copies output zeros at masked steps (as Keras).
    ``initial_state`` takes the forward states then the backward states.

    Examples
    --------
    >>> y = Bidirectional(LSTM(32, return_sequences=True))(x)   # (batch, time, 64)
    """

    def __init__(self, layer: BaseRNN, merge_mode: str | None = "concat", weights=None,
                 backward_layer: BaseRNN | None = None, **kwargs):
        if not isinstance(layer, BaseRNN):
            raise ValueError(f"Bidirectional: expected a recurrent layer (SimpleRNN, LSTM, "
                             f"GRU), got {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, BaseRNN):
            raise ValueError(f"Bidirectional: backward_layer must be a recurrent layer, got "
                             f"{backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; expected one "
                             f"of {_MERGE_MODES}")
        super().__init__(**kwargs)
        config = layer.get_config()
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") else layer.name
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{base}"})
        if backward_layer is None:
            back = base[len("backward_"):] if base.startswith("backward_") else base
            backward_layer = type(layer).from_config({**config, "go_backwards": True,
                                                      "name": f"backward_{back}"})
        self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(f"Bidirectional: the forward and backward layers need different "
                             f"go_backwards, got {fwd.go_backwards} for both")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(f"Bidirectional: the forward and backward layers need the same "
                                 f"{attr}, got {getattr(fwd, attr)} and {getattr(bwd, attr)}")
        for sub in (fwd, bwd):
            sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = fwd.stateful
        self.return_sequences = fwd.return_sequences
        self.return_state = fwd.return_state
        self.supports_masking = True
        self._initial_weights = weights

    def build(self, input_shape) -> None:
        shape = _sequence_shape(input_shape)
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._check_and_build(shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def __call__(self, inputs, *args, initial_state=None, **kwargs):
        if initial_state is not None:  # travels with the inputs (functional replay)
            x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            inputs = [x] + list(initial_state)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, mask=None, training=None):
        x, states = _split_inputs(inputs)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        fwd_state = bwd_state = None
        if states is not None:
            if len(states) % 2:
                raise ValueError(f"{self.name}: initial_state needs the forward states then "
                                 f"the backward states (an even number), got {len(states)}, "
                                 f"at {_where()}")
            half = len(states) // 2
            fwd_state, bwd_state = states[:half], states[half:]
        y = self.forward_layer(x, initial_state=fwd_state, mask=mask, training=training)
        y_rev = self.backward_layer(x, initial_state=bwd_state, mask=mask, training=training)
        states_out = []
        if self.return_state:
            states_out = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            output = T.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states_out
        return output

    def reset_states(self, states=None) -> None:
        """Reset both directions' states (stateful layers)."""
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    reset_state = reset_states

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(_sequence_shape(input_shape))
        state_shapes = []
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (None if shape[-1] is None else 2 * shape[-1],)
            outs = [shape]
        elif self.merge_mode is None:
            outs = [tuple(shape), tuple(shape)]
        else:
            outs = [tuple(shape)]
        if self.return_state:
            return outs + state_shapes + state_shapes
        return outs[0] if len(outs) == 1 else outs

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            outs += [None] * (2 * len(self.forward_layer.state_size))
        return outs[0] if len(outs) == 1 else outs

    def get_config(self) -> dict:
        config = {**super().get_config(), "layer": layer_to_config(self.forward_layer),
                  "merge_mode": self.merge_mode}
        config["layer"]["config"]["name"] = self.forward_layer.name[len("forward_"):]
        if self.backward_layer.name != "backward_" + config["layer"]["config"]["name"]:
            config["backward_layer"] = layer_to_config(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Bidirectional":
        config = dict(config)
        layer = layer_from_config(config.pop("layer"))
        if "backward_layer" in config:
            config["backward_layer"] = layer_from_config(config["backward_layer"])
        return cls(layer, **config)
