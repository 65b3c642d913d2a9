"""Which training steps split a leading Dense pair by its hidden units (``split_pair``):
found on one process from the step's graph; the split step itself runs in test_mpi.py."""
from __future__ import annotations

import pytest

from layers_on_graph import Input, Sequential, layers, optimizers, regularizers
from layers_on_graph.distribution.split_pair import find_pair


def _pair(*hidden, inputs=(12,)):
    model = Sequential([Input(shape=inputs), *hidden, layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, total, params = model._local_step
    return model, find_pair([total], params)


@pytest.mark.parametrize("use_bias", [True, False])
def test_two_dense_layers_with_an_elementwise_activation_are_a_pair(use_bias):
    model, pair = _pair(layers.Dense(8, activation="relu", use_bias=use_bias))
    first, second = model.layers
    assert pair.w1 is first.kernel and pair.w2 is second.kernel
    assert pair.b1 is (first.bias if use_bias else None)


def test_the_first_pair_from_the_input_is_taken():
    model, pair = _pair(layers.Dense(8, activation="tanh"), layers.Dense(6, activation="relu"))
    assert pair.w1 is model.layers[0].kernel and pair.w2 is model.layers[1].kernel


@pytest.mark.parametrize("between", [
    lambda: [layers.Dense(8, kernel_regularizer=regularizers.L2(0.01))],  # reads all of W1
    lambda: [layers.Dense(8, activation="relu"), layers.Dropout(0.5)],  # random mask
    lambda: [layers.Dense(8), layers.BatchNormalization()],  # statistics over the batch
    lambda: [layers.Dense(8, activation="softmax")],  # mixes the hidden units
])
def test_no_pair_where_something_reads_the_whole_hidden_layer_or_weight(between):
    _, pair = _pair(*between())
    assert pair is None


def test_no_pair_after_a_trained_layer():
    # an Embedding's rows are trained: the Dense pair's input would need its gradient
    # summed over processes
    model = Sequential([Input(shape=(4,), dtype="int64"), layers.Embedding(20, 6),
                        layers.Flatten(), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    _, total, params = model._local_step
    assert find_pair([total], params) is None
