"""The optimizer is tested on the numpy reference backend (fast to build, no C compiler calls)."""
import pytest

from core.config import config


@pytest.fixture(autouse=True, scope="module")
def numpy_backend():
    old = config.backend
    config.backend = "numpy"
    yield
    config.backend = old
