"""examples/lstm_text.py: the Embedding(mask_zero) + LSTM classifier learns its counting task."""
import os
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _main():
    return runpy.run_path(os.path.join(ROOT, "examples", "lstm_text.py"),
                          run_name="example")["main"]


def test_lstm_text_learns_quickly(capsys):
    accuracy = _main()(epochs=3, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 3/3" in out and "test accuracy" in out
    assert accuracy >= 0.8


@pytest.mark.slow
def test_lstm_text_reaches_095(capsys):
    assert _main()(verbose=0) >= 0.95
