"""Step-by-step numpy references of Keras 3's recurrent layers (inference, no dropout)."""
from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def simple_rnn_step(x_t, states, kernel, recurrent_kernel, bias, activation=np.tanh):
    h = x_t @ kernel + states[0] @ recurrent_kernel
    if bias is not None:
        h = h + bias
    return [activation(h)]


def lstm_step(x_t, states, kernel, recurrent_kernel, bias):
    h, c = states
    u = h.shape[1]
    z = x_t @ kernel + h @ recurrent_kernel + (0 if bias is None else bias)
    i, f = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u])
    c = f * c + i * np.tanh(z[:, 2 * u:3 * u])
    o = sigmoid(z[:, 3 * u:])
    return [o * np.tanh(c), c]


def gru_step(x_t, states, kernel, recurrent_kernel, bias, reset_after=True):
    h = states[0]
    u = h.shape[1]
    if bias is None:
        b_in, b_rec = 0.0, np.zeros(3 * u)
    elif reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, None
    xz = x_t @ kernel + b_in
    if reset_after:
        inner = h @ recurrent_kernel + b_rec
        z = sigmoid(xz[:, :u] + inner[:, :u])
        r = sigmoid(xz[:, u:2 * u] + inner[:, u:2 * u])
        hh = np.tanh(xz[:, 2 * u:] + r * inner[:, 2 * u:])
    else:
        inner = h @ recurrent_kernel[:, :2 * u]
        z = sigmoid(xz[:, :u] + inner[:, :u])
        r = sigmoid(xz[:, u:2 * u] + inner[:, u:2 * u])
        hh = np.tanh(xz[:, 2 * u:] + (r * h) @ recurrent_kernel[:, 2 * u:])
    return [z * h + (1 - z) * hh]


def run_rnn(step, x, weights, initial_states, mask=None, go_backwards=False,
            zero_output_for_mask=False, **step_kwargs):
    """Keras's ``backend.rnn`` loop: returns (outputs per processed step (batch, time, u),
    last output, final states). Masked steps keep the states and repeat the previous output
    (zeros before the first), or output zeros with ``zero_output_for_mask``."""
    batch, steps = x.shape[:2]
    order = list(range(steps))[::-1] if go_backwards else list(range(steps))
    states = [np.array(s, dtype=np.float64) for s in initial_states]
    prev_out = np.zeros_like(states[0])
    outs = []
    for t in order:
        new = step(x[:, t].astype(np.float64), states, *weights, **step_kwargs)
        if mask is None:
            states, out = new, new[0]
        else:
            m = mask[:, t][:, None].astype(bool)
            out = np.where(m, new[0], prev_out)
            states = [np.where(m, n, s) for n, s in zip(new, states)]
        prev_out = out
        outs.append(out)
    outs = np.stack(outs, axis=1)
    last = outs[:, -1]
    if mask is not None and zero_output_for_mask:
        m_proc = mask[:, order].astype(bool)[:, :, None]
        outs = np.where(m_proc, outs, 0.0)
        last = np.where(m_proc[:, -1], last, 0.0)
    return outs, last, states
