"""core.function, In, shared, Variable.eval."""
import numpy as np
import pytest

import core.tensor as T
from core import In, function, shared
from core.compile.function import MissingInputError, UnusedInputError


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


def test_seed_snippets():
    x, y = T.dscalar("x"), T.dscalar("y")
    out = function([x, y], x + y)(2, 3)
    assert isinstance(out, np.ndarray) and out.shape == () and out == 5.0
    state = shared(0)
    inc = T.iscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)])
    assert acc(1) == 0 and acc(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    acc(3)
    assert state.get_value() == 2
    assert function([x], T.grad(x ** 2, x))(4) == 8.0


def test_single_and_list_outputs_and_zero_d_arrays():
    x = T.dvector("x")
    single = function([x], x.sum())(np.arange(3.0))
    assert type(single) is np.ndarray and single.shape == ()
    both = function([x], [x * 2, x.sum()])(np.arange(3.0))
    assert isinstance(both, list) and len(both) == 2
    assert all(type(o) is np.ndarray for o in both)
    one = function([x], [x.sum()])(np.arange(3.0))
    assert isinstance(one, list) and len(one) == 1
    assert function([x], [], on_unused_input="ignore")(np.arange(3.0)) == []


def test_outputs_never_alias_inputs_or_shared_values():
    x = T.dvector("x")
    w = shared(np.zeros(3))
    xv = np.arange(3.0)
    a, b, c = function([x], [x, w, x.T])(xv)
    a[0] = b[0] = c[1] = 99.0
    assert xv[0] == 0.0 and xv[1] == 1.0 and w.get_value()[0] == 0.0


def test_in_defaults_and_keyword_arguments():
    x, y, z = T.dscalars("x", "y", "z")
    f = function([x, In(y, value=1.0), In(z, value=2.0, name="zz")], x + 10 * y + 100 * z)
    assert f(1) == 211.0
    assert f(1, 3) == 231.0
    assert f(1, zz=5) == 511.0
    assert f(x=1, y=0, zz=0) == 1.0
    with pytest.raises(TypeError, match="unknown keyword input 'q'"):
        f(1, q=2)
    with pytest.raises(TypeError, match="input 'x' given twice"):
        f(1, x=2)
    with pytest.raises(TypeError, match="missing a value for input 0"):
        f()
    with pytest.raises(TypeError, match="takes 3 input"):
        f(1, 2, 3, 4)


def test_in_rejects_constants_and_shared():
    with pytest.raises(TypeError, match="cannot be an input"):
        In(shared(1.0))
    with pytest.raises(TypeError, match="expected a symbolic variable"):
        In(3.0)


def test_updates_are_applied_together_after_outputs():
    a, b = shared(1.0, name="a"), shared(2.0, name="b")
    swap = function([], [a + 0, b + 0], updates=[(a, b), (b, a)])
    assert [float(v) for v in swap()] == [1.0, 2.0]
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)
    # An output that is the updated variable itself shows the value before the update.
    out = function([], a, updates={a: a * 10})()
    assert out == 2.0 and a.get_value() == 20.0
    assert out is not a.get_value(borrow=True)


def test_update_values_do_not_alias_other_shared_values():
    a, b = shared(np.zeros(2), name="a"), shared(np.ones(2), name="b")
    function([], [], updates=[(a, b)])()
    a.get_value(borrow=True)[0] = 5.0
    assert b.get_value()[0] == 1.0


def test_update_errors():
    a = shared(np.zeros(2), name="a")
    x = T.dvector("x")
    with pytest.raises(TypeError, match="not a shared variable"):
        function([x], x, updates=[(x, x + 1)])
    with pytest.raises(ValueError, match="updated twice"):
        function([], [], updates=[(a, a + 1), (a, a + 2)])
    with pytest.raises(TypeError, match="same type as the original shared variable"):
        function([], [], updates=[(a, a.sum())])
    with pytest.raises(TypeError, match="same type as the original shared variable"):
        function([], [], updates=[(shared(np.zeros(2, "int32")), a)])
    with pytest.raises(TypeError, match="pairs"):
        function([], [], updates=[a])


def test_update_of_another_dtype_must_be_cast_as_in_theano():
    i = shared(np.int32(0))
    with pytest.raises(TypeError, match="same type"):  # tests/core/test_update_types.py
        function([], [], updates=[(i, i + np.int64(1))])
    function([], [], updates=[(i, T.cast(i + np.int64(1), "int32"))])()
    assert i.get_value().dtype == np.int32 and i.get_value() == 1


def test_givens():
    x, z = T.dscalars("x", "z")
    w = shared(3.0, name="w")
    f = function([z], x * w, givens={x: z + 1})
    assert f(2) == 9.0
    g = function([z], x * w, givens=[(x, z), (w, T.constant(10.0))])
    assert g(2) == 20.0


def test_on_unused_input():
    x, y = T.dscalars("x", "y")
    with pytest.raises(UnusedInputError, match="input y .* is not used"):
        function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not used"):
        function([x, y], x * 2, on_unused_input="warn")
    assert function([x, y], x * 2, on_unused_input="ignore")(1, 2) == 2.0


def test_missing_input_names_the_variable_and_its_line():
    x, y = T.dscalars("x", "y")
    out = x + y
    with pytest.raises(MissingInputError, match=r"needs input y(.|\n)*test_function.py"):
        function([x], out)


def test_duplicate_inputs_and_bad_input_list():
    x = T.dscalar("x")
    with pytest.raises(ValueError, match="twice"):
        function([x, x], x)
    with pytest.raises(TypeError, match="must be a list"):
        function(x, x)


def test_input_count_ndim_and_dtype_checks():
    v = T.fvector("v")
    f = function([v], v * 2)
    # safe casts and Python values are accepted
    assert f(np.array([1, 2], dtype="int8")).dtype == np.float32
    assert f(np.array([1, 2], dtype="int16")).dtype == np.float32
    assert f([1.5, 2.0]).dtype == np.float32
    with pytest.raises(TypeError, match=r"input 0 \(v, .*float64 cannot be cast safely to float32"):
        f(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"input 0 \(v.*expected 1 dimensions"):
        f(np.ones((2, 2), dtype="float32"))
    with pytest.raises(TypeError, match="takes 1 input"):
        f(np.ones(2, "float32"), np.ones(2, "float32"))
    i = T.iscalar("i")
    g = function([i], i * 2)
    assert g(3) == 6 and g(np.int16(3)) == 6
    with pytest.raises(TypeError, match="3.5 cannot be converted to int32"):
        g(3.5)
    with pytest.raises(TypeError, match="int64 cannot be cast safely to int32"):
        g(np.int64(3))
    with pytest.raises(TypeError, match="cannot be converted to int32"):
        g(2 ** 40)
    assert function([v], v * 2, allow_input_downcast=True)(np.ones(2)).dtype == np.float32


def test_static_shape_is_checked_at_call():
    x = T.tensor("float64", shape=(None, 3), name="x")
    f = function([x], x.sum())
    assert f(np.ones((2, 3))) == 6.0
    with pytest.raises(ValueError, match=r"axis 1 must have size 3"):
        f(np.ones((2, 4)))


def test_trust_input_skips_checks():
    v = T.dvector("v")
    f = function([v], v + 1, trust_input=True)
    assert f.trust_input
    np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 1.0])
    f.trust_input = False
    with pytest.raises(TypeError, match="expected 1 dimensions"):
        f(np.zeros((2, 2)))
    f.trust_input = True
    assert f(np.zeros((2, 2))).shape == (2, 2)  # unchecked: the caller's responsibility


def test_name_appears_in_errors():
    x = T.dscalar("x")
    f = function([x], x, name="double")
    with pytest.raises(TypeError, match="function 'double'"):
        f()
    assert "double" in repr(f)


def test_variable_eval():
    x, y = T.dscalars("x", "y")
    assert (x * y).eval({x: 2, y: 3}) == 6.0
    w = shared(np.arange(3.0))
    np.testing.assert_array_equal((w * 2).eval(), [0.0, 2.0, 4.0])
    assert T.constant(4.0).eval() == 4.0
    expr = x + 1
    assert expr.eval({x: 1}) == 2.0 and expr.eval({x: 5}) == 6.0


def test_shared_get_set_value_and_borrow():
    v = np.arange(3.0)
    s = shared(v, name="s")
    v[0] = 100.0
    assert s.get_value()[0] == 0.0  # copied on creation
    got = s.get_value()
    got[1] = 50.0
    assert s.get_value()[1] == 1.0  # get_value copies
    assert s.get_value(borrow=True) is s.get_value(borrow=True)
    new = np.ones(3)
    s.set_value(new)
    new[0] = 7.0
    assert s.get_value()[0] == 1.0  # set_value copies
    s.set_value(new, borrow=True)
    assert s.get_value(borrow=True) is new
    b = np.zeros(2)
    assert shared(b, borrow=True).get_value(borrow=True) is b
    s.set_value([4, 5, 6])  # lists and safe casts are accepted
    assert s.get_value().dtype == np.float64
    with pytest.raises(TypeError, match="set_value of shared variable s: expected 1 dimensions"):
        s.set_value(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="complex128 cannot be cast safely"):
        s.set_value(np.zeros(3, dtype="complex128"))


def test_shared_types_and_names():
    assert shared(0).type.dtype == "int64"
    assert shared(0.5).type.dtype == "float64"
    assert shared(np.zeros(3, "float32")).type == T.fvector
    assert shared(np.zeros((1, 3))).type.broadcastable == (False, False)
    assert shared(np.zeros((1, 3)), shape=(1, None)).type.broadcastable == (True, False)
    assert shared(1.0, name="w").name == "w"
    with pytest.raises(TypeError, match="not a symbolic variable"):
        shared(T.dscalar())
    with pytest.raises(TypeError, match="cannot hold"):
        shared(np.array(["a"]))


def test_shared_value_changes_are_seen_by_compiled_functions():
    w = shared(np.ones(2))
    x = T.dvector("x")
    f = function([x], T.dot(x, w))
    assert f(np.ones(2)) == 2.0
    w.set_value(np.full(2, 3.0))
    assert f(np.ones(2)) == 6.0


def test_shared_can_be_used_with_every_tensor_operator():
    w = shared(np.arange(4.0).reshape(2, 2))
    np.testing.assert_array_equal(function([], (w.T * 2 + 1).sum(axis=0))(), [4.0, 12.0])
    assert w.ndim == 2 and w.dtype == "float64"


def test_outputs_and_updates_never_share_buffers():
    x = T.dvector("x")
    w = shared(np.zeros(2), name="w")
    new_w = w + x
    out1, out2 = function([x], [x * 2, x * 2])(np.ones(2))
    out1[0] = 50.0
    assert out2[0] == 2.0
    returned = function([x], new_w, updates=[(w, new_w)])(np.ones(2))
    returned[0] = 99.0
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])


def test_mode_argument():
    x = T.dvector("x")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = function([x], T.log(1 + x), mode=mode)
        np.testing.assert_allclose(f(np.array([0.5])), np.log1p([0.5]))
        assert f.maker.mode == mode
    with pytest.raises(ValueError, match="unknown mode"):
        function([x], x, mode="FAST_AND_LOOSE")


def test_out_borrow_returns_the_shared_buffer_and_plain_outputs_a_copy():
    from core import Out, shared

    w = shared(np.arange(3.0), name="w")
    borrowed, copied = function([], [Out(w, borrow=True), w])()
    assert borrowed is w.get_value(borrow=True)
    assert copied is not w.get_value(borrow=True)
    np.testing.assert_array_equal(copied, borrowed)
    with pytest.raises(TypeError, match="Out: expected a symbolic variable"):
        Out(np.ones(3))
