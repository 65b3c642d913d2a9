"""A shared check of one layer against its real Keras 3 twin (torch backend).

``check_twin`` builds the layer in both libraries with the same arguments, gives the Keras
twin random weights and copies them with ``get_weights``/``set_weights``; then the outputs,
the weight names and order, and the gradients of a random projection of the output with
respect to the inputs and every trainable weight (ours symbolic, Keras's from torch
autograd) must agree. ``check_files_both_ways`` saves a one-layer functional model in each
library as ``.keras`` and loads it in the other.
"""
from __future__ import annotations

import numpy as np
import torch

import core.tensor as T
from core import function

import layers_on_graph as lg


def default_call(layer, xs, **kwargs):
    return layer(xs[0], **kwargs)


def random_inputs(shapes, seed: int, dtypes=None):
    rng = np.random.default_rng(seed)
    dtypes = dtypes or ["float32"] * len(shapes)
    return [rng.normal(size=s).astype(d) if d == "float32" else
            rng.integers(0, 2, size=s).astype(d) for s, d in zip(shapes, dtypes)]


def _random_weights(keras_layer, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    for w in keras_layer.weights:
        value = np.asarray(w.numpy())
        if value.dtype.kind != "f":
            out.append(value)
        elif "variance" in w.path:
            out.append((np.abs(rng.normal(size=value.shape)) + 0.5).astype(value.dtype))
        else:
            out.append((rng.normal(size=value.shape) * 0.5).astype(value.dtype))
    return out


def _weight_names(layer) -> list[str]:
    return [w.name.split("/")[-1] for w in layer.weights]


def check_twin(keras, name: str, kwargs: dict, shapes, call=default_call, call_kwargs=None,
               dtypes=None, seed: int = 0, atol: float = 1e-5, grads: bool = True):
    """Outputs, weights and gradients of ``layers.<name>(**kwargs)`` equal Keras's."""
    call_kwargs = call_kwargs or {}
    xs = random_inputs(shapes, seed, dtypes)
    k_layer = getattr(keras.layers, name)(**kwargs)
    ours = getattr(lg.layers, name)(**kwargs)
    call(k_layer, xs, **call_kwargs)  # builds
    k_layer.set_weights(_random_weights(k_layer, seed + 1))
    call(ours, xs, **call_kwargs)
    assert [w.path.split("/")[-1] for w in k_layer.weights] == _weight_names(ours)
    ours.set_weights([np.asarray(w) for w in k_layer.get_weights()])
    k_out = keras.ops.convert_to_numpy(call(k_layer, xs, **call_kwargs))
    out = call(ours, xs, **call_kwargs)
    assert out.shape == k_out.shape, (out.shape, k_out.shape)
    np.testing.assert_allclose(out, k_out, rtol=1e-5, atol=atol)
    if grads:
        _check_gradients(k_layer, ours, xs, call, call_kwargs, out.shape, seed, atol)
    return ours, out


def _check_gradients(k_layer, ours, xs, call, call_kwargs, out_shape, seed, atol):
    direction = np.random.default_rng(seed + 2).normal(size=out_shape).astype("float32")
    floats = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
    # Keras: torch autograd through the layer
    tensors = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in xs]
    for w in k_layer.trainable_weights:
        w.value.grad = None
    cost = (call(k_layer, tensors, **call_kwargs) * torch.tensor(direction)).sum()
    cost.backward()
    k_grads = [tensors[i].grad.numpy() for i in floats] + [
        w.value.grad.numpy() for w in k_layer.trainable_weights]
    # ours: the symbolic gradient
    symbols = [T.TensorType(x.dtype.name if x.dtype.kind != "f" else "float32",
                            (None,) + x.shape[1:])(f"x{i}") for i, x in enumerate(xs)]
    out = call(ours, symbols, **call_kwargs)
    wrt = [symbols[i] for i in floats] + list(ours.trainable_weights)
    g = T.grad(T.sum(out * direction), wrt)
    our_grads = function(symbols, g, on_unused_input="ignore")(*xs)
    assert len(our_grads) == len(k_grads)
    for a, b in zip(our_grads, k_grads):
        scale = max(1.0, float(np.max(np.abs(b))))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=10 * atol * scale)


def check_files_both_ways(keras, tmp_path, name: str, kwargs: dict, shapes, call=default_call,
                          call_kwargs=None, dtypes=None, seed: int = 0, atol: float = 1e-5):
    """A functional model around the layer: Keras's ``.keras`` file loads here and predicts
    the same; ours loads into Keras and predicts the same."""
    call_kwargs = call_kwargs or {}
    xs = random_inputs(shapes, seed, dtypes)
    dtypes = dtypes or ["float32"] * len(shapes)
    k_inputs = [keras.Input(shape=s[1:], dtype=d) for s, d in zip(shapes, dtypes)]
    k_layer = getattr(keras.layers, name)(**kwargs)
    k_model = keras.Model(k_inputs, call(k_layer, k_inputs, **call_kwargs))
    k_layer.set_weights(_random_weights(k_layer, seed + 1))
    keras_file = str(tmp_path / "from_keras.keras")
    k_model.save(keras_file)
    want = keras.ops.convert_to_numpy(k_model.predict(xs, verbose=0))
    ours = lg.saving.load_model(keras_file)
    np.testing.assert_allclose(ours.predict(xs, verbose=0), want, rtol=1e-5, atol=atol)
    our_file = str(tmp_path / "ours.keras")
    ours.save(our_file)
    back = keras.models.load_model(our_file)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(back.predict(xs, verbose=0)), want,
                               rtol=1e-5, atol=atol)
