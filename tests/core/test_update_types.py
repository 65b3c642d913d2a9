"""An update must have its shared variable's type (dtype and number of dimensions), as in
Theano: no silent cast of a float64 step into a float32 weight."""
import numpy as np
import pytest

import core.tensor as T
from core import function, shared


def test_float64_update_of_a_float32_shared_names_both_types():
    w = shared(np.ones(3, dtype="float32"), name="W")
    lr = T.dscalar("lr")
    with pytest.raises(TypeError) as info:
        function([lr], [], updates=[(w, w - lr * w)])
    msg = str(info.value)
    assert "An update must have the same type as the original shared variable" in msg
    assert "shared_var=W" in msg and "TensorType(float32, (?,))" in msg
    assert "TensorType(float64, (?,))" in msg and "test_update_types.py" in msg
    f = function([lr], [], updates=[(w, w - T.cast(lr, "float32") * w)])
    f(0.5)
    assert w.get_value().dtype == np.float32 and np.allclose(w.get_value(), 0.5)


def test_update_with_other_dimensions_is_refused():
    m = shared(np.zeros((2, 2)), name="m")
    with pytest.raises(TypeError, match=r"TensorType\(float64, \(\?, \?\)\).*TensorType\(float64, \(\?,\)\)"):
        function([], [], updates=[(m, m.sum(axis=0))])


def test_plain_values_take_the_shared_dtype():
    w = shared(np.ones(3, dtype="float32"))
    n = shared(np.int32(5))
    function([], [], updates=[(w, np.zeros(3)), (n, 0)])()
    assert w.get_value().dtype == np.float32 and not w.get_value().any()
    assert n.get_value().dtype == np.int32 and n.get_value() == 0
    with pytest.raises(TypeError, match="same type"):
        function([], [], updates=[(n, np.array([0.5]))])
