"""pydotprint writes the DOT text (or a picture through Graphviz) of graphs before and after."""
import shutil

import pytest

import core.tensor as T
from core import function, pp
from core.printing import pydotprint


def test_dot_text_before_and_after(tmp_path):
    a = T.dvector("a")
    b = a + a ** 10
    f = function([a], b)
    before = pydotprint(b, str(tmp_path / "before.dot"))
    after = pydotprint(f, str(tmp_path / "after.dot"))
    text_before, text_after = open(before).read(), open(after).read()
    assert text_before.startswith("digraph") and text_after.rstrip().endswith("}")
    assert text_before.count("shape=box") == 2 and text_after.count("shape=box") == 1
    assert "Composite{(i0 + (i0 ** 10.0))}" in text_after
    assert pp(f.maker.fgraph.outputs[0]) == "(a + (a ** 10.0))"


def test_picture_or_dot_fallback(tmp_path):
    x = T.dmatrix("x")
    f = function([x], T.exp(x).sum())
    target = str(tmp_path / "g.svg")
    if shutil.which("dot"):
        assert pydotprint(f, target) == target
        assert "<svg" in open(target).read()
    else:
        with pytest.warns(UserWarning, match="not installed"):
            path = pydotprint(f, target)
        assert path.endswith("g.dot") and "digraph" in open(path).read()


def test_rejects_non_graphs(tmp_path):
    with pytest.raises(TypeError, match="pydotprint"):
        pydotprint(42, str(tmp_path / "x.dot"))


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot not installed")


def _text(obj, tmp_path, **kw):
    return open(pydotprint(obj, str(tmp_path / "g.dot"), print_output_file=False, **kw)).read()


def _lines(text, marker):
    return [line for line in text.splitlines() if marker in line]


def test_theano_keywords_change_the_drawing(tmp_path):
    a = T.dvector("a")
    mid = a ** 10
    b = a + mid
    compact, full = _text(b, tmp_path), _text(b, tmp_path, compact=False)
    # a, the constant 10 and the output; the unnamed a ** 10 only without compact
    assert len(_lines(compact, "shape=ellipse")) == 3 and len(_lines(full, "shape=ellipse")) == 4
    assert "float64(None,)" in compact  # the edge that stands for a ** 10 names its type
    mid.name = "mid"
    assert len(_lines(_text(b, tmp_path), "shape=ellipse")) == 4  # named: always drawn
    ids = _text(b, tmp_path, with_ids=True)
    assert "id=0" in _lines(ids, "shape=box")[0] and "id=0" in _lines(ids, "shape=ellipse")[0]
    assert '"name=a float64(None,)"' in compact
    assert '"a"' in _text(b, tmp_path, var_with_name_simple=True)
    low = _text(b, tmp_path, high_contrast=False)
    assert "style=filled" in compact and "style=filled" not in low and 'color="green"' in low
    assert '"Elemw...' in _text(b, tmp_path, max_label_size=8)
    assert 'fillcolor="red"' in _text(b, tmp_path, colorCodes={"Elemwise": "red"})


def test_pydotprint_default_outfile_format_and_message(tmp_path, capsys):
    from core.config import config

    x = T.dmatrix("x")
    with config.change_flags(compiledir=str(tmp_path)):
        path = pydotprint(x * 2, format="dot")
    assert path == str(tmp_path / "pydotprint.cpu.dot") and "digraph" in open(path).read()
    assert "The output file is available at" in capsys.readouterr().out
    other = pydotprint(x * 2, str(tmp_path / "named.png"), format="dot", print_output_file=False)
    assert open(other).read().startswith("digraph")  # the format wins over the extension
    assert capsys.readouterr().out == ""


@needs_dot
def test_pydotprint_format_keyword_and_image_bytes(tmp_path):
    x = T.dvector("x")
    f = function([x], x * 2)
    path = pydotprint(f, str(tmp_path / "graph.out"), format="svg", print_output_file=False)
    assert "<svg" in open(path).read()
    assert pydotprint(f, return_image=True).startswith(b"\x89PNG")


def test_unsupported_theano_keywords_say_so():
    with pytest.raises(NotImplementedError, match="scan_graphs"):
        pydotprint(T.dvector("x") * 2, scan_graphs=True)
