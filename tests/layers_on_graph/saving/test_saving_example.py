"""examples/load_keras_weights.py runs and matches Keras's predictions."""
import importlib.util
import os

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples",
                       "load_keras_weights.py")


def test_load_keras_weights_example(capsys):
    spec = importlib.util.spec_from_file_location("load_keras_weights", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() < 1e-5
    out = capsys.readouterr().out
    assert out.count("max |ours - keras|") == 4 and "Total params: 317" in out
