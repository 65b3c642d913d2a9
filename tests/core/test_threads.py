"""core.config.threads limits BLAS and the C backend's OpenMP loops."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.config import config

threadpoolctl = pytest.importorskip("threadpoolctl")


def _limits(api: str) -> set:
    return {lib["num_threads"] for lib in threadpoolctl.threadpool_info()
            if lib["user_api"] == api}


def test_threads_flag_limits_blas_and_openmp_and_restores():
    before = _limits("blas")
    x = T.dmatrix("x")
    f = function([x], T.exp(x).sum() + T.dot(x, x).sum())
    data = np.ones((600, 600))
    with config.change_flags(threads=1):
        f(data)  # loads the C module (and the OpenMP runtime) after the limit was set
        assert _limits("blas") <= {1}
        assert _limits("openmp") <= {1}
        with config.change_flags(threads=2):
            assert _limits("blas") <= {2}
        assert config.threads == 1
        assert _limits("blas") <= {1}
    assert config.threads == 0
    assert _limits("blas") == before


def test_threads_flag_rejects_bad_values():
    with pytest.raises(ValueError, match="threads"):
        config.threads = -1
    with pytest.raises(ValueError, match="threads"):
        config.threads = "many"
    assert config.threads == 0
