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
