"""The split of a leading Dense pair by hidden units
(``layers_on_graph/distribution/split_pair.py``), run by the distribution tests under
``mpiexec -n 2 python mpi_split_worker.py split_pair``. On one machine each process runs
the whole batch through its columns of the first kernel and bias and its rows of the
second kernel, and one exchange sums the partial products. The models, data and checks
are mpi_worker.py's; the uneven, stream and no-shared-memory scenarios there run both
steps.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mpi_worker import (check_equal_to_one_process, collectives, data, main, mlp,  # noqa: E402
                        same_everywhere, train)

import numpy as np  # noqa: E402

from layers_on_graph import (Input, Sequential, callbacks, distribution, layers,  # noqa: E402
                             optimizers, utils)
from layers_on_graph.distribution import sharded  # noqa: E402


def scenario_split_pair():
    check_equal_to_one_process(mlp, 160, (6,), 32, 4)  # 20 steps
    check_equal_to_one_process(mlp, 101, (6,), 32, 2)  # a last batch of 5
    check_blocks()
    check_train_on_batch()
    check_adam()
    check_sample_weights()
    check_callback_sees_whole_weights()
    check_not_split()


def check_blocks():
    """One exchange; each process's blocks of the kernels, bias and momenta, in windows."""
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    rank = distribution.process_index()
    assert collectives(model) == [f"ExchangeProduct{{2, rank={rank}}}"], collectives(model)
    assert model._train_fn.global_batch
    first, second = model.layers
    want = {first.kernel.name: (6, 8), first.bias.name: (8,), second.kernel.name: (8, 3)}
    want.update({f"sgd/{name.replace('/', '_')}_momentum": shape
                 for name, shape in want.items()})
    blocks = {var.name: var_block.get_value(borrow=True).shape
              for var, var_block, _ in model._train_fn._weights.entries}
    assert blocks == want, (blocks, want)
    np.testing.assert_array_equal(  # the block is the window's memory
        model._train_fn._weights.entries[0][1].get_value(borrow=True),
        first.kernel.get_value(borrow=True)[:, 8 * rank:8 * rank + 8])
    same_everywhere(model.get_weights())


def check_train_on_batch():
    """Each process passes its own half of the batch, as under the row-sharded step."""
    x, y = data(16, (6,))
    mine = slice(8 * distribution.process_index(), 8 * distribution.process_index() + 8)
    ref, _ = train(mlp, x, y, False, 16, 0)
    ref.train_on_batch(x, y)
    par, _ = train(mlp, x, y, True, 16, 0)
    par.train_on_batch(x[mine], y[mine])
    for a, b in zip(ref.get_weights(), par.get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)


def check_adam():
    """Adam's two slots per weight, split with it."""
    def adam_run(parallel: bool):
        distribution.set_distribution(distribution.DataParallel() if parallel else None)
        utils.set_random_seed(3)
        model = mlp()
        model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        utils.set_random_seed(4)
        model.fit(*data(96, (6,)), batch_size=32, epochs=2, verbose=0)
        return model

    ref, par = adam_run(False), adam_run(True)
    assert par._train_fn.global_batch and len(par._train_fn._weights.entries) == 9
    for a, b in zip(ref.get_weights(), par.get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)


def check_sample_weights():
    """Sample weights and validation_split: rows of the global batch."""
    x, y = data(100, (6,))
    weights = np.linspace(0.5, 2.0, 100)
    runs = [train(mlp, x, y, parallel, 32, 2, sample_weight=weights,
                  validation_split=0.2)[0] for parallel in (False, True)]
    for a, b in zip(*(model.get_weights() for model in runs)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)


def check_callback_sees_whole_weights():
    """A callback that reads the weights after each step sees them whole: the step leaves
    its final barrier to such readers (one after each step), else to the epoch's end."""
    class Record(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.seen.append(self.model.get_weights())

    barriers, settle = [], sharded.ShardedStep.settle

    def counted(step):  # the barriers that settling a step takes
        barriers.append(step._unsettled)
        settle(step)

    sharded.ShardedStep.settle = counted
    seen = {}
    for parallel in (False, True):
        record = Record()
        record.seen = seen[parallel] = []
        train(mlp, *data(96, (6,)), parallel, 32, 1, callbacks=[record])
    assert sum(barriers) == 3, barriers  # after each of the 3 steps
    del barriers[:]
    train(mlp, *data(96, (6,)), True, 32, 1)
    assert sum(barriers) == 1, barriers  # no callback looks: once, after the epoch
    sharded.ShardedStep.settle = settle
    assert len(seen[True]) == 3
    for ref_weights, par_weights in zip(seen[False], seen[True]):
        for a, b in zip(ref_weights, par_weights):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)


def check_not_split():
    """A dropout draw each process would make its own; a frozen layer as large as the
    pair, which every process would run whole: the row-sharded step."""
    for build in (lambda: Sequential([Input(shape=(6,)), layers.Dense(16, activation="tanh"),
                                      layers.Dense(16), layers.Dropout(0.3),
                                      layers.Dense(3, activation="softmax")]),
                  lambda: Sequential([Input(shape=(6,)), layers.Dense(64, trainable=False),
                                      layers.Dense(16, activation="tanh"),
                                      layers.Dense(3, activation="softmax")])):
        model, _ = train(build, *data(32, (6,)), True, 32, 1)
        assert not model._train_fn.global_batch


if __name__ == "__main__":
    main(sys.argv, globals())
