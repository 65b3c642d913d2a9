"""The backend seam: a registry of Backend objects; numpy needs nothing but numpy."""
import json
import subprocess
import sys

import numpy as np
import pytest

from backends import Backend, Kernel, default_backend, get_backend, register_backend
from core import config, function
import core.tensor as T


def test_registry_holds_one_backend_object_per_name():
    for name in ("numpy", "c", "cuda"):
        backend = get_backend(name)
        assert isinstance(backend, Backend) and backend.name == name
        assert get_backend(name) is backend
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        get_backend("nope")


def _scratch_registry(monkeypatch):
    """Backends registered by a test are gone after it."""
    import backends.registry as registry

    monkeypatch.setattr(registry, "_LOADERS", dict(registry._LOADERS))
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))


def test_a_registered_backend_compiles_functions(monkeypatch):
    seen = []

    class Tracing(Backend):
        name = "tracing"

        def make_kernels(self, nodes, lazy=True):
            seen.extend(type(n.op).__name__ for n in nodes)
            return get_backend("numpy").make_kernels(nodes)

    _scratch_registry(monkeypatch)
    register_backend("tracing", Tracing)
    x = T.dvector("x")
    with config.change_flags(backend="tracing"):  # a registered name is a backend choice
        f = function([x], T.exp(x) * 2)
    np.testing.assert_allclose(f(np.zeros(3)), [2.0, 2.0, 2.0])
    assert seen
    with config.change_flags(backend="nope"), pytest.raises(ValueError, match="backend name"):
        function([x], x + 1)


def test_kernels_are_objects_whose_capabilities_the_linker_asks_for():
    x, m = T.dvector("x"), T.dmatrix("m")
    nodes = function([x, m], [T.tanh(x) * 3 + 1, T.dot(m, x)]).maker.fgraph.toposort()
    for kernel in get_backend("numpy").make_kernels(nodes):
        assert isinstance(kernel, Kernel) and kernel.runs == "numpy"
        assert kernel.bind_slot is None and kernel.native is None
    if not get_backend("c").available():
        pytest.skip("the C backend cannot run here")
    by_op = {type(n.op).__name__: k for n, k in zip(nodes, get_backend("c").make_kernels(nodes))}
    fused, product = by_op["Elemwise"], by_op["Dot"]
    assert fused.runs == "c" and fused.bind_slot is not None and fused.native is not None
    assert product.runs == "numpy" and product.native is None  # matrix-vector: numpy's BLAS
    timed = fused.wrapped(lambda *a: fused(*a))  # a wrapper keeps the label, no capability
    assert timed.runs == "c" and timed.bind_slot is None and timed.native is None


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_numpy_backend_imports_nothing_from_the_c_backend():
    code = ("import sys, numpy as np, core.tensor as T; from core import function, config\n"
            "config.backend = 'numpy'\n"
            "x = T.dmatrix('x'); f = function([x], T.nnet.softmax(x).sum())\n"
            "f(np.ones((2, 3)))\n"
            "print(sorted(m for m in sys.modules if m.startswith('backends.c')))")
    assert _python(code) == "[]"


def test_numpy_backend_runs_scan_and_gradients_with_the_c_backend_unimportable():
    # the scan driver and its buffer reuse are numpy's own: backends.c may be missing
    code = ("import sys; sys.modules['backends.c'] = None\n"
            "import numpy as np, core.tensor as T; from core import function, config, scan\n"
            "config.backend = 'numpy'\n"
            "x = T.dmatrix('x')\n"
            "ys, _ = scan(lambda r, acc: acc + T.tanh(r), sequences=x,\n"
            "             outputs_info=T.zeros_like(x[0]))\n"
            "cost = ys[-1].sum() + T.nnet.softmax(x).sum()\n"
            "c, g = function([x], [cost, T.grad(cost, x)])(np.ones((3, 2)))\n"
            "print(repr(float(c)), g.tolist())")
    cost, grad = _python(code).split(" ", 1)
    assert float(cost) == pytest.approx(6 * np.tanh(1.0) + 3, rel=1e-12)
    np.testing.assert_allclose(json.loads(grad), np.full((3, 2), 1 - np.tanh(1.0) ** 2),
                               rtol=1e-12)  # the softmax rows sum to 1: no gradient


def test_library_runs_without_cffi():
    # cffi made unimportable: the C backend is unavailable, numpy runs, one warning says why
    code = ("import sys; sys.modules['cffi'] = None\n"
            "import warnings, numpy as np, core.tensor as T; from core import function\n"
            "from backends import default_backend\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    x = T.dvector('x'); f = function([x], T.exp(x) + 1)\n"
            "print(default_backend('FAST_RUN'), f(np.zeros(3)).tolist(), "
            "any('needs cffi' in str(m.message) for m in w))")
    assert _python(code) == "numpy [2.0, 2.0, 2.0] True"


def test_debug_mode_without_cffi_checks_the_numpy_kernels():
    code = ("import sys; sys.modules['cffi'] = None\n"
            "import warnings, numpy as np, core.tensor as T; from core import function\n"
            "warnings.simplefilter('ignore')\n"
            "x = T.dvector('x'); f = function([x], T.exp(x) + 1, mode='DebugMode')\n"
            "print(f(np.zeros(3)).tolist())")
    assert _python(code) == "[2.0, 2.0, 2.0]"


def test_device_cuda_without_cupy_or_gpu_says_which_is_missing():
    reason = get_backend("cuda").unavailable_reason()
    if reason is None:
        pytest.skip("a usable GPU is present")
    x = T.dvector("x")
    with config.change_flags(device="cuda"):
        with pytest.raises(RuntimeError, match="device='cuda': cupy is") as info:
            function([x], x + 1)
    assert ("not installed" in str(info.value)) or ("no CUDA GPU" in str(info.value))


class DeviceArray(np.ndarray):
    """Stands for an array in a device's memory."""


class FakeDevice(Backend):
    """A backend off the host: its arrays are DeviceArrays; kernels check they get them."""

    name = "fake-device"
    on_host = False

    def make_kernels(self, nodes, lazy=True):
        def on_device(kernel, node):
            def run(*args):
                assert all(type(a) is DeviceArray for a, v in zip(args, node.inputs)
                           if not hasattr(v, "data")), f"{node.op} got a host array"
                out = kernel(*args)
                wrap = lambda o: np.asarray(o).view(DeviceArray)  # noqa: E731
                return tuple(map(wrap, out)) if isinstance(out, tuple) else wrap(out)
            return run

        numpy = get_backend("numpy")
        return [Kernel(on_device(numpy.make_kernel(n).fn, n), "fake-device") for n in nodes]

    def to_device(self, array):
        return np.array(array).view(DeviceArray)

    def to_host(self, array):
        return np.array(array).view(np.ndarray)

    def is_device_array(self, value):
        return type(value) is DeviceArray


@pytest.fixture
def on_fake_device(monkeypatch):
    """Functions compile for FakeDevice; gives a shared ``w`` (ones(3)) and a vector ``x``."""
    from core import shared

    _scratch_registry(monkeypatch)
    register_backend("fake-device", FakeDevice)
    monkeypatch.setattr("backends.default_backend", lambda mode: "fake-device")
    return shared(np.ones(3), name="w"), T.dvector("x")


def test_a_device_backend_keeps_shared_values_there_and_moves_inputs_and_outputs(
        monkeypatch, on_fake_device):
    w, x = on_fake_device
    f = function([x], [x * w, T.sum(w)], updates=[(w, w * 2)])
    assert type(w.get_value(return_internal_type=True)) is DeviceArray
    out, total = f(np.arange(3.0))
    assert type(out) is np.ndarray and out.tolist() == [0.0, 1.0, 2.0] and total == 3.0
    assert type(w.get_value()) is np.ndarray and w.get_value().tolist() == [2.0, 2.0, 2.0]
    buffer = w.get_value(return_internal_type=True)
    w.set_value(np.full(3, 5.0))  # same shape: copied into the device buffer
    assert w.get_value(return_internal_type=True) is buffer and buffer.tolist() == [5.0] * 3
    out, _ = f(np.ones(3).view(DeviceArray))  # a device input is used as it is
    assert out.tolist() == [5.0] * 3
    f.trust_input = True
    assert f(np.ones(3))[0].tolist() == [10.0] * 3

    monkeypatch.setattr("backends.default_backend", lambda mode: "numpy")
    with pytest.raises(ValueError, match="lives on the fake-device device"):
        function([x], x * w)


def test_borrowed_outputs_stay_on_the_device_and_others_come_back(on_fake_device):
    from core import Out

    w, x = on_fake_device
    f = function([x], [Out(x * w, borrow=True), x + w, Out(w, borrow=True), w])
    kept, back, buffer, copied = f(np.arange(3.0))
    assert type(kept) is DeviceArray and kept.tolist() == [0.0, 1.0, 2.0]
    assert type(back) is np.ndarray and back.tolist() == [1.0, 2.0, 3.0]
    assert buffer is w.get_value(return_internal_type=True)  # borrowed: no copy
    assert type(copied) is np.ndarray and copied.tolist() == [1.0] * 3
    single = function([x], Out(x * 2, borrow=True))
    assert type(single(np.ones(3))) is DeviceArray
