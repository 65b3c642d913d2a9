"""NanGuardMode: the first node that makes NaN, inf or a huge value raises, naming the op,
its inputs' shapes and ranges and the user's line; clean values run as without it."""
import os

import numpy as np
import pytest

import core
import core.tensor as T
from core import NanGuardMode, function, shared
from core.compile.nanguard import NanGuardError
from core.config import config
from core.graph.trace import scope

HERE = os.path.basename(__file__)
GUARD = NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True)


@pytest.fixture(params=["numpy", "c"])
def any_backend(request):
    if request.param == "c":
        from backends.c import compiler

        if compiler.compiler() is None:
            pytest.skip("no C compiler")
    with config.change_flags(backend=request.param, c_lazy=False):
        yield request.param


def test_theano_import_paths():
    from core.compile.nanguardmode import NanGuardMode as theano_path

    assert theano_path is NanGuardMode is core.compile.NanGuardMode
    assert issubclass(NanGuardError, FloatingPointError)


def test_the_first_nan_names_op_input_range_and_user_line(any_backend):
    x = T.dvector("x")
    logged = T.log(x)  # the line the error must point at
    y = (logged * 2 + 1).sum()
    f = function([x], y, mode=GUARD)
    assert f(np.array([1.0, 2.0])) == pytest.approx(2 * np.log(2) + 2)
    with pytest.raises(NanGuardError) as info:
        f(np.array([-1.0, 2.0, 3.0]))
    text = str(info.value)
    assert "NaN (1 of 3 values)" in text and "log" in text.lower()
    assert "shape (3,) float64 range [-1, 3]" in text
    assert HERE in text and "logged = T.log(x)" in text
    assert text.count("The node was created at") == 1  # not described twice
    assert any("log" in str(o).lower() for o in [info.value.node.op])


def test_inf_and_huge_values_and_the_switches(any_backend):
    x = T.dvector("x")
    e = T.exp(x)
    big = x * 1e11
    with pytest.raises(NanGuardError, match=r"inf \(1 of 2 values\)"):
        function([x], e, mode=GUARD)(np.array([0.0, 1000.0]))
    assert np.isinf(function([x], e, mode=NanGuardMode(inf_is_error=False))(
        np.array([1000.0]))).all()
    with pytest.raises(NanGuardError, match="a huge value"):
        function([x], big, mode=GUARD)(np.array([1.0]))
    assert function([x], big, mode=NanGuardMode(big_is_error=False))(np.array([1.0]))[0] == 1e11
    assert function([x], T.log(x), mode=NanGuardMode(nan_is_error=False))(
        np.array([-1.0]))[0] != 0  # NaN passes when it is not an error


def test_nan_fed_in_by_an_input_or_a_shared_variable_is_named(any_backend):
    x = T.dvector("x")
    w = shared(np.array([1.0, np.nan]), name="w")
    with pytest.raises(NanGuardError, match="NaN .* in input x"):
        function([x], x * 2, mode=GUARD)(np.array([np.nan, 1.0]))
    with pytest.raises(NanGuardError, match="NaN .* in shared variable w"):
        function([x], x * w, mode=GUARD)(np.array([1.0, 1.0]))


def test_integer_values_are_not_huge():
    i = T.lvector("i")
    f = function([i], i * 10 ** 6, mode=GUARD)
    np.testing.assert_array_equal(f(np.array([10 ** 6])), [10 ** 12])


def test_the_scope_of_the_failing_node_is_reported(any_backend):
    x = T.dmatrix("x")
    with scope("encoder"):
        h = T.tanh(x) + 1
    with scope("decoder"):
        out = T.log(h - 1.5)
    f = function([x], out.sum(), mode=GUARD)
    with pytest.raises(NanGuardError) as info:
        f(np.zeros((2, 2)))
    assert info.value.scope == "decoder" and "Scope (the layer that built it): decoder" in str(
        info.value)


def test_same_values_as_without_the_guard_and_updates_applied(any_backend):
    rng = np.random.default_rng(0)
    x = T.dmatrix("x")
    w = shared(rng.normal(size=(3, 2)), name="w")
    cost = T.nnet.softmax(T.dot(x, w)).max(axis=1).mean()
    updates = [(w, w - 0.1 * T.grad(cost, w))]
    data = rng.normal(size=(5, 3))
    start = w.get_value()
    plain = function([x], cost, updates=updates)
    want = plain(data)
    after_plain = w.get_value()
    w.set_value(start)
    guarded = function([x], cost, updates=updates, mode=NanGuardMode(optimizer="FAST_RUN"))
    assert guarded(data) == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(w.get_value(), after_plain, rtol=1e-12)


def test_optimizer_names_theano_and_ours():
    assert NanGuardMode(optimizer="fast_compile").optimizer == "FAST_COMPILE"
    assert NanGuardMode(optimizer="FAST_RUN").optimizer == "FAST_RUN"
    assert NanGuardMode(optimizer="default").optimizer is None
    with pytest.raises(ValueError, match="optimizer"):
        NanGuardMode(optimizer="FAST")


def test_an_in_place_node_reports_its_inputs_as_they_were_before_it_ran(any_backend):
    x = T.dvector("x")
    f = function([x], T.log(x * 2), mode=GUARD)
    assert any(n.op.destroy_map for n in f.maker.fgraph.toposort())  # log runs in place
    with pytest.raises(NanGuardError, match=r"input 0: shape \(2,\) float64 range \[-2, 4\]"):
        f(np.array([-1.0, 2.0]))


def test_scope_and_trace_survive_fusion_when_the_graph_is_checked_as_fast_run():
    x = T.dvector("x")
    with scope("block"):
        y = T.log(x) * 2 + 1  # fused into one node under FAST_RUN
    f = function([x], y, mode=NanGuardMode(excluding=()))
    assert len(f.maker.fgraph.apply_nodes) == 1
    with pytest.raises(NanGuardError) as info:
        f(np.array([-1.0]))
    assert info.value.scope == "block" and "y = T.log(x) * 2 + 1" in str(info.value)
