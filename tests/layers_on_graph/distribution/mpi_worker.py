"""Scenarios run by the distribution tests under ``mpiexec -n 2 python mpi_worker.py NAME``.

Each scenario checks itself on every process and raises AssertionError on a mismatch;
process 0 prints ``OK NAME`` at the end. ``sys.path`` starts with the repository root.
"""
from __future__ import annotations

import os
import sys
import time
import warnings

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))

import numpy as np  # noqa: E402

from layers_on_graph import Input, Sequential, backend, distribution, layers, optimizers, utils  # noqa: E402
from layers_on_graph.callbacks import CSVLogger, ModelCheckpoint  # noqa: E402
from layers_on_graph.distribution import graph as dist_graph, runtime, sharded, split_pair  # noqa: E402

backend.set_floatx("float64")
# The test models' kernels are small: gather every kernel's rows (each process updating a
# block of them) unless a scenario says otherwise
dist_graph.GATHER_MIN_WIDTH = 0


def mlp():
    return Sequential([Input(shape=(6,)), layers.Dense(16, activation="tanh"),
                       layers.Dense(3, activation="softmax")])


def lstm():
    return Sequential([Input(shape=(5, 4)), layers.LSTM(8), layers.Dense(3, activation="softmax")])


def cnn(synchronized: bool):
    return Sequential([Input(shape=(6, 6, 2)), layers.Conv2D(4, (3, 3), padding="same"),
                       layers.BatchNormalization(synchronized=synchronized),
                       layers.Activation("relu"), layers.Flatten(),
                       layers.Dense(3, activation="softmax")])


def data(n: int, shape: tuple):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n,) + shape), rng.integers(0, 3, size=n)


def train(build, x, y, parallel: bool, batch: int, epochs: int, init=None, **fit_kw):
    """A model trained with or without the distribution, from the weights ``init``."""
    distribution.set_distribution(distribution.DataParallel() if parallel else None)
    utils.set_random_seed(3)
    model = build()
    if init is not None:
        model.set_weights(init)
    if parallel and distribution.process_index() == 1:  # process 0's weights must win
        model.set_weights([w + 1.0 for w in model.get_weights()])
    model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    utils.set_random_seed(4)  # the same shuffling order for the reference and process 0
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, **fit_kw)
    return model, history


def same_everywhere(arrays) -> None:
    everyone = runtime.communicator().allgather(arrays)
    for other in everyone[1:]:
        for a, b in zip(everyone[0], other):
            np.testing.assert_array_equal(a, b)


def check_equal_to_one_process(build, n: int, shape: tuple, batch: int, epochs: int) -> None:
    x, y = data(n, shape)
    utils.set_random_seed(3)
    init = build().get_weights()
    ref, ref_hist = train(build, x, y, False, batch, epochs, init)
    par, par_hist = train(build, x, y, True, batch, epochs, init)
    same_everywhere(par.get_weights())
    for a, b in zip(ref.get_weights(), par.get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(par_hist.history[key], ref_hist.history[key], atol=1e-8)
    np.testing.assert_allclose(par.evaluate(x, y, batch_size=batch, verbose=0),
                               ref.evaluate(x, y, batch_size=batch, verbose=0), atol=1e-8)
    np.testing.assert_allclose(par.predict(x, batch_size=batch, verbose=0),
                               ref.predict(x, batch_size=batch, verbose=0), atol=1e-8)


def scenario_mlp():
    """The row-sharded step (the split of a leading Dense pair: mpi_split_worker.py)."""
    rest, split_pair.SMALL_REST = split_pair.SMALL_REST, -1
    check_equal_to_one_process(mlp, 160, (6,), 32, 4)  # 20 steps
    # there, the kernels' rows are split between the processes: each gathers the
    # layers' inputs and deltas of every process and updates its rows of the kernels and
    # momenta in shared memory; the rest goes through one exchange
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    # parts: bias (twice), the loss, the accuracy's sum and count, the sample count
    assert collectives(model) == ["GatherRows{2}", "PackedExchange{2, products=}"]
    rank = distribution.process_index()
    blocks = {var.name: var_rows.get_value(borrow=True).shape
              for var, var_rows, _ in model._train_fn._weights.entries}
    want = {}
    for layer in model.layers:
        n, m = layer.kernel.get_value().shape
        share = (n * (rank + 1) // 2 - n * rank // 2, m)
        want[layer.kernel.name] = want[f"sgd/{layer.kernel.name.replace('/', '_')}_momentum"] \
            = share
    assert blocks == want, (blocks, want)
    assert not model._train_fn.global_batch
    # kernels too narrow to gather: their gradients are summed, the products written by
    # BLAS straight into the shared exchange buffer
    dist_graph.GATHER_MIN_WIDTH = 64
    check_equal_to_one_process(mlp, 64, (6,), 32, 2)
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    dist_graph.GATHER_MIN_WIDTH = 0
    # parts: kernel, bias (twice), the loss, the accuracy's sum and count, the sample count
    assert collectives(model) == ["PackedExchange{2, products=p.p.....}"], collectives(model)
    split_pair.SMALL_REST = rest
    check_multi_output()


def collectives(model) -> list[str]:
    return sorted(str(node.op) for node in model._train_fn.maker.fgraph.toposort()
                  if "Exchange" in str(node.op) or "Gather" in str(node.op))


def check_multi_output():
    """Two outputs, loss weights, sample weights, a weight penalty, Adam with clipnorm
    (applied to the summed gradient) and validation: the same as one process."""
    from layers_on_graph import Model

    def build():
        i = Input(shape=(6,))
        h = layers.Dense(8, activation="relu", kernel_regularizer="l2")(i)
        return Model(i, [layers.Dense(3, activation="softmax", name="a")(h),
                         layers.Dense(1, name="b")(h)])

    rng = np.random.default_rng(0)
    x, ya, yb, sw = (rng.normal(size=(70, 6)), rng.integers(0, 3, 70), rng.normal(size=70),
                     rng.random(70))
    utils.set_random_seed(3)
    init = build().get_weights()
    results = []
    for parallel in (False, True):
        distribution.set_distribution(distribution.DataParallel() if parallel else None)
        model = build()
        model.set_weights(init)
        model.compile(optimizer=optimizers.Adam(0.01, clipnorm=1.0),
                      loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5],
                      metrics=[["accuracy"], ["mae"]])
        utils.set_random_seed(4)
        history = model.fit(x, [ya, yb], sample_weight=sw, batch_size=16, epochs=3, verbose=0,
                            validation_split=0.2)
        results.append((model.get_weights(), history.history))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)
    assert len(results[0][1]) == 10
    for key, values in results[0][1].items():
        np.testing.assert_allclose(results[1][1][key], values, atol=1e-8, err_msg=key)


def scenario_no_shared_memory():
    """Shared memory too small for the window (or processes on several machines): the
    gradients go through MPI_Allreduce, with the same results."""
    from backends.numpy import collective as kernels
    from layers_on_graph.distribution import graph

    for module in (graph, kernels):
        module.shared_memory_fits = lambda comm, nbytes: False
    check_equal_to_one_process(mlp, 97, (6,), 32, 2)  # a split pair's exchange: Allgather
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    assert model._train_fn.global_batch
    split_pair.SMALL_REST = -1  # the row-sharded step
    check_equal_to_one_process(mlp, 97, (6,), 32, 2)
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    ops = [str(node.op) for node in model._train_fn.maker.fgraph.toposort()]
    assert "PackedAllReduce{sum, products=p.p.....}" in ops


def scenario_no_room_for_weights():
    """Room in shared memory for the exchange but not for the weights' windows nor the
    gathered rows: every process computes the whole gradient from rows gathered through
    MPI_Allgather, with the same results."""
    import backends.numpy.collective  # noqa: F401 (the exchange's kernels keep the real test)
    from core.tensor import collective

    collective.shared_memory_fits = lambda comm, nbytes: False  # graph.py kept its own too
    check_equal_to_one_process(mlp, 97, (6,), 32, 2)
    model, _ = train(mlp, *data(32, (6,)), True, 32, 1)
    assert not isinstance(model._train_fn, sharded.ShardedStep)
    assert collectives(model) == ["GatherRows{2}", "PackedExchange{2, products=}"]


def scenario_uneven():
    for rest in (0.125, -1):  # the split pair (whole batches), then row-sharded (slices)
        split_pair.SMALL_REST = rest
        check_equal_to_one_process(mlp, 101, (6,), 32, 5)  # last batch 5: 3 + 2 samples
        with warnings.catch_warnings():  # an empty slice computes nothing that warns
            warnings.simplefilter("error", RuntimeWarning)
            check_equal_to_one_process(mlp, 97, (6,), 32, 2)  # last batch 1: one gets none
    check_equal_to_one_process(lambda: cnn(True), 97, (6, 6, 2), 32, 1)  # an empty conv batch


def scenario_lstm():
    check_equal_to_one_process(lstm, 160, (5, 4), 32, 4)
    model, _ = train(lstm, *data(32, (5, 4)), True, 32, 1)
    assert not getattr(model._train_fn, "global_batch", False)  # a scan: not split


def stateful_lstm():
    return Sequential([Input(batch_shape=(8, 5, 4)), layers.LSTM(6, stateful=True),
                       layers.Dense(3, activation="softmax")])


def scenario_stateful():
    """A stateful LSTM: each process keeps the states of its rows of the global batch, so
    weights, states and predictions are those of one process."""
    from layers_on_graph.distribution import host

    x, y = data(32, (5, 4))
    utils.set_random_seed(3)
    init = stateful_lstm().get_weights()
    ref, _ = train(stateful_lstm, x, y, False, 8, 4, init, shuffle=False)
    ref_states = [v.get_value() for v in ref.layers[0].states]
    ref_predicted = ref.predict(x, batch_size=8, verbose=0)  # (before the distribution is set)
    par, _ = train(stateful_lstm, x, y, True, 8, 4, init, shuffle=False)
    for a, b in zip(ref.get_weights(), par.get_weights()):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)
    mine = host.local_slice(0, 8)
    assert mine.stop - mine.start == 4
    for a, b in zip(ref_states, par.layers[0].states):
        np.testing.assert_allclose(b.get_value(), a[mine], rtol=0, atol=1e-8)
    np.testing.assert_allclose(par.predict(x, batch_size=8, verbose=0), ref_predicted,
                               atol=1e-8)
    given = [np.arange(48.0).reshape(8, 6), -np.arange(48.0).reshape(8, 6)]
    par.layers[0].reset_states(given)  # the global batch's states: this process keeps its rows
    for var, value in zip(par.layers[0].states, given):
        np.testing.assert_array_equal(var.get_value(), value[mine])


def scenario_cnn_sync_bn():
    check_equal_to_one_process(lambda: cnn(True), 160, (6, 6, 2), 32, 4)


def scenario_default_bn():
    """Each process normalizes its slice; moving statistics average by sample count."""
    x, y = data(40, (6, 6, 2))
    utils.set_random_seed(3)
    init = cnn(False).get_weights()
    model, _ = train(lambda: cnn(False), x, y, True, 40, 1, init, shuffle=False)
    same_everywhere(model.get_weights())
    bn = model.layers[1]
    conv = init[0], init[1]
    expected_mean = np.zeros(4)
    expected_var = np.zeros(4)
    for part in (x[:20], x[20:]):  # the two processes' slices
        z = _conv_same(part, *conv)
        expected_mean += 0.5 * z.mean(axis=(0, 1, 2))
        expected_var += 0.5 * z.var(axis=(0, 1, 2))
    m = bn.momentum
    np.testing.assert_allclose(bn.moving_mean.get_value(), (1 - m) * expected_mean, atol=1e-10)
    np.testing.assert_allclose(bn.moving_variance.get_value(), m + (1 - m) * expected_var,
                               atol=1e-10)
    # a last batch of one sample: process 1's empty slice adds nothing (and no NaN)
    model.fit(x[:41], y[:41], batch_size=40, epochs=1, verbose=0, shuffle=False)
    weights = model.get_weights()
    same_everywhere(weights)
    assert all(np.isfinite(w).all() for w in weights)


def scenario_array_metrics():
    """Metrics whose sums are arrays (AUC's thresholds, per-class F1) reduce as one process."""
    from layers_on_graph import metrics

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(97, 6)), (rng.random(97) > 0.5).astype("float64")

    def run(parallel: bool):
        distribution.set_distribution(distribution.DataParallel() if parallel else None)
        utils.set_random_seed(3)
        model = Sequential([Input(shape=(6,)), layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=optimizers.SGD(0.1), loss="binary_crossentropy",
                      metrics=["accuracy", metrics.AUC(num_thresholds=50),
                               metrics.Precision(thresholds=[0.3, 0.5]),
                               metrics.F1Score(average=None, threshold=0.5)])
        history = model.fit(x, y[:, None], batch_size=32, epochs=2, verbose=0, shuffle=False)
        return history.history, model.evaluate(x, y[:, None], batch_size=32, verbose=0)

    ref_hist, ref_eval = run(False)
    par_hist, par_eval = run(True)
    for key, values in ref_hist.items():
        np.testing.assert_allclose(par_hist[key], values, atol=1e-8, err_msg=key)
    for a, b in zip(ref_eval, par_eval):
        np.testing.assert_allclose(b, a, atol=1e-8)


def scenario_backup_tensorboard(folder: str):
    """TensorBoard logs from process 0 alone; BackupAndRestore resumes every process at the
    epoch process 0 backed up, from process 0's weights."""
    from layers_on_graph.callbacks import BackupAndRestore, TensorBoard

    x, y = data(64, (6,))
    distribution.set_distribution(distribution.DataParallel())
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    backup = os.path.join(folder, "backup")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[BackupAndRestore(backup, delete_checkpoint=False),
                         TensorBoard(os.path.join(folder, "logs"))])
    distribution.barrier()
    if distribution.process_index() == 1:  # a diverged process is brought back by the restore
        model.set_weights([w + 1.0 for w in model.get_weights()])
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                        callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    assert len(history.history["loss"]) == 1, history.history  # epochs 0 and 1 were done
    same_everywhere(model.get_weights())


def scenario_stream():
    """A PyDataset and a generator give each process its slice of every global batch."""
    x, y = data(150, (6,))

    class Batches(utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 30:(i + 1) * 30], y[i * 30:(i + 1) * 30]

    def run(parallel: bool):
        distribution.set_distribution(distribution.DataParallel() if parallel else None)
        utils.set_random_seed(3)
        model = mlp()
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(Batches(), epochs=2, verbose=0, shuffle=False)
        generator = ((x[i:i + 30], y[i:i + 30]) for i in range(0, 150, 30))
        scores = model.evaluate(generator, steps=5, verbose=0)
        return model, history.history, scores, model.predict(Batches(), verbose=0)

    ref, ref_hist, ref_scores, ref_pred = run(False)
    for rest in (0.125, -1):  # the split pair (whole batches), then row-sharded (slices)
        split_pair.SMALL_REST = rest
        par, par_hist, par_scores, par_pred = run(True)
        assert par._train_fn.global_batch == (rest > 0)
        same_everywhere(par.get_weights())
        for a, b in zip(ref.get_weights(), par.get_weights()):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-8)
        for key, values in ref_hist.items():
            np.testing.assert_allclose(par_hist[key], values, atol=1e-8, err_msg=key)
        np.testing.assert_allclose(par_scores, ref_scores, atol=1e-8)
        np.testing.assert_allclose(par_pred, ref_pred, atol=1e-8)


def _conv_same(x, kernel, bias):
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for i in range(3):
        for j in range(3):
            out += padded[:, i:i + x.shape[1], j:j + x.shape[2], :] @ kernel[i, j]
    return out + bias


def scenario_save(folder: str):
    """Process 0 alone writes checkpoints, logs and saved models; all load them back; a
    second fit starts every process from process 0's weights and optimizer state."""
    from layers_on_graph.saving import model_io

    if distribution.process_index() != 0:
        def refuse(*args, **kwargs):
            raise AssertionError("a process other than 0 wrote a file")
        model_io.atomic_path = refuse
    x, y = data(64, (6,))
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    distribution.set_distribution(distribution.DataParallel())  # after compile: fit rebuilds
    ckpt = os.path.join(folder, "ckpt.weights.h5")
    log = CSVLogger(os.path.join(folder, "log.csv"))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[ModelCheckpoint(ckpt, save_weights_only=True, verbose=1), log])
    assert (log.keys is None) == (distribution.process_index() != 0)  # rows from process 0
    path = os.path.join(folder, "model.keras")
    model.save(path)
    model.save_weights(os.path.join(folder, "final.weights.h5"))
    distribution.barrier()
    from layers_on_graph.saving import load_model

    loaded = load_model(path)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = mlp()
    other.load_weights(ckpt)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # resume: process 1 starts from other weights; fit starts from process 0's
    same_everywhere(model.get_weights())
    if distribution.process_index() == 1:
        model.set_weights([w * 0 for w in model.get_weights()])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    same_everywhere(model.get_weights() + [v.get_value() for v in model.optimizer.variables])


def scenario_debug_nan():
    """A NaN loss under debug_nan: every process raises, keeping the weights of the last
    good step (the kernels whose rows the processes share too), and says where the first
    NaN appeared, from a re-run of each process's slice alone (no collective, even a
    synchronized BatchNormalization's, for a process whose slice holds no NaN to wait in)."""
    from layers_on_graph.callbacks import LambdaCallback

    distribution.set_distribution(distribution.DataParallel())
    for build, shape in ((mlp, (6,)), (lambda: cnn(True), (6, 6, 2))):
        x, y = data(96, shape)
        x[70] = np.nan  # in the third batch of 32 (no shuffling), process 0's slice
        snapshots = []
        model = build()
        keep = LambdaCallback(on_train_batch_end=lambda step, logs: snapshots.append(
            [w.copy() for w in model.get_weights()]))
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        try:
            model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False,
                      callbacks=[keep], debug_nan=True)
        except FloatingPointError as err:
            message = str(err)
        else:
            raise AssertionError("no FloatingPointError")
        assert "(process 0)" in message and "in input x0" in message, message
        assert len(snapshots) == 2
        for got, want in zip(model.get_weights(), snapshots[-1]):
            np.testing.assert_array_equal(got, want)
        same_everywhere(model.get_weights())


def scenario_gather_rows():
    """GatherRows in shared memory: each process's rows in process order, each block
    keeping room for the most rows its process gave (the rest zero), windows growing when
    one gives more; through MPI_Allgather when the windows do not fit in shared memory."""
    import core.tensor as T
    from core import function
    from core.tensor import collective
    from core.tensor.collective import gather_rows

    distribution.initialize()
    rank = distribution.process_index()
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = function([a, b], gather_rows([a, b], 2))
    rooms = [[0, 0], [0, 0]]  # per turn (calls alternate between two sets of windows)
    for call, counts in enumerate([(3, 2), (3, 3), (1, 0), (5, 4), (2, 2), (1, 3)]):
        x = np.arange(counts[rank] * 4.0).reshape(-1, 4) + 100 * rank + 1
        got_a, got_b = f(x, -x[:, :2])
        room = rooms[call % 2]
        room[:] = [max(r, c) for r, c in zip(room, counts)]
        want = np.zeros((sum(room), 4))
        for q in (0, 1):
            want[sum(room[:q]):sum(room[:q]) + counts[q]] = (
                np.arange(counts[q] * 4.0).reshape(-1, 4) + 100 * q + 1)
        np.testing.assert_array_equal(got_a, want, err_msg=str(counts))
        np.testing.assert_array_equal(got_b, -want[:, :2])
    real = collective.shared_memory_fits
    collective.shared_memory_fits = lambda comm, nbytes: False
    try:
        g = function([a, b], gather_rows([a, b], 2))
        x = np.full((2 + rank, 4), rank + 1.0)
        got_a, _ = g(x, x[:, :2])
    finally:
        collective.shared_memory_fits = real
    want = np.zeros((6, 4))  # each block padded to the largest, 3 rows
    want[:2], want[3:] = 1.0, 2.0
    np.testing.assert_array_equal(got_a, want)


def scenario_windows_freed():
    """Shared windows are freed once every process has dropped its arrays over them: a
    window one process still uses stays; models compiled and fitted one after another (a
    hyperparameter search) keep only the last step's windows, not every step's."""
    from backends.numpy import shared_windows

    distribution.set_distribution(distribution.DataParallel())
    comm, rank = runtime.communicator(), distribution.process_index()
    open_at_start = shared_windows.open_windows(comm)
    _, kept = shared_windows.allocate(comm, 4096)
    kept[:] = rank
    _, dropped = shared_windows.allocate(comm, 4096)
    if rank == 0:
        del kept  # process 1 keeps its array over the first window: it stays
    del dropped
    assert shared_windows.collect(comm) == 1
    assert shared_windows.open_windows(comm) == open_at_start + 1
    kept = None
    assert shared_windows.collect(comm) == 1
    assert shared_windows.open_windows(comm) == open_at_start

    x, y = data(64, (6,))
    counts, free = [], []
    for _ in range(4):  # a new model each time, the last one dropped in reference cycles
        model = mlp()
        model.compile(optimizer=optimizers.SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        assert sharded.ShardedStep is type(model._train_fn)
        counts.append(shared_windows.open_windows(comm))
        free.append(os.statvfs("/dev/shm").f_bavail)
    assert counts[1:] == counts[:1] * 3, counts
    assert free[-1] >= free[1], free


def scenario_core_loop():
    """The documented pattern of core.tensor.collective in a loop written with core.function."""
    import core.tensor as T
    from core import function, shared
    from core.tensor.collective import allreduce

    rng = np.random.default_rng(0)
    x_all, y_all = rng.normal(size=(45, 3)), rng.normal(size=45)
    w0 = rng.normal(size=3)

    def step_fn(parallel: bool):
        w = shared(w0.copy())
        x, y = T.dmatrix("x"), T.dvector("y")
        loss = T.mean(T.sqr(T.dot(x, w) - y))
        if parallel:
            n = T.cast(x.shape[0], "float64")
            flat = allreduce(T.concatenate([T.grad(n * loss, w), n.reshape((1,))]))
            grad = flat[:3] / flat[3]
        else:
            grad = T.grad(loss, w)
        return w, function([x, y], loss, updates=[(w, w - 0.1 * grad)])

    w_ref, ref = step_fn(False)
    w_par, par = step_fn(True)
    rank, size = distribution.process_index(), distribution.num_processes()
    for lo in range(0, 45, 10):
        hi = min(lo + 10, 45)
        ref(x_all[lo:hi], y_all[lo:hi])
        mine = slice(lo + (hi - lo) * rank // size, lo + (hi - lo) * (rank + 1) // size)
        par(x_all[mine], y_all[mine])
    np.testing.assert_allclose(w_par.get_value(), w_ref.get_value(), rtol=0, atol=1e-12)


def main(argv, scenarios: dict | None = None) -> None:
    """Run scenario ``argv[1]`` of ``scenarios`` (this module's by default)."""
    name = argv[1]
    distribution.initialize(num_processes=2)
    assert distribution.list_devices() == ["cpu:0", "cpu:1"]
    start = time.time()
    (globals() if scenarios is None else scenarios)[f"scenario_{name}"](*argv[2:])
    if distribution.process_index() == 0:
        print(f"OK {name} {time.time() - start:.1f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv)
