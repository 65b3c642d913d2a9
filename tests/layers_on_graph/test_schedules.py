"""``optimizers.schedules`` against keras.optimizers.schedules, and schedules in training."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, optimizers
from layers_on_graph.optimizers import schedules

keras = pytest.importorskip("keras")

CASES = [
    ("ExponentialDecay", (0.1, 10, 0.5), {}),
    ("ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([5, 12], [1.0, 0.5, 0.1]), {}),
    ("PolynomialDecay", (0.1, 20), {}),
    ("PolynomialDecay", (0.1, 7), {"cycle": True, "power": 2.0, "end_learning_rate": 0.01}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {"staircase": True}),
    ("CosineDecay", (0.1, 20), {"alpha": 0.1}),
    ("CosineDecay", (0.0, 20), {"warmup_target": 0.1, "warmup_steps": 5}),
    ("CosineDecayRestarts", (0.1, 5), {}),
    ("CosineDecayRestarts", (0.1, 5), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.05}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES)
def test_schedule_values_match_keras(name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    got = [float(ours(step)) for step in range(45)]
    expected = [float(theirs(step)) for step in range(45)]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    config = ours.get_config()
    assert config == {k: v for k, v in theirs.get_config().items() if k in config}
    again = type(ours).from_config(config)
    assert float(again(17)) == pytest.approx(float(ours(17)))


def _fit_both(make_ours, make_theirs, epochs=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    model = lg.Sequential([lg.Input(shape=(4,)), layers.Dense(8, activation="tanh"),
                           layers.Dense(2)])
    kmodel = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="tanh"),
                               keras.layers.Dense(2)])
    kmodel.set_weights(model.get_weights())
    model.compile(optimizer=make_ours(), loss="mse")
    kmodel.compile(optimizer=make_theirs(), loss="mse")
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    kmodel.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    return model, kmodel


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_training_with_a_schedule_matches_keras(opt):
    def make(lib):
        sched = lib.optimizers.schedules.CosineDecay(0.0, 8, warmup_target=0.05,
                                                     warmup_steps=4)
        return getattr(lib.optimizers, opt)(learning_rate=sched)

    model, kmodel = _fit_both(lambda: make(lg), lambda: make(keras))
    assert int(model.optimizer.iterations) == 12
    assert float(model.optimizer.learning_rate) == pytest.approx(
        float(kmodel.optimizer.learning_rate), rel=1e-5)


def test_schedule_runs_inside_one_compiled_step():
    model = lg.Sequential([lg.Input(shape=(2,)), layers.Dense(1)])
    sched = schedules.PiecewiseConstantDecay([1], [0.5, 0.0])  # steps 0-1: 0.5, then 0
    model.compile(optimizer=optimizers.SGD(learning_rate=sched), loss="mse")
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    fn = model._train_fn
    before = model.get_weights()
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)  # steps 2, 3: rate 0
    assert model._train_fn is fn
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="schedule"):
        model.optimizer.learning_rate = 0.1


def test_callable_learning_rate_of_the_step():
    model = lg.Sequential([lg.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=lambda step: 0.1 / (1.0 + step)),
                  loss="mse")
    model.fit(np.ones((4, 2)), np.zeros((4, 1)), batch_size=2, epochs=1, verbose=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 / 3)


def test_optimizer_config_round_trips_its_schedule():
    opt = optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.01, 100, 0.9))
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.Adam.from_config(config)
    assert isinstance(again._schedule, schedules.ExponentialDecay)
    assert again._schedule.get_config() == opt._schedule.get_config()
    kopt = keras.optimizers.Adam.from_config(config)
    assert float(kopt.learning_rate) == pytest.approx(0.01)


def test_saved_schedule_optimizer_resumes_here_and_in_keras(tmp_path):
    rng = np.random.default_rng(5)
    x, y = rng.random((16, 4)).astype("float32"), rng.random((16, 2)).astype("float32")
    model = lg.Sequential([lg.Input(shape=(4,)), layers.Dense(2)])
    model.compile(optimizers.Adam(schedules.ExponentialDecay(0.01, 5, 0.5)), "mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "sched.keras")
    model.save(path)
    ours = lg.saving.load_model(path)
    theirs = keras.saving.load_model(path)
    assert isinstance(ours.optimizer._schedule, schedules.ExponentialDecay)
    assert int(ours.optimizer.iterations) == int(theirs.optimizer.iterations) == 2
    assert float(ours.optimizer.learning_rate) == pytest.approx(
        float(theirs.optimizer.learning_rate), rel=1e-6)
    ours.fit(x, y, epochs=1, shuffle=False, verbose=0)
    theirs.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    kpath = str(tmp_path / "theirs.keras")
    theirs.save(kpath)
    assert int(lg.saving.load_model(kpath).optimizer.iterations) == 3
