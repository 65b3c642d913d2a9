"""The examples run and reach their accuracy on the fixed digits split."""
import os
import re
import runpy
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _one_blas_thread():
    """Tiny matrices train fastest on one BLAS thread (the examples set it before numpy)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")  # comes with scikit-learn
    return threadpoolctl.threadpool_limits(1)


def _load(name):
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        return runpy.run_path(os.path.join(ROOT, "examples", name), run_name="example")
    finally:
        sys.path.pop(0)


def test_mlp_digits_reaches_096(capsys):
    with _one_blas_thread():
        assert _load("mlp_digits.py")["main"](verbose=0) >= 0.96


def test_custom_layer_example(capsys):
    assert _load("custom_layer.py")["main"](epochs=20) >= 0.9


def test_cnn_digits_reaches_097(tmp_path, capsys):
    path = str(tmp_path / "cnn.weights.h5")
    with _one_blas_thread():
        assert _load("cnn_digits.py")["main"](verbose=0, weights_path=path) >= 0.97
    assert os.path.exists(path)


def test_debugging_example(capsys):
    result = _load("debugging.py")["main"]()
    assert "NaN (1 of 2 values) in output 0 of Elemwise{log}" in result["guard"]
    assert "scaled = T.log(x) * 2" in result["guard"]
    hidden = next(v for k, v in result["intermediates"].items() if k.name == "hidden")
    assert hidden.shape == (1, 2)
    assert [o.shape for o in result["layer_outputs"]] == [(2, 3), (2, 3), (2, 2)]
    assert "the first NaN is in layer 'root' (Lambda)" in result["report"]
    assert "weights still finite: True" in capsys.readouterr().out


def _printed_accuracy(out: str) -> float:
    return float(re.search(r"test accuracy ([0-9.]+)", out).group(1))


def test_transformer_text_reaches_090_and_logs(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    with _one_blas_thread():
        accuracy = _load("transformer_text.py")["main"](verbose=0, log_dir=str(tmp_path))
    out = capsys.readouterr().out
    assert _printed_accuracy(out) == pytest.approx(accuracy, abs=1e-4)
    assert accuracy > 0.9  # chance is 0.5
    assert any(name.startswith("events.") for name in os.listdir(tmp_path / "train"))
    assert any(name.startswith("events.") for name in os.listdir(tmp_path / "validation"))


def test_transformer_text_goes_on_without_tensorboardx(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails as if missing
    with _one_blas_thread():
        accuracy = _load("transformer_text.py")["main"](epochs=1, verbose=0,
                                                        log_dir=str(tmp_path))
    out = capsys.readouterr().out
    assert "no TensorBoard logs" in out and "tensorboardX package is needed" in out
    assert _printed_accuracy(out) == pytest.approx(accuracy, abs=1e-4)
    assert not os.path.exists(tmp_path / "train")
