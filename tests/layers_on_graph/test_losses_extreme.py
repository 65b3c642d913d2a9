"""Keras crossentropies at logits of +-1000: finite values and gradients equal to real
Keras 3.15's (on PyTorch, in the same float type), with ``from_logits`` True (stable
formulas) and False (probabilities from the activation, clipped to [1e-7, 1 - 1e-7] as
Keras does; in float32 ``1 - 1e-7`` rounds to ``1 - 2**-23``, in Keras as here)."""
import numpy as np
import pytest

import core.tensor as T
from core import function
from layers_on_graph import losses

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

Z = np.array([[1000.0, -1000.0, 0.0, 2.5],
              [-1000.0, 1000.0, 3.0, -1.0],
              [0.0, 1.0, -1000.0, 1000.0]])
LABELS = np.array([1, 0, 2])
TARGETS = {
    "binary": np.array([[1.0, 0.0, 1.0, 0.25], [1.0, 1.0, 0.0, 0.5], [0.0, 0.5, 1.0, 0.0]]),
    "categorical": np.eye(4)[LABELS],
    "sparse": LABELS,
}
# name -> (our Loss class, Keras's backend op, our activation, Keras's activation)
LOSSES = {
    "binary": (losses.BinaryCrossentropy, "binary_crossentropy", T.nnet.sigmoid, torch.sigmoid),
    "categorical": (losses.CategoricalCrossentropy, "categorical_crossentropy",
                    T.nnet.softmax, lambda a: torch.softmax(a, -1)),
    "sparse": (losses.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy",
               T.nnet.softmax, lambda a: torch.softmax(a, -1)),
}


def _keras(name, from_logits, dtype):
    """Keras's loss (its backend op per element, then the batch mean) and its gradient wrt
    the logits, in ``dtype``. (Keras's ``Loss`` classes take the means in float32 even
    under floatx float64, so the float64 reference takes them itself, in float64.)"""
    _, op, _, activation = LOSSES[name]
    z = torch.tensor(Z, dtype=getattr(torch, dtype), requires_grad=True)
    pred = z if from_logits else activation(z)
    target = torch.tensor(TARGETS[name])
    if target.is_floating_point():
        target = target.to(z.dtype)
    per = getattr(keras.ops, op)(target, pred, from_logits=from_logits)
    value = (per.mean(-1) if name == "binary" else per).mean()
    value.backward()
    assert value.dtype == z.dtype
    if dtype == "float32":  # the same as the Loss class computes
        cls = getattr(keras.losses, "".join(w.title() for w in op.split("_")))
        assert cls(from_logits=from_logits)(TARGETS[name], pred).item() == value.item()
    return value.item(), z.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_crossentropy_at_extreme_logits_matches_keras(name, from_logits, dtype):
    cls, _, activation, _ = LOSSES[name]
    z = T.matrix("z", dtype=dtype)
    target = TARGETS[name]
    y = T.lvector("y") if name == "sparse" else T.matrix("y", dtype=dtype)
    cost = cls(from_logits=from_logits)(y, z if from_logits else activation(z))
    value, grad = function([y, z], [cost, T.grad(cost, z)])(target.astype(y.dtype), Z.astype(dtype))
    assert np.isfinite(value) and np.isfinite(grad).all()
    want, dwant = _keras(name, from_logits, dtype)
    rtol, atol = (1e-6, 1e-7) if dtype == "float32" else (1e-12, 1e-14)
    np.testing.assert_allclose(value, want, rtol=rtol)
    np.testing.assert_allclose(grad, dwant, rtol=rtol, atol=atol)


@pytest.mark.parametrize("loss, activation, labels", [
    (losses.SparseCategoricalCrossentropy(from_logits=True), None, "sparse"),
    (losses.CategoricalCrossentropy(from_logits=True), None, "categorical"),
    (losses.BinaryCrossentropy(from_logits=True), None, "binary"),
    ("sparse_categorical_crossentropy", "softmax", "sparse"),
    ("binary_crossentropy", "sigmoid", "binary"),
])
def test_training_step_at_extreme_logits_stays_finite(loss, activation, labels):
    """A model whose logits are +-1000 takes finite SGD steps (float32, the default)."""
    from layers_on_graph import Input, Sequential, layers, optimizers

    model = Sequential([Input(shape=(4,)), layers.Dense(4, activation=activation)])
    model.compile(optimizer=optimizers.SGD(0.01), loss=loss)
    kernel = np.zeros((4, 4), dtype="float32")
    kernel[:, :] = Z[0] / 4  # logits rows of [1000, -1000, 0, 2.5] for an input of ones
    model.layers[-1].set_weights([kernel, np.zeros(4, dtype="float32")])
    x = np.ones((3, 4), dtype="float32")
    y = {"sparse": LABELS, "categorical": TARGETS["categorical"],
         "binary": TARGETS["binary"]}[labels]
    history = model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())
