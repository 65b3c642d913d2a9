"""``keras.applications`` architectures, built and saved by real Keras 3.15 with random
weights at a small input size, load with ``load_model`` and predict what Keras predicts.

Each model gets random batch-normalization statistics (so that no layer sits at its
identity initialization) and its raw logits (``classifier_activation=None``) are compared
to 1e-4 in float32. The numpy backend runs the predictions: the C backend's kernels are
tested against it op by op elsewhere, and its compile would dominate the run time here.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", minversion="3.0")
if keras.backend.backend() != "torch":
    pytest.skip("keras runs on another backend in this process", allow_module_level=True)

import layers_on_graph as lg  # noqa: E402
from core.config import config  # noqa: E402
from layers_on_graph.saving.keras_operations import KerasOperation  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
A = keras.applications
SMALL = dict(input_shape=(32, 32, 3), weights=None, classes=7, classifier_activation=None)
APPLICATIONS = {
    "MobileNetV2": lambda: A.MobileNetV2(alpha=0.35, **SMALL),
    "MobileNet": lambda: A.MobileNet(alpha=0.25, **SMALL),
    "MobileNetV3Small": lambda: A.MobileNetV3Small(**SMALL),
    "MobileNetV3Large": lambda: A.MobileNetV3Large(minimalistic=True, **SMALL),
    "ResNet50": lambda: A.ResNet50(**SMALL),
    "ResNet50V2": lambda: A.ResNet50V2(**SMALL),
    "DenseNet121": lambda: A.DenseNet121(**SMALL),
    "EfficientNetB0": lambda: A.EfficientNetB0(**SMALL),
    "EfficientNetV2B0": lambda: A.EfficientNetV2B0(**SMALL),
    "ConvNeXtTiny": lambda: A.ConvNeXtTiny(**SMALL),
    "Xception": lambda: A.Xception(**{**SMALL, "input_shape": (71, 71, 3)}),
    "InceptionV3": lambda: A.InceptionV3(**{**SMALL, "input_shape": (75, 75, 3)}),
}
# the largest graphs (about 10 s each to build in Keras and compile here): kept out of the
# default run, run by `make test-slow`
SLOW = {"ConvNeXtTiny", "MobileNetV3Large", "DenseNet121", "EfficientNetV2B0", "Xception",
        "InceptionV3", "ResNet50V2"}
# saved back by us and loaded by Keras too
SAVE_BACK = {"MobileNetV3Small", "ConvNeXtTiny"}


def _randomize_statistics(model, rng):
    """Random moving means/variances and BN scales (and ConvNeXt's layer scales, which start
    at 1e-6): outputs then depend on every layer."""
    for layer in model.layers:
        if type(layer).__name__ == "LayerScale":
            layer.set_weights([rng.normal(0, 0.5, size=w.shape).astype(w.dtype)
                               for w in layer.get_weights()])
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = layer.get_weights()
            new = []
            for w, v in zip(layer.weights, weights):
                kind = w.path.split("/")[-1]
                if kind == "moving_variance":
                    new.append(rng.uniform(0.5, 1.5, size=v.shape).astype(v.dtype))
                elif kind in ("moving_mean", "beta"):
                    new.append(rng.normal(0, 0.1, size=v.shape).astype(v.dtype))
                else:
                    new.append(rng.uniform(0.8, 1.2, size=v.shape).astype(v.dtype))
            layer.set_weights(new)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in APPLICATIONS])
def test_application_loads_and_predicts_as_keras(tmp_path, name):
    rng = np.random.default_rng(0)
    model = APPLICATIONS[name]()
    _randomize_statistics(model, rng)
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    x = rng.uniform(0, 255, size=(2,) + model.input_shape[1:]).astype("float32")
    want = keras.ops.convert_to_numpy(model.predict(x, verbose=0))
    with config.change_flags(backend="numpy"):
        ours = lg.saving.load_model(path)
        got = ours.predict(x, verbose=0)
    # Keras lists its operation nodes (MobileNetV3's x + 3.0) apart from its layers
    assert len([la for la in ours.layers if not isinstance(la, KerasOperation)]) == \
        len(model.layers)
    assert got.shape == want.shape
    assert np.std(want) > 1e-3  # the comparison is not between constants
    tolerance = dict(rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))
    np.testing.assert_allclose(got, want, **tolerance)
    if name in SAVE_BACK:  # models with operation nodes or applications' own layers
        ours.save(str(tmp_path / "ours.keras"))
        back = keras.models.load_model(tmp_path / "ours.keras")
        np.testing.assert_allclose(keras.ops.convert_to_numpy(back.predict(x, verbose=0)),
                                   want, **tolerance)
