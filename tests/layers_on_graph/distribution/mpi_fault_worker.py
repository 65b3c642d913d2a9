"""Scenarios that must end every process with an error, never a hang, run by the
distribution tests under ``mpiexec -n 2 python mpi_fault_worker.py NAME``: an exception or
a killed process on one process, and calls the processes do not make alike. The models
and data are mpi_worker.py's.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mpi_worker import ModelCheckpoint, data, distribution, main, mlp  # noqa: E402


def scenario_error():
    x, y = data(64, (6,))
    distribution.set_distribution(distribution.DataParallel())
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    if distribution.process_index() == 1:
        from layers_on_graph.callbacks import LambdaCallback

        def fail(batch, logs):
            if batch == 2:
                raise RuntimeError("boom on process 1")
        cbs = [LambdaCallback(on_train_batch_end=fail)]
    else:
        cbs = []
    model.fit(x, y, batch_size=8, epochs=1000, verbose=0, callbacks=cbs)


def scenario_kill(folder: str):
    x, y = data(64, (6,))
    distribution.set_distribution(distribution.DataParallel())
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    path = os.path.join(folder, "ckpt.weights.h5")
    from layers_on_graph.callbacks import LambdaCallback

    steps = []

    def die(batch, logs):  # in the middle of the fourth epoch (8 steps each)
        steps.append(batch)
        if len(steps) == 28 and distribution.process_index() == 1:
            os.kill(os.getpid(), 9)
    model.fit(x, y, batch_size=8, epochs=1000, verbose=0,
              callbacks=[ModelCheckpoint(path, save_weights_only=True),
                         LambdaCallback(on_train_batch_end=die)])


def scenario_evaluate_on_one_process():
    """Process 0 alone evaluates (a collective) after fit; process 1's script ends."""
    from layers_on_graph.distribution import watcher

    distribution.set_distribution(distribution.DataParallel())
    x, y = data(32, (6,))
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    if distribution.process_index() == 0:
        time.sleep(watcher.GRACE + 0.5)  # long work of its own after the end: no abort
        model.evaluate(x, y, verbose=0)  # waits for process 1 for ever: aborted


def scenario_evaluate_while_other_fits():
    """Process 0 evaluates after each epoch; process 1 goes on to fit the next."""
    distribution.set_distribution(distribution.DataParallel())
    x, y = data(32, (6,))
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    for _ in range(2):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # process 1, the second time
        if distribution.process_index() == 0:
            model.evaluate(x, y, verbose=0)  # process 0


def scenario_own_data():
    """Each process passes its own part of the data: 32 samples, 24 on process 1."""
    distribution.set_distribution(distribution.DataParallel())
    x, y = data(32 - 8 * distribution.process_index(), (6,))
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)


def scenario_barrier_against_predict():
    """Process 0 waits in a barrier, process 1 in predict: both wait for ever."""
    distribution.set_distribution(distribution.DataParallel())
    x, _ = data(32, (6,))
    model = mlp()
    if distribution.process_index() == 0:
        distribution.barrier()  # process 0
    else:
        model.predict(x, verbose=0)  # process 1


if __name__ == "__main__":
    main(sys.argv, globals())
