"""Test-session settings shared by every test directory."""
import os

from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples, so a landing never hinges on
# what a random draw found that day; local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
