"""``layers_on_graph.ops`` against ``keras.ops``: eager on numpy, symbolic inside layers."""
import numpy as np
import pytest

import layers_on_graph as lg
from layers_on_graph import layers, ops

keras = pytest.importorskip("keras")
kops = keras.ops

rng = np.random.default_rng(0)
A = rng.normal(size=(3, 4)).astype("float32")
B = rng.normal(size=(3, 4)).astype("float32")
P = rng.uniform(0.1, 0.9, size=(3, 4)).astype("float32")  # inside (0, 1)
V = rng.normal(size=(4,)).astype("float32")
M = rng.normal(size=(4, 5)).astype("float32")
B3 = rng.normal(size=(2, 3, 4)).astype("float32")
C3 = rng.normal(size=(2, 4, 5)).astype("float32")
IMG = rng.normal(size=(2, 6, 6, 3)).astype("float32")
KER = rng.normal(size=(3, 3, 3, 4)).astype("float32")
SEQ = rng.normal(size=(2, 7, 3)).astype("float32")
KER1 = rng.normal(size=(3, 3, 5)).astype("float32")
IDX = np.array([2, 0, 1], dtype="int32")
SQ = rng.normal(size=(4, 4)).astype("float32")

# (name, args, kwargs): each runs on both libraries with the same arguments
CASES = [(name, (A,), {}) for name in (
    "abs", "negative", "sign", "square", "exp", "expm1", "sin", "cos", "tan", "tanh", "arctan",
    "sinh", "cosh", "arcsinh", "floor", "ceil", "round", "relu", "relu6", "sigmoid",
    "softplus", "softsign", "silu", "elu", "selu", "leaky_relu", "hard_sigmoid", "hard_silu",
    "log_sigmoid", "gelu", "softmax", "log_softmax", "isnan", "isinf", "isfinite", "ravel",
    "transpose", "copy", "sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin",
    "cumsum", "cumprod", "logsumexp", "erf", "flip", "count_nonzero", "any", "all", "trace",
    "diagonal", "zeros_like", "ones_like", "size", "tril", "triu", "diff")] + [
    (name, (P,), {}) for name in ("sqrt", "log", "log1p", "log2", "log10", "arcsin", "arccos",
                                  "arctanh", "reciprocal", "rsqrt")] + [
    (name, (A, B), {}) for name in (
        "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "equal",
        "not_equal", "less", "less_equal", "greater", "greater_equal", "logaddexp", "arctan2",
        "power", "logical_and", "logical_or", "logical_xor", "isclose", "inner")] + [
    ("vdot", (V, V), {}),
    ("sum", (A,), {"axis": 1, "keepdims": True}), ("mean", (B3,), {"axis": (0, 2)}),
    ("max", (A,), {"axis": 0}), ("argmax", (A,), {"axis": -1}), ("std", (A,), {"axis": 0}),
    ("logsumexp", (A,), {"axis": 1}), ("cumsum", (B3,), {"axis": 1}),
    ("softmax", (B3,), {"axis": 1}), ("log_softmax", (A,), {"axis": 0}),
    ("leaky_relu", (A,), {"negative_slope": 0.1}), ("elu", (A,), {"alpha": 0.5}),
    ("gelu", (A,), {"approximate": False}), ("round", (A,), {"decimals": 1}),
    ("clip", (A, -0.5, 0.5), {}), ("where", (A > 0, A, B), {}),
    ("matmul", (A, M), {}), ("matmul", (B3, C3), {}), ("matmul", (B3, M), {}),
    ("dot", (A, M), {}), ("dot", (B3, M), {}), ("tensordot", (B3, C3), {"axes": [[2], [1]]}),
    ("outer", (V, V), {}), ("reshape", (A, (2, 6)), {}), ("reshape", (A, (-1, 2)), {}),
    ("expand_dims", (A, 1), {}), ("expand_dims", (A, -1), {}),
    ("squeeze", (A[:, :1],), {"axis": 1}), ("transpose", (B3, (2, 0, 1)), {}),
    ("swapaxes", (B3, 0, 2), {}), ("moveaxis", (B3, 0, -1), {}),
    ("broadcast_to", (V, (3, 4)), {}), ("concatenate", ([A, B],), {"axis": 1}),
    ("stack", ([A, B],), {"axis": 1}), ("hstack", ([A, B],), {}), ("vstack", ([A, B],), {}),
    ("append", (A, B), {"axis": 0}), ("split", (A, 2), {"axis": 1}),
    ("split", (A, [1, 3]), {"axis": 1}), ("tile", (A, (2, 1)), {}),
    ("repeat", (A, 2), {"axis": 0}), ("flip", (A,), {"axis": 1}), ("roll", (A, 1), {"axis": 1}),
    ("roll", (A, 2), {}), ("pad", (A, ((1, 0), (2, 1))), {}),
    ("take", (A, IDX), {"axis": 1}), ("take", (A, IDX), {}),
    ("take_along_axis", (A, np.argsort(A, axis=1)), {"axis": 1}),
    ("diag", (V,), {}), ("diag", (SQ,), {"k": 1}), ("diagonal", (B3,), {"axis1": 1, "axis2": 2}),
    ("average", (A,), {"axis": 1, "weights": V}), ("nan_to_num", (np.array([np.nan, 1.0,
                                                                           np.inf]),), {}),
    ("tri", (3,), {}), ("eye", (3,), {}), ("eye", (3, 4), {"k": 1}), ("identity", (3,), {}),
    ("zeros", ((2, 3),), {}), ("ones", ((2, 3),), {}), ("full", ((2, 3), 1.5), {}),
    ("full_like", (A, 2.0), {}), ("arange", (5,), {}), ("arange", (1, 7, 2), {}),
    ("arange", (0.0, 1.0, 0.25), {}), ("linspace", (0.0, 1.0, 5), {}),
    ("linspace", (0.0, 1.0, 4), {"endpoint": False}), ("meshgrid", (V[:3], V), {}),
    ("meshgrid", (V[:3], V), {"indexing": "ij"}),
    ("one_hot", (IDX, 4), {}), ("one_hot", (IDX, 4), {"axis": 0}),
    ("multi_hot", (np.array([[0, 2], [1, 1]]), 3), {}),
    ("cast", (A, "int32"), {}), ("stop_gradient", (A,), {}),
    ("binary_crossentropy", (np.round(P), P), {}), ("binary_crossentropy", (np.round(P), A),
                                                 {"from_logits": True}),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[[0, 1, 3]], P), {}),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[[0, 1, 3]], A),
     {"from_logits": True}),
    ("sparse_categorical_crossentropy", (IDX, A), {"from_logits": True}),
    ("moments", (B3,), {"axes": [0, 1]}), ("moments", (A,), {"axes": [1], "keepdims": True}),
    ("normalize", (A,), {"axis": 1}),
    ("batch_normalization", (A, V, np.abs(V), 1), {"offset": V, "scale": V}),
    ("conv", (IMG, KER), {}), ("conv", (IMG, KER), {"padding": "same"}),
    ("conv", (IMG, KER), {"strides": 2, "padding": "same"}),
    ("conv", (IMG, KER), {"dilation_rate": 2}), ("conv", (SEQ, KER1), {"padding": "same"}),
    ("depthwise_conv", (IMG, KER[..., :2]), {}),
    ("depthwise_conv", (IMG, KER[..., :2]), {"padding": "same", "strides": 2}),
    ("depthwise_conv", (SEQ, KER1[..., :2]), {}),
    ("separable_conv", (IMG, KER[..., :2], rng.normal(size=(1, 1, 6, 4)).astype("float32")),
     {"padding": "same"}),
    ("max_pool", (IMG, 2), {}), ("max_pool", (IMG, 3), {"strides": 1}),
    ("average_pool", (IMG, (2, 2)), {}), ("max_pool", (SEQ, 2), {"padding": "same"}),
    ("average_pool", (IMG, 2), {"strides": 2, "padding": "same"}),
    ("slice", (A, (1, 1), (2, 2)), {}), ("slice_update", (A, (1, 0), B[:1, :2]), {}),
    ("unstack", (A,), {"axis": 1}), ("shape", (B3,), {}),
] + [(name, (A,), {}) for name in (
    "cbrt", "deg2rad", "rad2deg", "exp2", "fabs", "trunc", "signbit", "sinc", "erfc", "real",
    "conj", "celu", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink", "squareplus",
    "sparse_plus", "glu", "ptp", "norm", "fliplr", "flipud", "rot90", "array",
    "layer_normalization", "rms_normalization", "isposinf", "isneginf", "nansum", "nanmean",
    "nanmax", "nanmin", "nanprod")] + [
    (name, (A, B), {}) for name in ("hypot", "logaddexp2", "fmod", "divide_no_nan", "fmax",
                                    "fmin", "allclose", "kron", "heaviside")] + [
    (name, (IDX, IDX[::-1]), {}) for name in ("bitwise_and", "bitwise_or", "bitwise_xor")] + [
    ("bitwise_not", (IDX,), {}), ("threshold", (A, 0.1, -1.0), {}),
    ("norm", (A,), {"axis": 1}), ("norm", (A,), {"ord": 1, "axis": 0}),
    ("logspace", (0.0, 2.0, 5), {}), ("trapezoid", (A,), {}), ("trapezoid", (A,), {"dx": 0.5}),
    ("select", ([A > 0.5, A < -0.5], [A, B]), {"default": 0.0}), ("hsplit", (A, 2), {}),
    ("vsplit", (B3, 2), {}), ("cross", (M[:, :3], M[:, 2:]), {}),
    ("rot90", (A,), {"k": 3}), ("saturate_cast", (A * 300, "uint8"), {}),
    ("get_item", (A, 1), {}), ("psnr", (P, P * 0.9, 1.0), {}),
    ("segment_sum", (A, np.array([0, 2, 0])), {"num_segments": 3}),
    ("segment_max", (A, np.array([0, 1, 0])), {"num_segments": 2}),
    ("segment_min", (A, np.array([1, 1, 0])), {"num_segments": 2}),
    ("segment_prod", (A, np.array([1, 1, 0])), {"num_segments": 2}),
    ("sparse_sigmoid", (A * 2,), {}), ("depth_to_space", (IMG[..., :2].repeat(2, -1), 2), {}),
    ("space_to_depth", (IMG, 2), {}), ("space_to_depth", (IMG, 3), {}),
    ("top_k", (A, 2), {}), ("in_top_k", (np.array([0, 1, 3]), A, 2), {}),
    ("einsum", ("bij,bjk->bik", B3, C3), {}), ("einsum", ("...ij,...jk", B3, C3), {}),
    ("einsum", ("ij,ij->i", A, B), {}), ("einsum", ("ij->ji", A), {}),
    ("einsum", ("bqhd,bkhd->bhqk", IMG[:, :, :2], IMG[:, :, 2:4]), {}),
    ("sort", (A,), {}), ("sort", (B3,), {"axis": 1}), ("argsort", (A,), {}),
    ("bartlett", (6,), {}), ("blackman", (6,), {}), ("hamming", (6,), {}), ("hanning", (6,), {}),
    ("kaiser", (6, 3.0), {}), ("geomspace", (1.0, 100.0, 5), {}), ("diagflat", (V,), {"k": -1}),
    ("dstack", ([A, B],), {}), ("dsplit", (B3, 2), {}), ("array_split", (A, 3), {"axis": 1}),
    ("isreal", (A,), {}), ("nanvar", (A,), {"axis": 1}),
    ("nanstd", (A,), {}), ("quantile", (A, 0.3), {}), ("quantile", (A, [0.1, 0.9]), {"axis": 1}),
    ("percentile", (B3, 40.0), {"axis": 2, "keepdims": True}), ("median", (A,), {"axis": 0}),
    ("median", (A,), {}), ("searchsorted", (np.sort(V), A[0]), {}),
    ("searchsorted", (np.sort(V), A[0]), {"side": "right"}),
    ("digitize", (A, np.array([-1.0, 0.0, 1.0])), {}), ("isin", (IDX, np.array([0, 2])), {}),
    ("vander", (V,), {}), ("vander", (V,), {"N": 3, "increasing": True}),
    ("unravel_index", (np.array([1, 5, 7]), (2, 4)), {}),
    ("scatter", (np.array([[0, 1], [2, 2]]), np.array([1.0, 2.0]), (3, 3)), {}),
    ("scatter_update", (A, np.array([[0, 1], [2, 2]]), np.array([7.0, 8.0])), {}),
    ("cdist", (A, B), {}), ("cdist", (B3, C3.transpose(0, 2, 1)), {}),
    ("argsort", (np.array([[3, 1, 2, 1], [0, 5, 5, 2]]),), {"axis": -1}),
    ("dot_product_attention", (rng.normal(size=(2, 5, 3, 4)).astype("float32"),) * 3, {}),
    ("dot_product_attention", (rng.normal(size=(2, 5, 3, 4)).astype("float32"),
                               rng.normal(size=(2, 6, 3, 4)).astype("float32"),
                               rng.normal(size=(2, 6, 3, 4)).astype("float32")),
     {"is_causal": True}),
]


def _ids(case):
    return case[0]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_eager_op_matches_keras(case):
    name, args, kwargs = case
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(kops, name)(*[kops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a
                                   for a in args], **kwargs)
    _assert_same(ours, theirs)


def _assert_same(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_same(o, t)
        return
    expected = kops.convert_to_numpy(theirs)
    got = np.asarray(ours)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.astype("float64"), expected.astype("float64"), rtol=1e-5,
                               atol=1e-5)


def test_control_flow_matches_keras():
    xs = A
    body = lambda c, x: (c + x, c * 2.0)  # noqa: E731
    _assert_same(ops.scan(body, np.zeros(4, "float32"), xs),
                 kops.scan(body, kops.zeros(4), xs))
    _assert_same(ops.scan(body, np.zeros(4, "float32"), xs, reverse=True),
                 kops.scan(body, kops.zeros(4), xs, reverse=True))
    _assert_same(ops.fori_loop(0, 4, lambda i, v: v * 2.0 + 1.0, np.float32(1.0)),
                 kops.fori_loop(0, 4, lambda i, v: v * 2.0 + 1.0, 1.0))
    _assert_same(ops.cond(np.array(False), lambda: A, lambda: B),
                 kops.cond(False, lambda: A, lambda: B))
    _assert_same(ops.map(lambda r: r * 2.0, A), kops.map(lambda r: r * 2.0, A))
    branches = [lambda v: v * 0.0, lambda v: v * 2.0, lambda v: v * 3.0]
    _assert_same(ops.switch(np.array(1), branches, A), kops.switch(1, branches, A))
    _assert_same(ops.while_loop(lambda i, v: i < 5, lambda i, v: (i + 2, v * 2.0),
                                (np.int64(0), A), maximum_iterations=10),
                 kops.while_loop(lambda i, v: i < 5, lambda i, v: (i + 2, v * 2.0), (0, A),
                                 maximum_iterations=10))


def test_real_tensor_parts_as_numpy():
    np.testing.assert_array_equal(ops.imag(A), np.imag(A))
    np.testing.assert_allclose(ops.cdist(A, B, p=1.0), np.abs(A[:, None] - B[None]).sum(-1),
                               rtol=1e-6)


def test_empty_like_has_the_shape_and_dtype():
    out = ops.empty_like(A)
    assert out.shape == A.shape and out.dtype == A.dtype


def test_convert_and_shape_helpers():
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.shape(A) == (3, 4)
    x = lg.Input(shape=(5,))
    shape = ops.shape(x)
    assert shape[1] == 5 and not isinstance(shape[0], int)
    assert ops.is_tensor(x) and not ops.is_tensor(A)
    with pytest.raises(TypeError, match="symbolic"):
        ops.convert_to_numpy(x)


def test_symbolic_ops_return_keras_tensors():
    x = lg.Input(shape=(6,))
    y = ops.reshape(ops.relu(x), (-1, 3, 2))
    assert y.shape == (None, 3, 2)
    assert ops.expand_dims(x, -1).shape == (None, 6, 1)
    assert ops.one_hot(ops.cast(x, "int32"), 4).shape == (None, 6, 4)


def _gated_class(ops_module, base):
    """A Keras 3 style custom layer written only with ``ops``: the same code on both
    libraries."""

    class Gated(base):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2 * self.units), name="w",
                                     initializer="glorot_uniform")
            self.b = self.add_weight(shape=(2 * self.units,), name="b", initializer="zeros")

        def call(self, x):
            h = ops_module.matmul(x, self.w) + self.b
            a, g = ops_module.split(h, 2, axis=-1)
            out = a * ops_module.sigmoid(g)
            return ops_module.reshape(out, (-1, out.shape[-1] // 2, 2))

    return Gated


def test_custom_layer_and_lambda_with_ops_match_keras():
    x_in = rng.normal(size=(5, 6)).astype("float32")
    inp = lg.Input(shape=(6,))
    h = _gated_class(ops, layers.Layer)(4)(inp)
    h = layers.Lambda(lambda t: ops.sum(ops.square(t), axis=-1))(h)
    out = layers.Dense(3)(h)
    model = lg.Model(inp, out)
    assert model.output_shape == (None, 3)

    kinp = keras.Input(shape=(6,))
    kh = _gated_class(kops, keras.layers.Layer)(4)(kinp)
    kh = keras.layers.Lambda(lambda t: kops.sum(kops.square(t), axis=-1))(kh)
    kmodel = keras.Model(kinp, keras.layers.Dense(3)(kh))
    kmodel.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x_in, verbose=0), kmodel.predict(x_in, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_stop_gradient_blocks_the_gradient():
    import core.tensor as T

    x = T.fvector("x")
    g = T.grad(T.sum(ops.stop_gradient(x) * x), x)
    value = np.array([1.0, 2.0], dtype="float32")
    np.testing.assert_allclose(g.eval({x: value}), value)


def test_lambda_written_with_ops_survives_saving(tmp_path):
    inp = lg.Input(shape=(4,))
    out = layers.Lambda(lambda t: ops.softmax(ops.square(t) - 1.0))(inp)
    model = lg.Model(inp, out)
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    loaded = lg.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(A, verbose=0), model.predict(A, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda a, b: ops.einsum("bij,bjk->bik", a, b),
    lambda a, b: ops.sort(a * 3.0, axis=1) + ops.cumsum(b, axis=2).sum(),
    lambda a, b: ops.logsumexp(a, axis=-1) + ops.norm(b),
    lambda a, b: ops.dot_product_attention(a[:, :, None], a[:, :, None], a[:, :, None]).sum()
    + ops.matmul(a, b).sum(),
], ids=["einsum", "sort_cumsum", "logsumexp_norm", "attention_matmul"])
def test_composed_ops_gradients_match_finite_differences(fn):
    import core.tensor as T

    points = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5))]
    T.verify_grad(fn, points, rng=np.random.default_rng(0))
