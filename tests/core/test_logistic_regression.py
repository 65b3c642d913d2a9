"""The seed's logistic regression (examples/theano_basics.py) learns its training data.

Its saturated sigmoid (logits of size ~30) only trains once the optimizer's
stabilization rewrites turn log(1 - sigmoid) and friends into softplus forms.
"""
import importlib.util
import os

import numpy as np
import pytest

from core import config

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "theano_basics.py")


def _example():
    spec = importlib.util.spec_from_file_location("theano_basics", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_logistic_regression_reaches_99_percent(backend, monkeypatch):
    monkeypatch.setattr(config, "backend", backend)
    data, train, predict, w, b = _example().build_logistic_regression()
    for _ in range(500):
        _, xent = train(data[0], data[1])
    assert np.all(np.isfinite(xent)) and np.all(np.isfinite(w.get_value()))
    accuracy = float(np.mean(predict(data[0]) == data[1]))
    assert accuracy >= 0.99, accuracy


def test_basics_print_the_seed_results(capsys, monkeypatch):
    monkeypatch.setattr(config, "backend", "numpy")
    _example().basics()
    out = capsys.readouterr().out
    assert "f(2, 3) = array(5.)" in out
    assert "accumulator state after adding 1 and 300: 301" in out
    assert "d(x**2)/dx at 4 = 8.0" in out
