"""Error messages: run-time errors name the op, shapes, dtypes and the user's line."""
import os

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.graph.trace import format_trace, user_frame


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


HERE = os.path.basename(__file__)


def test_every_variable_records_the_user_line():
    x = T.dmatrix("x")
    y = T.exp(x) * 2
    for v in (x, y):
        filename, lineno, func = v.tag.trace
        assert filename == __file__ and func == "test_every_variable_records_the_user_line"
    assert y.tag.trace[1] == x.tag.trace[1] + 1
    assert "y = T.exp(x) * 2" in format_trace(y.tag.trace)


def test_trace_skips_library_frames():
    frame = user_frame()
    assert frame[0] == __file__
    assert format_trace(None).startswith("(created inside the library")


def test_runtime_dot_error_names_op_shapes_dtypes_and_source_line():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    product = T.dot(a, b)  # the line the error must point at
    f = function([a, b], product.sum())
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 5)))
    msg = str(info.value)
    assert "Apply node that caused the error: Dot" in msg
    assert "Inputs shapes: [(2, 3), (4, 5)]" in msg
    assert "Inputs dtypes: ['float64', 'float64']" in msg
    assert HERE in msg and "product = T.dot(a, b)" in msg
    assert info.value.__cause__ is not None  # the original numpy error is kept


def test_runtime_error_with_trust_input_and_shared_inputs():
    from core import shared

    w = shared(np.ones((4, 2)), name="w")
    a = T.dmatrix("a")
    out = T.dot(a, w)
    f = function([a], out, trust_input=True)
    with pytest.raises(ValueError, match=r"Inputs shapes: \[\(2, 3\), \(4, 2\)\](.|\n)*out = T.dot"):
        f(np.ones((2, 3)))


def test_runtime_reshape_error():
    x = T.dvector("x")
    f = function([x], x.reshape((2, -1)))
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(5,\)(.|\n)*Reshape"):
        f(np.ones(5))


def test_errors_leave_no_partial_state():
    from core import shared

    s = shared(np.zeros(2), name="s")
    a = T.dmatrix("a")
    f = function([a], T.dot(a, a).sum(), updates=[(s, s + 1)])
    with pytest.raises(ValueError):
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(s.get_value(), [0.0, 0.0])  # the update did not happen
    f(np.ones((2, 2)))
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0])


def test_graph_build_errors():
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="no truth value"):
        bool(m > 0)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(m)
    with pytest.raises(TypeError, match="Dot takes vectors and matrices"):
        T.Dot()(T.dtensor3(), m)
    with pytest.raises(ValueError, match="cannot drop axis 0"):
        m.dimshuffle(1)
    with pytest.raises(ValueError, match=r"softmax: axis 3 out of range(.|\n)*test_errors.py"):
        T.nnet.softmax(m, axis=3)


def test_config_errors():
    from core import config

    with pytest.raises(ValueError, match="floatX must be one of"):
        config.floatX = "int32"
    with pytest.raises(AttributeError, match="no flag"):
        config.not_a_flag = 1


def test_kernel_missing_from_backend():
    from backends import get_registry
    from core.graph.basic import Apply, Op

    class Unknown(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

    with pytest.raises(NotImplementedError, match="numpy backend has no kernel for Unknown"):
        get_registry("numpy").make_kernel(Unknown().make_node(T.dvector()))
    with pytest.raises(ValueError, match="unknown backend"):
        get_registry("nope")
