"""Loading a file never reads another file, and never allocates more than the model's weights.

Every format (Keras 3 ``.weights.h5``, Keras 2 ``.h5``, whole-model ``.h5``, the weights
inside ``.keras``) through every entry point (``load_weights``, ``load_model``) refuses a
file whose kernel was replaced by an indirection out of the file, with a ValueError and the
model's weights unchanged (as Keras 3.15: "Not allowed: H5 file with ExternalLink").
"""
import io
import tracemalloc
import zipfile

import h5py
import numpy as np
import pytest
from saving_models import KINDS, save_as

from layers_on_graph import Input, Sequential, layers, load_model

KERNEL_SHAPE = (4, 3)
SECRET = np.full(KERNEL_SHAPE, 777.0, dtype="float32")


def _model():
    model = Sequential([Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _kernel_path(f: h5py.File) -> str:
    found = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset)
                 and obj.shape == KERNEL_SHAPE else None)
    assert found, "no kernel in the file"
    return "/" + found[0]


def _victims(tmp_path):
    """Another HDF5 file and a raw file, both holding the attacker's numbers."""
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g["secret"] = SECRET
    raw = tmp_path / "other.raw"
    raw.write_bytes(SECRET.astype("<f4").tobytes())
    return other, raw


def _external_link(f, path, other, raw):
    f[path] = h5py.ExternalLink(str(other), "/secret")


def _group_external_link(f, path, other, raw):
    group, leaf = path.rsplit("/", 1)
    with h5py.File(other, "a") as g:
        g.require_group("group")[leaf] = SECRET
    del f[group]
    f[group] = h5py.ExternalLink(str(other), "/group")


def _soft_link(f, path, other, raw):
    f["/elsewhere"] = SECRET
    f[path] = h5py.SoftLink("/elsewhere")


def _virtual_dataset(f, path, other, raw):
    layout = h5py.VirtualLayout(shape=KERNEL_SHAPE, dtype="float32")
    layout[...] = h5py.VirtualSource(str(other), "/secret", shape=KERNEL_SHAPE)
    f.create_virtual_dataset(path, layout)


def _external_storage(f, path, other, raw):
    f.create_dataset(path, shape=KERNEL_SHAPE, dtype="<f4",
                     external=[(str(raw), 0, SECRET.nbytes)])


TAMPER = {"external_link": _external_link, "group_external_link": _group_external_link,
          "soft_link": _soft_link, "virtual_dataset": _virtual_dataset,
          "external_storage": _external_storage}
EXPECT = {"external_link": "ExternalLink", "group_external_link": "ExternalLink",
          "soft_link": "SoftLink", "virtual_dataset": "virtual Dataset",
          "external_storage": "external Dataset"}


def _edit_h5(path, kind, edit):
    """Apply ``edit(h5file)`` to the file's HDF5 (inside the zip for '.keras')."""
    if kind != "keras":
        with h5py.File(path, "a") as f:
            edit(f)
        return
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        edit(f)
    members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _replace_kernel(path, kind, fn) -> str:
    """Replace the first Dense kernel by ``fn(h5file, kernel_path)``; returns the path."""
    where = []

    def edit(f):
        where.append(_kernel_path(f))
        del f[where[0]]
        fn(f, where[0])
    _edit_h5(path, kind, edit)
    return where[0]


def _loaders(kind):
    out = [("load_weights", lambda model, path: model.load_weights(path))]
    if kind in ("model_h5", "keras"):
        out.append(("load_model", lambda model, path: load_model(path)))
    return out


@pytest.mark.parametrize("tamper", list(TAMPER))
@pytest.mark.parametrize("kind", list(KINDS))
def test_indirection_out_of_the_file_is_refused(tmp_path, kind, tamper):
    other, raw = _victims(tmp_path)
    path = tmp_path / KINDS[kind]
    save_as(_model(), path, kind)
    kernel = _replace_kernel(path, kind,
                             lambda f, kernel: TAMPER[tamper](f, kernel, other, raw))
    if kind != "keras":  # the crafted file really reads the other file's numbers
        with h5py.File(path, "r") as f:
            np.testing.assert_array_equal(f[kernel][()], SECRET)
    for entry, load in _loaders(kind):
        model = _model()
        before = model.get_weights()
        with pytest.raises(ValueError, match=f"Not allowed: H5 file with {EXPECT[tamper]}"):
            load(model, path)
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_untampered_file_still_loads(tmp_path, kind):
    path = tmp_path / KINDS[kind]
    source = _model()
    source.layers[0].kernel.set_value(np.arange(12.0).reshape(KERNEL_SHAPE).astype(
        source.layers[0].kernel.dtype))
    save_as(source, path, kind)
    for _, load in _loaders(kind):
        model = _model()
        loaded = load(model, path) or model
        np.testing.assert_array_equal(loaded.layers[0].kernel.get_value(),
                                      source.layers[0].kernel.get_value())


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_huge_compressed_dataset_is_refused_from_its_metadata(tmp_path, kind):
    """A 16 KB file declaring a (50000, 50000) array: refused before any data is read."""
    path = tmp_path / KINDS[kind]
    save_as(_model(), path, kind)
    _replace_kernel(path, kind, lambda f, kernel: f.create_dataset(
        kernel, shape=(50000, 50000), dtype="float32", chunks=(1000, 1000), compression="gzip"))
    assert path.stat().st_size < 200_000
    model = _model()
    before = model.get_weights()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"\(50000, 50000\).*\(4, 3\)"):
            model.load_weights(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2 ** 20, f"allocated {peak / 2 ** 20:.0f} MiB"
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_zip_bomb_member_of_a_keras_archive_is_refused_before_reading(tmp_path, monkeypatch):
    from layers_on_graph.saving import model_io

    monkeypatch.setattr(model_io, "ZIP_BOMB_FLOOR", 1 << 20)  # 1 MiB instead of 256 MiB
    path = tmp_path / "m.keras"
    save_as(_model(), path, "keras")
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data + (b"\0" * (4 << 20) if name == "model.weights.h5" else b""))
    for load in (lambda: _model().load_weights(path), lambda: load_model(path)):
        with pytest.raises(ValueError, match="Not allowed: the member 'model.weights.h5'.*"
                                             "decompression bomb"):
            load()


def test_a_dataset_of_the_wrong_dtype_is_refused_before_reading(tmp_path):
    path = tmp_path / "w.weights.h5"
    save_as(_model(), path, "keras3")
    _replace_kernel(path, "keras3", lambda f, kernel: f.create_dataset(
        kernel, data=np.array([[b"x" * 8] * 3] * 4)))
    model = _model()
    with pytest.raises(ValueError, match=r"dtype \|S8"):
        model.load_weights(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    model = _model()
    for name in ("gone.weights.h5", "gone.h5", "gone.keras"):
        with pytest.raises(FileNotFoundError, match="no such file"):
            model.load_weights(tmp_path / name)
    for name in ("gone.h5", "gone.keras"):
        with pytest.raises(FileNotFoundError, match="no such file"):
            load_model(tmp_path / name)
