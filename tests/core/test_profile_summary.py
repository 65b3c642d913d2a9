"""f.profile.summary() prints Theano's layout (Function summary, Class, Ops, Apply) to
``file`` (stderr by default)."""
import io

import numpy as np

import core.tensor as T
from core import function


def _profiled():
    x = T.dmatrix("x")
    f = function([x], T.nnet.softmax(T.exp(x) * 2).sum() + T.dot(x, x).sum(), profile=True,
                 name="my_fn")
    for _ in range(4):
        f(np.ones((30, 30)))
    return f


def test_summary_prints_theano_sections_to_the_file():
    f = _profiled()
    out = io.StringIO()
    assert f.profile.summary(file=out) is None
    text = out.getvalue()
    heads = ["Function profiling", "Class\n---", "Ops\n---", "Apply\n------"]
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert "Message: my_fn" in text and "Time in 4 calls to Function.__call__" in text
    assert "Number of Apply nodes: " + str(len(f.profile.nodes)) in text
    assert "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> <Class name>" in text
    assert "core.tensor.nnet.Softmax" in text and "Softmax{1}" in text
    apply_rows = text[text.index("Apply\n------"):].splitlines()[3:-1]
    assert len(apply_rows) == len(f.profile.nodes)
    assert all(" 4 " in row for row in apply_rows)  # every node ran 4 times
    shares = [float(r.split("%")[0]) for r in apply_rows]
    assert shares == sorted(shares, reverse=True)  # slowest first
    assert text.rstrip().endswith("of the runtime)")
    assert str(f.profile).strip() == text.strip()


def test_summary_defaults_to_stderr_and_limits_rows(capsys):
    f = _profiled()
    f.profile.summary(n_ops_to_print=1, n_apply_to_print=1)
    captured = capsys.readouterr()
    assert captured.out == "" and "Function profiling" in captured.err
    n = len(f.profile.nodes)
    assert f"remaining {n - 1} Apply instances account for" in captured.err
