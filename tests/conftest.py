"""Test-session settings shared by every test directory."""
import os

import pytest
from hypothesis import settings

# Real Keras is the oracle of the parity tests; it runs on the PyTorch CPU build the test
# extra installs.
os.environ.setdefault("KERAS_BACKEND", "torch")

# CI runs the property tests on a fixed sequence of examples, so a landing never hinges on
# what a random draw found that day; local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def numpy_backend():
    """Compile with the numpy (reference) backend: core semantics are checked there, and
    every C kernel is tested against it."""
    from core.config import config

    with config.change_flags(backend="numpy"):
        yield
