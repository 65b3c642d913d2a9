"""core.config: floatX and friends from LAYERS_ON_GRAPH_FLAGS and from code."""
import os
import subprocess
import sys

import numpy as np
import pytest

import core.tensor as T
from core import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code: str, flags: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("LAYERS_ON_GRAPH_FLAGS", None)
    if flags is not None:
        env["LAYERS_ON_GRAPH_FLAGS"] = flags
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_floatx_from_the_environment():
    code = ("import core.tensor as T; from core import config, shared; "
            "print(config.floatX, T.matrix().dtype, T.scalar().dtype, "
            "(T.fmatrix() * 2.0).dtype, T.as_tensor_variable(1.5).dtype, config.device)")
    assert _run(code, "floatX=float32,device=cpu").stdout.split() == [
        "float32", "float32", "float32", "float32", "float32", "cpu"]
    assert _run(code, None).stdout.split()[:3] == ["float64", "float64", "float64"]


def test_bad_flags_are_a_clear_error():
    result = _run("import core", "floatX")
    assert result.returncode != 0 and "LAYERS_ON_GRAPH_FLAGS: cannot parse 'floatX'" in result.stderr
    result = _run("import core", "floatX=int8")
    assert "floatX must be one of" in result.stderr


def test_floatx_in_code(monkeypatch):
    monkeypatch.setattr(config, "floatX", "float32")
    assert T.matrix("m").dtype == "float32"
    assert T.cast(T.dvector(), "floatX").dtype == "float32"
    assert T.TensorType("floatX", (None,)).dtype == "float32"
    assert T.constant(0.5).dtype == "float32" and T.constant(np.float64(0.5)).dtype == "float64"
    assert (T.fvector() * T.constant(2.0)).dtype == "float32"
    monkeypatch.setattr(config, "floatX", "float64")
    assert T.matrix("m").dtype == "float64"


def test_flags_validation():
    with pytest.raises(ValueError, match="device must be one of"):
        config.device = "tpu"
    with pytest.raises(AttributeError, match="no flag 'floatx'"):
        config.floatx
    assert config.mode in ("FAST_RUN", "FAST_COMPILE")


def test_change_flags_restores_even_after_an_error():
    before, backend = config.floatX, config.backend
    with pytest.raises(RuntimeError):
        with config.change_flags(floatX="float32", backend="numpy"):
            assert T.matrix().dtype == "float32" and config.backend == "numpy"
            raise RuntimeError("boom")
    assert config.floatX == before and config.backend == backend
    with pytest.raises(ValueError, match="floatX must be one of"):
        with config.change_flags(floatX="int8"):
            pass
    assert config.floatX == before


def test_monkeypatch_restores_the_previous_value():
    code = ("import pytest; from core import config; mp = pytest.MonkeyPatch(); "
            "mp.setattr(config, 'floatX', 'float64'); mp.undo(); print(config.floatX)")
    assert _run(code, "floatX=float32").stdout.strip() == "float32"


def test_device_takes_cpu_or_cuda_only():
    with config.change_flags(device="cuda"):
        assert config.device == "cuda"
    with pytest.raises(ValueError, match="device must be one of"):
        config.device = "tpu"
    assert config.device == "cpu"
