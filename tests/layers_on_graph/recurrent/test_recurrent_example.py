"""examples/lstm_text.py: the Embedding(mask_zero) + LSTM classifier learns its counting task."""
import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _one_blas_thread():
    """The example's products are tiny: one BLAS thread is fastest (the script sets it before
    numpy loads; here numpy is loaded already)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")  # comes with scikit-learn
    return threadpoolctl.threadpool_limits(1)


def _main():
    return runpy.run_path(os.path.join(ROOT, "examples", "lstm_text.py"),
                          run_name="example")["main"]


def test_lstm_text_reaches_095_and_prints_progress(capsys):
    with _one_blas_thread():
        accuracy = _main()(verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 12/12" in out and "val_accuracy" in out and "test accuracy" in out
    assert accuracy >= 0.95
