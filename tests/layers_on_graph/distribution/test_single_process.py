"""One process: the distribution API answers as Keras's, and fit runs exactly as without it."""
from __future__ import annotations

import numpy as np
import pytest

from layers_on_graph import Input, Sequential, distribution, layers, optimizers, utils
from layers_on_graph.distribution import host


@pytest.fixture(autouse=True)
def no_distribution():
    yield
    distribution.set_distribution(None)


def test_one_process_api():
    distribution.initialize()
    distribution.initialize(num_processes=1, process_id=0)
    with pytest.raises(ValueError, match="num_processes=4"):
        distribution.initialize(num_processes=4)
    assert distribution.process_index() == 0 and distribution.num_processes() == 1
    assert distribution.list_devices() == ["cpu:0"]
    assert distribution.distribution() is None
    dp = distribution.DataParallel()
    distribution.set_distribution(dp)
    assert distribution.distribution() is dp and not distribution.active()
    distribution.barrier()


def test_bad_arguments():
    with pytest.raises(ValueError, match="MPI processes"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(TypeError, match="DataParallel"):
        distribution.set_distribution("data")


def _trained(parallel: bool):
    distribution.set_distribution(distribution.DataParallel() if parallel else None)
    utils.set_random_seed(0)
    model = Sequential([Input(shape=(4,)), layers.Dense(5, activation="relu"),
                        layers.BatchNormalization(synchronized=True), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(50, 4)), rng.normal(size=50), batch_size=16, epochs=2, verbose=0)
    return model.get_weights()


def test_fit_is_unchanged_on_one_process():
    for a, b in zip(_trained(False), _trained(True)):
        np.testing.assert_array_equal(a, b)


class Comm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


@pytest.mark.parametrize("lo,hi,size", [(0, 32, 2), (96, 101, 2), (96, 97, 2), (0, 10, 3),
                                        (3, 4, 4)])
def test_local_slices_split_the_batch(monkeypatch, lo, hi, size):
    rows = []
    for rank in range(size):
        monkeypatch.setattr(host, "_comm", lambda: Comm(rank, size))
        part = host.local_slice(lo, hi)
        rows.extend(range(part.start, part.stop))
        assert part.stop - part.start in ((hi - lo) // size, -(-(hi - lo) // size))
    assert rows == list(range(lo, hi))


def test_file_writers_run_on_process_zero_only(monkeypatch):
    from layers_on_graph.callbacks import CSVLogger, EarlyStopping

    cbs = [CSVLogger("log.csv"), EarlyStopping()]
    monkeypatch.setattr(host, "_comm", lambda: Comm(1, 2))
    monkeypatch.setattr(host.runtime, "process_index", lambda: 1)
    assert host.local_callbacks(cbs) == cbs[1:] and host.local_verbose(1) == 0
    monkeypatch.setattr(host.runtime, "process_index", lambda: 0)
    assert host.local_callbacks(cbs) == cbs and host.local_verbose(1) == 1


def _collectives(fn) -> list[str]:
    """The collective ops of ``fn``'s graph, by class name."""
    return [type(node.op).__name__ for node in fn.maker.fgraph.toposort()
            if "AllReduce" in type(node.op).__name__]


def test_data_parallel_graph_has_one_collective_per_step(monkeypatch):
    """The graph fit compiles for several processes, built here on one: one packed allreduce
    in the train and test steps (plus one per synchronized BatchNormalization and its
    gradient), and, the collectives being identities alone, the same training."""
    from layers_on_graph.distribution import data_parallel

    def trained(parallel: bool, synchronized: bool):
        monkeypatch.setattr(distribution, "active", lambda: parallel)
        monkeypatch.setattr(data_parallel, "active", lambda: parallel)
        utils.set_random_seed(0)
        model = Sequential([Input(shape=(4,)), layers.Dense(5),
                            layers.BatchNormalization(synchronized=synchronized),
                            layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model

    for synchronized in (False, True):
        plain, parallel = trained(False, synchronized), trained(True, synchronized)
        assert _collectives(plain._train_fn) == []
        # the train step's weight gradients are computed straight into the packed buffer
        expected = ["PackedProductsAllReduce"] + ["AllReduce"] * (2 * synchronized)
        assert sorted(_collectives(parallel._train_fn)) == sorted(expected)
        assert _collectives(parallel._test_fn) == ["PackedAllReduce"]
        for a, b in zip(plain.get_weights(), parallel.get_weights()):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_gather_rows_alone_copies_its_inputs():
    import core.tensor as T
    from core import function
    from core.tensor.collective import gather_rows

    a, b = T.dmatrix("a"), T.fmatrix("b")
    outs = gather_rows([a, b], 1)
    assert [o.type.shape for o in outs] == [(None, None), (None, None)]
    f = function([a, b], outs)
    x, y = np.arange(6.0).reshape(3, 2), np.ones((0, 4), "float32")
    got_x, got_y = f(x, y)
    np.testing.assert_array_equal(got_x, x)
    assert got_y.shape == (0, 4) and got_y.dtype == np.float32
    with pytest.raises(TypeError, match="GatherRows: expected matrices"):
        gather_rows([T.dvector("v")], 1)
    np.testing.assert_array_equal(function([a], gather_rows([a], 1)[0])(x), x)
    with pytest.raises(RuntimeError, match="built for 2 processes, run by 1"):
        function([a], gather_rows([a], 2)[0])(x)


@pytest.mark.parametrize("optimizer, row_wise", [
    (lambda: optimizers.SGD(0.1, momentum=0.9), True),
    (lambda: optimizers.Adam(0.01, weight_decay=0.1), True),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), True),
    (lambda: optimizers.Adam(0.01, clipnorm=1.0), False),  # each gradient's norm
    (lambda: optimizers.SGD(0.1, global_clipnorm=1.0), False),  # every gradient's norm
])
def test_row_wise_updates_are_those_elementwise_in_the_gradient(optimizer, row_wise):
    """Data parallel gathers a kernel's rows only when the optimizer can update a block of
    its rows alone."""
    from layers_on_graph.distribution import sharded

    model = Sequential([Input(shape=(4,)), layers.Dense(5), layers.Dense(3)])
    params = model.trainable_weights
    opt = optimizer()
    found = sharded.row_wise(opt, params)
    assert set(found) == ({id(p) for p in params} if row_wise else set())
    slots = {id(v) for v in opt.variables}
    for state in found.values():  # the weight, then its slots (the optimizer's, its shape)
        weight, *its_slots = state
        assert its_slots and all(id(v) in slots and v.type.shape == weight.type.shape
                                 for v in its_slots)
