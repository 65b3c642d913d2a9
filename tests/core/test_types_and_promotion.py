"""TensorType constructors, NumPy-2 dtype promotion with weak Python scalars, static broadcasting."""
import itertools

import numpy as np
import pytest

import core.tensor as T
from core import function


# core semantics are checked on the reference backend (C kernels are tested against it)
pytestmark = pytest.mark.usefixtures("numpy_backend")


PREFIX_DTYPES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
                 "d": "float64"}
KIND_SHAPES = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
               "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4}


@pytest.mark.parametrize("prefix,dtype", PREFIX_DTYPES.items())
@pytest.mark.parametrize("kind,shape", KIND_SHAPES.items())
def test_typed_constructors_are_tensor_types(prefix, dtype, kind, shape):
    ctor = getattr(T, prefix + kind)
    assert isinstance(ctor, T.TensorType)
    v = ctor("v")
    assert v.type == ctor and v.dtype == dtype and v.type.shape == shape and v.name == "v"
    assert v.owner is None
    assert v.type.broadcastable == tuple(s == 1 for s in shape)


def test_untyped_constructors_follow_floatx(monkeypatch):
    from core import config

    assert T.matrix("m").dtype == config.floatX
    monkeypatch.setattr(config, "floatX", "float32")
    assert T.matrix("m").dtype == "float32" and T.scalar().dtype == "float32"
    assert T.vector(dtype="int32").dtype == "int32"


def test_plural_constructors_and_tensor():
    a, b = T.dscalars("a", "b")
    assert (a.name, b.name) == ("a", "b") and a.type == T.dscalar
    m1, m2 = T.fmatrices("m1", "m2")
    assert m2.type == T.fmatrix
    t = T.tensor("int16", shape=(None, 3), name="t")
    assert t.type.shape == (None, 3) and t.dtype == "int16"
    assert T.tensor("float64", broadcastable=(True, False)).type == T.drow
    with pytest.raises(TypeError, match="needs shape"):
        T.tensor("float64")
    with pytest.raises(TypeError, match="unsupported dtype"):
        T.TensorType("object", ())


def test_type_equality_and_hash():
    assert T.TensorType("float64", (None,)) == T.dvector
    assert hash(T.TensorType("float64", (None,))) == hash(T.dvector)
    assert T.dvector != T.fvector and T.drow != T.dmatrix


SAMPLE_DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "uint32", "float32",
                 "float64"]


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(SAMPLE_DTYPES, 2)))
def test_tensor_tensor_promotion_matches_numpy(a, b):
    x, y = T.TensorType(a, (None,))("x"), T.TensorType(b, (None,))("y")
    expected = np.result_type(np.dtype(a), np.dtype(b))
    assert (x + y).dtype == expected
    assert (x * y).dtype == expected
    xv, yv = np.ones(2, a), np.ones(2, b)
    assert function([x, y], x * y)(xv, yv).dtype == (xv * yv).dtype


@pytest.mark.parametrize("dtype", SAMPLE_DTYPES[1:])
@pytest.mark.parametrize("scalar", [2, 0.1, 2.0, True])
def test_python_scalars_are_weak(dtype, scalar):
    x = T.TensorType(dtype, (None,))("x")
    xv = np.ones(3, dtype)
    expected = (xv * scalar).dtype
    assert (x * scalar).dtype == expected
    assert (scalar + x).dtype == (scalar + xv).dtype
    assert function([x], x * scalar)(xv).dtype == expected


def test_weak_scalar_rules_named_in_the_issue():
    f, i = T.fmatrix("f"), T.imatrix("i")
    assert (f * 2.0).dtype == "float32"
    assert (f + 0.1).dtype == "float32"
    assert (i + f).dtype == "float64"
    assert (i * 2).dtype == "int32"
    assert (i * 2.0).dtype == "float64"
    assert (i / 2).dtype == "float64"
    assert (T.bvector() / T.bvector()).dtype == "float32"  # Theano's int8 true_div rule
    assert T.exp(i).dtype == "float64" and T.exp(T.bvector()).dtype == "float32"
    out = function([f], f * 2.0 + 0.1)(np.ones((1, 2), "float32"))
    assert out.dtype == np.float32


def test_true_div_and_transcendental_dtypes():
    for dtype in ("int16", "int32", "int64", "float32", "float64"):
        x = T.TensorType(dtype, (None,))("x")
        xv = np.arange(1, 4, dtype=dtype)
        out = function([x], [x / x, T.exp(x), T.sqrt(x)])(xv)
        for o in out:
            assert o.dtype == np.dtype(T.exp(x).dtype)


def test_out_of_range_python_int_upcasts():
    b = T.bvector("b")
    # numpy 2 raises OverflowError for int8 + 300; we promote to a type that holds it.
    assert np.iinfo((b + 300).dtype).max >= 300
    assert (b + 100).dtype == "int8" and (T.TensorType("uint8", (None,))() - 1).dtype == "uint8"
    np.testing.assert_array_equal(function([b], b + 300)(np.array([1, 2], "int8")), [301, 302])


def test_static_broadcasting_declared_axes():
    r, m, c = T.drow("r"), T.dmatrix("m"), T.dcol("c")
    assert (r + m).type.shape == (None, None)
    assert (r + c).type.shape == (None, None)
    assert (r * r).type.broadcastable == (True, False)
    f = function([r, m, c], r + m + c)
    out = f(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)))
    np.testing.assert_array_equal(out, np.full((2, 3), 3.0))
    v = T.dvector("v")
    assert (v + m).type.shape == (None, None)  # lower rank is padded on the left
    np.testing.assert_array_equal(function([v, m], v + m)(np.arange(3.0), np.zeros((2, 3))),
                                  np.tile(np.arange(3.0), (2, 1)))


def test_size_one_input_to_non_broadcastable_matrix_is_a_value_error():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = function([x, y], x + y)
    with pytest.raises(ValueError) as info:
        f(np.ones((1, 3)), np.ones((2, 3)))
    msg = str(info.value)
    assert "input 0 has shape (1, 3)" in msg and "not declared broadcastable" in msg
    assert "T.row" in msg and "shape=(1, None)" in msg
    assert "test_types_and_promotion.py" in msg  # the user's line that built x + y
    # and the same arrays are fine when the axis is declared broadcastable
    r = T.drow("r")
    assert function([r, y], r + y)(np.ones((1, 3)), np.ones((2, 3))).shape == (2, 3)


def test_incompatible_static_shapes_fail_at_build_time():
    a = T.tensor("float64", shape=(2, 3), name="a")
    b = T.tensor("float64", shape=(4, 3), name="b")
    with pytest.raises(ValueError, match=r"incompatible static shapes .* axis 0(.|\n)*test_types"):
        a + b
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(4, 3\) are not aligned"):
        T.dot(a, b)
    assert (a + T.tensor("float64", shape=(1, 3))).type.shape == (2, 3)
    assert (a + T.dmatrix()).type.shape == (2, 3)
