"""Every node of the layer library's training functions (dense, dropout, batch
normalization, convolution and pooling, recurrent layers; Adam and SGD) has a CUDA kernel
that builds: elementwise nodes generate their source, the others construct their kernel
with numpy standing in for cupy. What a GPU session would otherwise find first."""
import numpy as np
import pytest

from backends.cuda.codegen import ElemwiseSource
from core import config
from core.scan.op import Scan, ScanGrad
from core.tensor.elemwise import Elemwise

from numpy_as_cupy import numpy_as_cupy


def _models():
    from layers_on_graph import Input, Sequential, layers

    yield "mlp", Sequential([Input(shape=(12,)), layers.Dense(16, activation="relu"),
                             layers.Dropout(0.3), layers.BatchNormalization(),
                             layers.Dense(3, activation="softmax")]), (12,)
    yield "cnn", Sequential([Input(shape=(8, 8, 2)), layers.Conv2D(4, 3, padding="same",
                                                                   activation="relu"),
                             layers.MaxPooling2D(2), layers.AveragePooling2D(2),
                             layers.Flatten(), layers.Dense(3, activation="softmax")]), (8, 8, 2)
    yield "rnn", Sequential([Input(shape=(5, 4)), layers.LSTM(6, return_sequences=True),
                             layers.GRU(6), layers.Dense(3, activation="softmax")]), (5, 4)


def _nodes(fgraph):
    for node in fgraph.toposort():
        yield node
        if isinstance(node.op, (Scan, ScanGrad)):
            yield from _nodes(node.op.fgraph)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_functions_of_the_layer_library_have_cuda_kernels(optimizer):
    with config.change_flags(backend="numpy"), numpy_as_cupy():
        from backends.cuda.kernels import registry

        for name, model, shape in _models():
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(np.zeros((4,) + shape, "float32"), np.zeros(4, "int64"), verbose=0)
            for node in _nodes(model._train_fn.maker.fgraph):
                if isinstance(node.op, Elemwise):
                    ElemwiseSource(node)
                elif not isinstance(node.op, (Scan, ScanGrad)):  # their steps are listed
                    assert registry.lookup(node.op) is not None, f"{name}: {node.op}"
                    registry.make_kernel(node)
