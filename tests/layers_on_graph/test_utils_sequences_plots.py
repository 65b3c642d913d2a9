"""utils.pad_sequences against keras.utils.pad_sequences; utils.plot_model with and
without Graphviz."""
import shutil
import warnings

import numpy as np
import pytest

from layers_on_graph import Input, Model, Sequential, layers, utils
from layers_on_graph.utils import model_visualization

SEQS = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9], [10, 11]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"}, {"maxlen": 2, "truncating": "post"},
    {"maxlen": 7, "padding": "post", "truncating": "post", "value": -1},
    {"dtype": "float32", "value": 0.5}, {"maxlen": 1}, {"dtype": "int64", "maxlen": 4},
])
def test_pad_sequences_matches_keras(kwargs):
    keras = pytest.importorskip("keras")
    got = utils.pad_sequences(SEQS, **kwargs)
    want = keras.utils.pad_sequences(SEQS, **kwargs)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_pad_sequences_of_vectors_and_strings():
    keras = pytest.importorskip("keras")
    seqs = [np.ones((2, 3)), np.arange(12.0).reshape(4, 3)]
    for kw in ({"maxlen": 3, "dtype": "float32"}, {"padding": "post", "dtype": "float64"}):
        np.testing.assert_array_equal(utils.pad_sequences(seqs, **kw),
                                      keras.utils.pad_sequences(seqs, **kw))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(utils.pad_sequences(words, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        utils.pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        utils.pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="iterables"):
        utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="string"):
        utils.pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="shape"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((2, 4))])


def _functional():
    inp = Input(shape=(6,), name="features")
    a = layers.Dense(4, activation="relu", name="left")(inp)
    b = layers.Dense(4, name="right")(inp)
    out = layers.Dense(1, name="head")(layers.Add(name="sum")([a, b]))
    return Model(inp, out, name="two_branches")


def test_dot_text_has_every_layer_and_edge():
    text = model_visualization.model_to_dot_text(_functional(), show_shapes=True,
                                                 show_layer_names=True,
                                                 show_layer_activations=True)
    for name in ("features (InputLayer)", "left (Dense)", "right (Dense)", "sum (Add)",
                 "head (Dense)", "activation: relu", "output: (None, 4)", "output: (None, 1)"):
        assert name in text, name
    assert text.count("->") == 5  # input to both branches, both to the sum, sum to the head
    seq = Sequential([Input(shape=(3,)), layers.Dense(2), layers.Dense(1)])
    assert model_visualization.model_to_dot_text(seq).count("->") == 2


def test_plot_model_without_graphviz_writes_dot_text_once(tmp_path, monkeypatch):
    monkeypatch.setattr(model_visualization.shutil, "which", lambda name: None)
    monkeypatch.setattr(model_visualization, "_warned", False)
    model = _functional()
    with pytest.warns(UserWarning, match="DOT text"):
        path = utils.plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True)
    assert path.endswith("model.dot")
    assert open(path).read().startswith('digraph "two_branches"')
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once: the second call is silent
        utils.plot_model(model, to_file=str(tmp_path / "again.svg"))
    assert (tmp_path / "again.dot").exists()


def test_plot_model_renders_with_graphviz(tmp_path):
    pytest.importorskip("pydot")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    path = utils.plot_model(_functional(), to_file=str(tmp_path / "model.svg"),
                            show_shapes=True, show_layer_names=True)
    svg = open(path).read()
    assert path.endswith(".svg") and "<svg" in svg and "left (Dense)" in svg
    png = utils.plot_model(_functional(), to_file=str(tmp_path / "model.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
