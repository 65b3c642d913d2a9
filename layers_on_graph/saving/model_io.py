"""Whole-model and weights files: ``save_model``/``load_model``, ``save_weights``/
``load_weights``, ``to_json``/``model_from_json``.

Formats, chosen by the file name:

- ``.keras``: Keras 3's zip (``config.json``, ``metadata.json``, ``model.weights.h5``).
- ``.h5`` / ``.hdf5`` whole model: the legacy Keras layout (``model_config``,
  ``training_config``, ``model_weights``, ``optimizer_weights``).
- ``.weights.h5``: Keras 3's weights layout; Keras 2's weights layout is read from any
  ``.h5`` and written with ``save_weights(..., legacy_format=True)``.

Every load reads and checks the whole file before it assigns anything; every save
writes a temporary file and renames it. Nothing is pickled, and nothing from the
file is executed unless ``safe_mode=False``.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile

import h5py

from . import h5_safety, legacy_h5, weights_h5
from ..distribution.host import is_writer
from .atomic import atomic_path
from .deserialization import model_from_config
from .registration import with_registered
from .serialization import model_config, model_entry, serialize_value

FORMAT_VERSION = "layers_on_graph 0.1"


# ----- weights -----
def save_weights(model, filepath, overwrite: bool = True, legacy_format: bool = False) -> None:
    """Save ``model``'s weights in Keras 3's layout (the filename must end in '.weights.h5').

    ``legacy_format=True`` writes Keras 2's ``save_weights`` layout instead (any '.h5' name),
    for tools that read only that.

    Examples
    --------
    >>> save_weights(model, 'mlp.weights.h5')
    """
    filepath = os.fspath(filepath)
    if legacy_format:
        if not filepath.endswith((".h5", ".hdf5")) or filepath.endswith(".weights.h5"):
            raise ValueError(f"save_weights: a Keras 2 layout file must end in '.h5' (not "
                             f"'.weights.h5'), got {filepath!r}")
    elif not filepath.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the filename must end in '.weights.h5', got "
                         f"{filepath!r} (legacy_format=True writes Keras 2's '.h5' layout)")
    if not is_writer():  # data parallel: process 0 writes the file
        return
    with atomic_path(filepath, overwrite) as tmp, h5py.File(tmp, "w") as f:
        if legacy_format:
            legacy_h5.write_weights(f, model.layers, FORMAT_VERSION)
        else:
            weights_h5.write(f, model)


def _must_exist(filepath: str, what: str) -> None:
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"{what}: no such file {filepath!r}")


def _open_h5(filepath: str, what: str) -> h5py.File:
    """The file opened for reading, after refusing any link or data outside it."""
    _must_exist(filepath, what)
    try:
        f = h5py.File(filepath, "r")
    except OSError as err:
        raise ValueError(f"{what}: cannot open {filepath!r} as HDF5: the file is truncated, "
                         f"corrupt or not an HDF5 file ({err})") from err
    try:
        _guard(lambda: h5_safety.check_self_contained(f, filepath, what), filepath)
    except BaseException:
        f.close()
        raise
    return f


# A member that expands to more than this, and to more than ZIP_MAX_EXPANSION times what it
# stores, is a decompression bomb: this library stores members uncompressed (ratio 1).
ZIP_BOMB_FLOOR = 1 << 28  # 256 MiB
ZIP_MAX_EXPANSION = 100


class _Refused(ValueError):
    """A file refused as unsafe (not as corrupt)."""


def _zip_member(z: zipfile.ZipFile, name: str, filepath: str, what: str) -> bytes:
    """A member's bytes, after checking its declared size against what it stores."""
    info = z.getinfo(name)
    if info.file_size > ZIP_BOMB_FLOOR and info.file_size > ZIP_MAX_EXPANSION * info.compress_size:
        raise _Refused(f"{what}: Not allowed: the member {name!r} of {filepath!r} declares "
                       f"{info.file_size} bytes but stores {info.compress_size}; refusing a "
                       f"decompression bomb")
    return z.read(name)


def _read_keras_zip(filepath: str, what: str) -> tuple[dict, bytes]:
    _must_exist(filepath, what)
    try:
        with zipfile.ZipFile(filepath) as z:
            config = json.loads(_zip_member(z, "config.json", filepath, what).decode("utf8"))
            weights = _zip_member(z, "model.weights.h5", filepath, what)
    except _Refused:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise ValueError(f"{what}: cannot read {filepath!r} as a .keras archive: the file is "
                         f"truncated or corrupt ({err})") from err
    return config, weights


def _pending_weights(f: h5py.Group, model, by_name: bool, skip_mismatch: bool) -> list:
    if "model_weights" in f:
        f = f["model_weights"]
    if legacy_h5.is_legacy(f):
        return legacy_h5.read_weights(f, model.layers, by_name, skip_mismatch)
    if by_name:
        raise ValueError("load_weights: by_name=True needs a Keras 2 layout '.h5' file; the "
                         "Keras 3 '.weights.h5' layout is loaded by structure")
    if weights_h5.is_weights_h5(f):
        return weights_h5.read(f, model, skip_mismatch)
    raise ValueError(f"load_weights: {f.file.filename!r} is an HDF5 file but holds no weights "
                     f"in a known layout (no 'layers' group, no 'layer_names' attribute)")


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Load weights saved here or by Keras (3 ``.weights.h5``, 2 ``.h5``, ``.keras``, legacy
    whole-model ``.h5``); all checks pass before any weight changes.

    Examples
    --------
    >>> load_weights(model, 'mlp.weights.h5')
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        _, data = _read_keras_zip(filepath, "load_weights")
        pending = _guard(lambda: _read_h5_bytes(
            data, lambda f: _pending_weights(f, model, by_name, skip_mismatch), filepath,
            "load_weights"), filepath)
    else:
        with _open_h5(filepath, "load_weights") as f:
            pending = _guard(lambda: _pending_weights(f, model, by_name, skip_mismatch),
                             filepath)
    _assign(pending)


def _read_h5_bytes(data: bytes, fn, filepath: str, what: str):
    """``fn`` applied to the HDF5 file held in ``data`` (a ``.keras`` archive's weights)."""
    with h5py.File(io.BytesIO(data), "r") as f:
        h5_safety.check_self_contained(f, f"{filepath}/model.weights.h5", what)
        return fn(f)


def _guard(fn, filepath: str):
    """Run a read; low-level h5py failures (corrupt metadata) become ValueError."""
    try:
        return fn()
    except (OSError, RuntimeError, KeyError) as err:
        raise ValueError(f"cannot read {filepath!r}: the file is truncated or corrupt "
                         f"({type(err).__name__}: {err})") from err


def _assign(pending: list) -> None:
    for var, value in pending:
        var.set_value(value)


# ----- architecture -----
def to_json(model, **json_kwargs) -> str:
    """The model's architecture as Keras-style JSON (no weights)."""
    return json.dumps(model_entry(model), **json_kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None,
                    safe_mode: bool = True):
    """A new model (fresh weights) from ``to_json``'s (or Keras's) JSON."""
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as err:
        raise ValueError(f"model_from_json: not valid JSON ({err})") from err
    return model_from_config(config, custom_objects, safe_mode)


# ----- training configuration -----
def _named(obj, where: str, module: str):
    """A loss or metric argument as Keras serializes it: a name, or a class dict."""
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_named(o, where, module) for o in obj]
    if isinstance(obj, dict):
        return {k: _named(v, where, module) for k, v in obj.items()}
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"module": module, "class_name": type(obj).__name__,
                "config": serialize_value(obj.get_config(), where), "registered_name": None}
    name = getattr(obj, "__name__", None)
    if name is None:
        raise TypeError(f"save: cannot serialize the {where} {obj!r}")
    return name


def _resolve_named(value, module, custom_objects: dict):
    if isinstance(value, list):
        return [_resolve_named(v, module, custom_objects) for v in value]
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if isinstance(value, dict) and "class_name" in value:
        name = value["class_name"]
        cls = custom_objects.get(name) or getattr(module, name, None)
        if cls is None:
            raise ValueError(f"load_model: unknown {module.__name__.split('.')[-1]} {name!r}; "
                             f"pass it in custom_objects")
        config = dict(value.get("config") or {})
        return cls(**{k: v for k, v in config.items() if k not in ("dtype", "fn")})
    if isinstance(value, dict):
        return {k: _resolve_named(v, module, custom_objects) for k, v in value.items()}
    return value


def training_config(model) -> dict | None:
    """Compile arguments and the optimizer's config, or None when not compiled."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    opt = model.optimizer
    return {"loss": _named(model._loss_arg, "loss", "keras.losses"),
            "metrics": _named(model._metrics_arg, "metric", "keras.metrics"),
            "loss_weights": _named(model._loss_weights_arg, "loss weights", "keras.losses"),
            "optimizer_config": {"class_name": type(opt).__name__,
                                 "config": serialize_value(opt.get_config(), "optimizer")}}


def _keras2_optimizer_config(config: dict, name: str) -> dict:
    """Keras 2's optimizer keys in Keras 3's terms ('lr' -> 'learning_rate'; no 'decay')."""
    if "lr" in config:
        config.setdefault("learning_rate", config.pop("lr"))
    decay = config.pop("decay", 0.0)
    if decay:
        raise ValueError(f"load_model: the {name} optimizer in the file uses Keras 2's "
                         f"learning-rate decay={decay}, which Keras 3 and this library replace "
                         f"by schedules; load with compile=False and compile again")
    return config


def _compile_from(model, config: dict, custom_objects: dict) -> None:
    from .. import losses, metrics, optimizers

    opt_config = config.get("optimizer_config") or config.get("optimizer")
    if isinstance(opt_config, str):
        optimizer = optimizers.get(opt_config)
    else:
        name = opt_config["class_name"]
        cls = custom_objects.get(name) or getattr(optimizers, name, None)
        if cls is None:
            raise ValueError(f"load_model: unknown optimizer {name!r}; pass it in "
                             f"custom_objects")
        optimizer = cls.from_config(_keras2_optimizer_config(dict(opt_config.get("config")
                                                                  or {}), name))
    model.compile(optimizer=optimizer,
                  loss=_resolve_named(config.get("loss"), losses, custom_objects),
                  metrics=_resolve_named(config.get("metrics"), metrics, custom_objects),
                  loss_weights=config.get("loss_weights"))
    if model._io_ready() and model._train_fn is None:
        model._build_functions()


# ----- whole model -----
def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Save architecture, weights and (when compiled) training config and optimizer state.

    ``.keras``: Keras 3's zip; ``.h5``/``.hdf5``: the legacy Keras whole-model layout.

    Examples
    --------
    >>> save_model(model, 'mlp.keras'); model = load_model('mlp.keras')
    """
    filepath = os.fspath(filepath)
    if not is_writer():  # data parallel: process 0 writes the file
        return
    config = model_config(model)
    train = training_config(model) if include_optimizer else None
    if filepath.endswith(".keras"):
        _save_keras_zip(model, filepath, overwrite, train)
    elif filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        _save_legacy_h5(model, filepath, overwrite, config, train)
    else:
        raise ValueError(f"save: the filename must end in '.keras' or '.h5', got {filepath!r} "
                         f"(use save_weights for '.weights.h5')")


def _save_legacy_h5(model, filepath, overwrite, config, train) -> None:
    with atomic_path(filepath, overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["backend"] = "layers_on_graph"
        f.attrs["keras_version"] = FORMAT_VERSION
        legacy_h5.write_weights(f.create_group("model_weights"), model.layers, FORMAT_VERSION)
        if train is not None:
            f.attrs["training_config"] = json.dumps(train)
            if model.optimizer._built_for is not None:
                legacy_h5.write_optimizer(f, weights_h5.optimizer_variables(model.optimizer),
                                          model.optimizer.name)


def _save_keras_zip(model, filepath, overwrite, train) -> None:
    full = model_entry(model)
    if train is not None:
        opt = train["optimizer_config"]
        full["compile_config"] = {
            "optimizer": {"module": "keras.optimizers", "class_name": opt["class_name"],
                          "config": opt["config"], "registered_name": None},
            "loss": train["loss"], "loss_weights": train["loss_weights"],
            "metrics": train["metrics"]}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        weights_h5.write(f, model, include_optimizer=train is not None)
    metadata = {"keras_version": FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with atomic_path(filepath, overwrite) as tmp, zipfile.ZipFile(tmp, "w") as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(full))
        z.writestr("model.weights.h5", buffer.getvalue())


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True):
    """A model from a ``.keras`` or whole-model ``.h5`` file (this library's or Keras's).

    With ``compile=True`` a model saved compiled is compiled again and its optimizer's
    state restored, so ``fit`` resumes. ``safe_mode=True`` refuses code stored in the
    file (a ``Lambda``'s bytecode).

    Examples
    --------
    >>> model = load_model('mlp.keras'); model.predict(x)
    """
    filepath = os.fspath(filepath)
    custom_objects = with_registered(custom_objects)
    if filepath.endswith(".keras"):
        config, data = _read_keras_zip(filepath, "load_model")
        model = model_from_config(config, custom_objects, safe_mode)
        train = config.get("compile_config") if compile else None

        def read(f):
            pending = weights_h5.read(f, model)
            if train:
                _compile_from(model, train, custom_objects)
                pending += weights_h5.read_optimizer(f, model.optimizer)
            return pending

        _assign(_guard(lambda: _read_h5_bytes(data, read, filepath, "load_model"), filepath))
        return model
    with _open_h5(filepath, "load_model") as f:
        return _guard(lambda: _load_legacy_h5(f, filepath, custom_objects, compile, safe_mode),
                      filepath)


def _load_legacy_h5(f, filepath, custom_objects, compile, safe_mode):
    raw = f.attrs.get("model_config")
    if raw is None:
        raise ValueError(f"load_model: {filepath!r} has no 'model_config' attribute; it holds "
                         f"only weights: build the model in code and call load_weights")
    if isinstance(raw, bytes):
        raw = raw.decode("utf8")
    model = model_from_json(raw, custom_objects, safe_mode)
    pending = legacy_h5.read_weights(f["model_weights"], model.layers)
    train = f.attrs.get("training_config") if compile else None
    if train is not None:
        train = json.loads(train.decode("utf8") if isinstance(train, bytes) else train)
        _compile_from(model, train, custom_objects)
        if model.optimizer._built_for is not None:
            pending += legacy_h5.read_optimizer(
                f, weights_h5.optimizer_variables(model.optimizer), model.optimizer.name)
    _assign(pending)
    return model
