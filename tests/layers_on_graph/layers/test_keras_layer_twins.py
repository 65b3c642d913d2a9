"""Every issue-14 layer against real Keras 3.15 (torch backend): outputs to 1e-5 in float32
with weights copied by get_weights/set_weights, the same weight names and order, the same
gradients (torch autograd), and ``.keras`` files that move both ways."""
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", minversion="3.0")
if keras.backend.backend() != "torch":
    pytest.skip("keras runs on another backend in this process", allow_module_level=True)

import numpy as np  # noqa: E402
from keras_twin import check_files_both_ways, check_twin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::UserWarning")


def two(layer, xs, **kwargs):
    return layer(xs[0], xs[1], **kwargs)


def as_list(layer, xs, **kwargs):
    return layer(list(xs), **kwargs)


def with_mask(layer, xs, **kwargs):
    return layer(xs[0], mask=xs[1], **kwargs)


IMG = [(2, 7, 6, 3)]
SEQ = [(2, 9, 4)]
CASES = {  # id: (layer, kwargs, input shapes, call, call kwargs, input dtypes)
    "conv1d": ("Conv1D", dict(filters=5, kernel_size=3), SEQ),
    "conv1d_same_stride": ("Conv1D", dict(filters=4, kernel_size=4, strides=2,
                                          padding="same"), SEQ),
    "conv1d_causal_dilated": ("Conv1D", dict(filters=3, kernel_size=3, padding="causal",
                                             dilation_rate=2, activation="relu"), SEQ),
    "conv1d_groups": ("Conv1D", dict(filters=6, kernel_size=2, groups=2), SEQ),
    "conv2d_groups": ("Conv2D", dict(filters=6, kernel_size=3, groups=3,
                                     padding="same"), IMG),
    "conv2d_groups_2": ("Conv2D", dict(filters=4, kernel_size=(2, 3), groups=2,
                                       strides=2), [(2, 7, 6, 4)]),
    "conv2d_transpose": ("Conv2DTranspose", dict(filters=4, kernel_size=3), IMG),
    "conv2d_transpose_same_s2": ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2,
                                                         padding="same"), IMG),
    "conv2d_transpose_valid_s3": ("Conv2DTranspose", dict(filters=2, kernel_size=2,
                                                          strides=3), IMG),
    "conv2d_transpose_outpad": ("Conv2DTranspose", dict(filters=2, kernel_size=(3, 4),
                                                        strides=2, padding="same",
                                                        output_padding=1), IMG),
    "conv2d_transpose_relu_s2": ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2,
                                                         padding="same", activation="relu"),
                                 IMG),
    "conv2d_transpose_softmax": ("Conv2DTranspose", dict(filters=3, kernel_size=2,
                                                         activation="softmax"), IMG),
    "conv2d_transpose_dilated": ("Conv2DTranspose", dict(filters=3, kernel_size=3,
                                                         dilation_rate=2, use_bias=False),
                                 IMG),
    "depthwise": ("DepthwiseConv2D", dict(kernel_size=3), IMG),
    "depthwise_same_s2_m2": ("DepthwiseConv2D", dict(kernel_size=3, strides=2, padding="same",
                                                     depth_multiplier=2), IMG),
    "depthwise_dilated": ("DepthwiseConv2D", dict(kernel_size=(2, 3), dilation_rate=2,
                                                  activation="relu"), IMG),
    "depthwise_relu_m2_same": ("DepthwiseConv2D", dict(kernel_size=3, padding="same",
                                                       depth_multiplier=2, activation="relu",
                                                       bias_initializer="random_normal"), IMG),
    "separable": ("SeparableConv2D", dict(filters=4, kernel_size=3, padding="same"), IMG),
    "separable_relu": ("SeparableConv2D", dict(filters=4, kernel_size=3, activation="relu",
                                               bias_initializer="random_normal"), IMG),
    "separable_s2_m2": ("SeparableConv2D", dict(filters=5, kernel_size=2, strides=2,
                                                depth_multiplier=2), IMG),
    "upsampling_nearest": ("UpSampling2D", dict(size=(2, 3)), IMG),
    "upsampling_bilinear": ("UpSampling2D", dict(size=2, interpolation="bilinear"), IMG),
    "zero_padding": ("ZeroPadding2D", dict(padding=((1, 2), (0, 3))), IMG),
    "zero_padding_int": ("ZeroPadding2D", dict(padding=1), IMG),
    "cropping": ("Cropping2D", dict(cropping=((1, 2), (0, 3))), IMG),
    "max_pool1d": ("MaxPooling1D", dict(pool_size=3, strides=2), SEQ),
    "max_pool1d_same": ("MaxPooling1D", dict(pool_size=2, padding="same"), SEQ),
    "avg_pool1d": ("AveragePooling1D", dict(pool_size=2), SEQ),
    "avg_pool1d_same": ("AveragePooling1D", dict(pool_size=3, strides=3, padding="same"),
                        SEQ),
    "max_pool2d_same_s1": ("MaxPooling2D", dict(pool_size=3, strides=1, padding="same"), IMG),
    "max_pool2d_same_s2": ("MaxPooling2D", dict(pool_size=3, strides=2, padding="same"), IMG),
    "avg_pool2d_same_s1": ("AveragePooling2D", dict(pool_size=3, strides=1, padding="same"),
                           IMG),
    "avg_pool2d_same_s2": ("AveragePooling2D", dict(pool_size=(3, 2), strides=2,
                                                    padding="same"), IMG),
    "max_pool1d_same_s1": ("MaxPooling1D", dict(pool_size=4, strides=1, padding="same"), SEQ),
    "avg_pool1d_same_s1": ("AveragePooling1D", dict(pool_size=3, strides=1, padding="same"),
                           SEQ),
    "global_avg1d": ("GlobalAveragePooling1D", dict(), SEQ),
    "global_avg1d_keepdims": ("GlobalAveragePooling1D", dict(keepdims=True), SEQ),
    "global_avg1d_mask": ("GlobalAveragePooling1D", dict(), SEQ + [(2, 9)], with_mask, None,
                          ["float32", "bool"]),
    "global_max1d": ("GlobalMaxPooling1D", dict(), SEQ),
    "global_avg2d": ("GlobalAveragePooling2D", dict(keepdims=True), IMG),
    "global_max2d": ("GlobalMaxPooling2D", dict(), IMG),
    "relu": ("ReLU", dict(), IMG),
    "relu6": ("ReLU", dict(max_value=6.0), IMG),
    "relu_all": ("ReLU", dict(max_value=1.5, negative_slope=0.1, threshold=0.3), IMG),
    "leaky_relu": ("LeakyReLU", dict(), IMG),
    "leaky_relu_slope": ("LeakyReLU", dict(negative_slope=0.05), IMG),
    "prelu": ("PReLU", dict(), IMG),
    "prelu_shared": ("PReLU", dict(shared_axes=[1, 2]), IMG),
    "elu": ("ELU", dict(alpha=0.7), IMG),
    "softmax": ("Softmax", dict(), SEQ),
    "softmax_axes": ("Softmax", dict(axis=[1, 2]), SEQ),
    "softmax_mask": ("Softmax", dict(axis=1), SEQ + [(2, 9, 1)], with_mask, None,
                     ["float32", "bool"]),
    "mha": ("MultiHeadAttention", dict(num_heads=2, key_dim=3), [(2, 5, 4), (2, 6, 3)], two),
    "mha_causal": ("MultiHeadAttention", dict(num_heads=3, key_dim=2, value_dim=4,
                                              output_shape=7), [(2, 5, 4), (2, 5, 4)], two,
                   dict(use_causal_mask=True)),
    "mha_mask_no_bias": ("MultiHeadAttention", dict(num_heads=2, key_dim=2, use_bias=False),
                         [(2, 4, 3), (2, 6, 3), (2, 4, 6)],
                         lambda layer, xs, **kw: layer(xs[0], xs[1], attention_mask=xs[2],
                                                       **kw), None,
                         ["float32", "float32", "bool"]),
    "attention": ("Attention", dict(), [(2, 4, 3), (2, 5, 3)], as_list),
    "attention_scaled_key": ("Attention", dict(use_scale=True), [(2, 4, 3), (2, 5, 2),
                                                                 (2, 5, 3)], as_list),
    "attention_concat_causal": ("Attention", dict(score_mode="concat", use_scale=True),
                                [(2, 5, 3), (2, 5, 3)], as_list,
                                dict(use_causal_mask=True)),
    "attention_masks": ("Attention", dict(), [(2, 4, 3), (2, 5, 3), (2, 4), (2, 5)],
                        lambda layer, xs, **kw: layer([xs[0], xs[1]], mask=[xs[2], xs[3]],
                                                      **kw), None,
                        ["float32", "float32", "bool", "bool"]),
    "group_norm": ("GroupNormalization", dict(groups=2), [(2, 5, 3, 4)]),
    "group_norm_instance": ("GroupNormalization", dict(groups=-1, epsilon=1e-2), SEQ),
    "group_norm_axis1": ("GroupNormalization", dict(groups=3, axis=1, center=False),
                         [(2, 6, 5)]),
    "normalization": ("Normalization", dict(), IMG),
    "normalization_axes_invert": ("Normalization", dict(axis=(1, 3), invert=True), IMG),
    "normalization_given": ("Normalization", dict(mean=[0.5, -1.0, 2.0],
                                                  variance=[4.0, 0.25, 1.0]), IMG),
    "normalization_none": ("Normalization", dict(axis=None, mean=0.5, variance=2.0), SEQ),
    "multiply_broadcast": ("Multiply", dict(), [(2, 5, 4, 3), (2, 1, 1, 3)], as_list),
    "add_broadcast": ("Add", dict(), [(2, 1, 4, 3), (2, 5, 4, 3)], as_list),
    "hard_silu": ("Activation", dict(activation="hard_silu"), IMG),
    "hard_swish": ("Activation", dict(activation="hard_swish"), IMG),
    "rescaling": ("Rescaling", dict(scale=1 / 127.5, offset=-1), IMG),
    "rescaling_per_channel": ("Rescaling", dict(scale=[0.5, 2.0, -1.0], offset=0.25), IMG),
}


def _case(case_id):
    entry = CASES[case_id] + (None,) * (6 - len(CASES[case_id]))
    name, kwargs, shapes, call, call_kwargs, dtypes = entry
    return name, kwargs, shapes, dict(call=call or (lambda layer, xs, **kw: layer(xs[0], **kw)),
                                      call_kwargs=call_kwargs, dtypes=dtypes)


@pytest.mark.parametrize("case_id", list(CASES))
def test_layer_matches_keras(case_id):
    name, kwargs, shapes, extra = _case(case_id)
    check_twin(keras, name, kwargs, shapes, **extra)


FILE_CASES = ["conv1d_causal_dilated", "conv2d_groups_2", "conv2d_transpose_outpad",
              "depthwise_same_s2_m2", "separable_s2_m2", "upsampling_bilinear", "zero_padding",
              "cropping", "max_pool1d_same", "avg_pool1d", "avg_pool2d_same_s1", "global_avg1d_keepdims",
              "global_max1d", "relu_all", "leaky_relu_slope", "prelu_shared", "elu",
              "softmax_axes", "mha_causal", "attention_scaled_key", "group_norm_axis1",
              "normalization", "normalization_given", "rescaling_per_channel",
              "multiply_broadcast"]


@pytest.mark.parametrize("case_id", FILE_CASES)
def test_keras_files_move_both_ways(tmp_path, case_id):
    name, kwargs, shapes, extra = _case(case_id)
    check_files_both_ways(keras, tmp_path, name, kwargs, shapes, **extra)


@pytest.mark.parametrize("layer", [lambda L: L.Dropout(0.5), lambda L: L.Activation("linear"),
                                   lambda L: L.ZeroPadding2D(0)])
def test_layers_returning_their_input_keep_the_graph(layer):
    """A call that would hand back its input object gives a new tensor: recording the call
    on the input itself would make the functional graph cyclic."""
    import layers_on_graph as lg

    inputs = lg.layers.Input(shape=(4, 4, 2))
    hidden = lg.layers.Conv2D(3, 1)(inputs)
    out = layer(lg.layers)(hidden)
    assert out is not hidden
    model = lg.Model(inputs, lg.layers.Flatten()(out))
    x = np.ones((1, 4, 4, 2), "float32")
    assert model.predict(x, verbose=0).shape == (1, 48)


@pytest.mark.parametrize("axis", [-1, (1, 2), None])
@pytest.mark.parametrize("batched", [False, True])
def test_normalization_adapt_matches_keras(axis, batched):
    import layers_on_graph as lg

    data = np.random.default_rng(1).normal(2.0, 3.0, size=(12, 4, 3)).astype("float32")
    k_layer, ours = keras.layers.Normalization(axis=axis), lg.layers.Normalization(axis=axis)
    k_layer.adapt(data)  # Keras needs TensorFlow to adapt on a list of batches
    ours.adapt([data[:5], data[5:9], data[9:]] if batched else data)
    for a, b in zip(ours.get_weights(), k_layer.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours(data), keras.ops.convert_to_numpy(k_layer(data)),
                               rtol=1e-5, atol=1e-5)


def test_normalization_refuses_bad_statistics():
    import layers_on_graph as lg

    with pytest.raises(ValueError, match="both mean and variance"):
        lg.layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="differ"):
        lg.layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="no data"):
        lg.layers.Normalization().adapt([])


def _attention_model(lib):
    query, value = lib.layers.Input(shape=(5, 4)), lib.layers.Input(shape=(6, 3))
    attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2)(
        query, value)
    out = lib.layers.GroupNormalization(groups=2)(lib.layers.Normalization()(attended))
    return lib.Model([query, value], lib.layers.Dense(2)(out))


def test_attention_weights_h5_both_ways(tmp_path):
    """Keras's .weights.h5 layout (query_dense/key_dense/... groups) read and written."""
    import layers_on_graph as lg

    k_model, ours = _attention_model(keras), _attention_model(lg)
    rng = np.random.default_rng(3)
    k_model.set_weights([rng.normal(size=w.shape).astype(w.dtype) if w.dtype.kind == "f"
                         else w for w in k_model.get_weights()])
    xs = [rng.normal(size=(2, 5, 4)).astype("float32"),
          rng.normal(size=(2, 6, 3)).astype("float32")]
    want = keras.ops.convert_to_numpy(k_model.predict(xs, verbose=0))
    k_model.save_weights(str(tmp_path / "k.weights.h5"))
    ours.load_weights(str(tmp_path / "k.weights.h5"))
    np.testing.assert_allclose(ours.predict(xs, verbose=0), want, rtol=1e-5, atol=1e-5)
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    fresh_keras = _attention_model(keras)
    fresh_keras.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fresh_keras.predict(xs, verbose=0)),
                               want, rtol=1e-5, atol=1e-5)


def _masked_encoder(lib, causal: bool):
    tokens = lib.layers.Input(shape=(6,), dtype="int32")
    embedded = lib.layers.Embedding(9, 4, mask_zero=True)(tokens)
    attended = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3)(
        embedded, embedded, use_causal_mask=causal)
    pooled = lib.layers.GlobalAveragePooling1D()(attended)  # masked mean over the tokens
    return lib.Model(tokens, lib.layers.Dense(2)(pooled))


@pytest.mark.parametrize("causal", [False, True])
def test_attention_uses_embedding_masks_as_keras(causal):
    """Keras masks from Embedding(mask_zero=True) reach MultiHeadAttention (query and value
    masks) and GlobalAveragePooling1D (mean over kept steps), as in Keras."""
    import layers_on_graph as lg

    k_model, ours = _masked_encoder(keras, causal), _masked_encoder(lg, causal)
    rng = np.random.default_rng(5)
    k_model.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in
                         k_model.get_weights()])
    ours.set_weights(k_model.get_weights())
    tokens = np.array([[3, 1, 4, 1, 0, 0], [5, 0, 2, 6, 8, 0], [0, 7, 7, 2, 1, 3]], "int32")
    np.testing.assert_allclose(ours.predict(tokens, verbose=0),
                               keras.ops.convert_to_numpy(k_model.predict(tokens, verbose=0)),
                               rtol=1e-5, atol=1e-5)
