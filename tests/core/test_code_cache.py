"""The cache of generated Python code objects: damage is said once and compiled again."""
import marshal
import os

import pytest

from core.compile import code_cache
from core.config import config

SOURCE = "def f(x):\n    return 2 * x + 1\n"


def _cached_path(tmp_path):
    with config.change_flags(compiledir=str(tmp_path)):
        code_cache._memory.clear()
        code_cache.compile_cached(SOURCE, "<test>")
    [folder] = os.listdir(tmp_path / "py")
    [name] = os.listdir(tmp_path / "py" / folder)
    return tmp_path / "py" / folder / name


def _run(tmp_path):
    code_cache._memory.clear()
    with config.change_flags(compiledir=str(tmp_path)):
        namespace: dict = {}
        exec(code_cache.compile_cached(SOURCE, "<test>"), namespace)
    return namespace["f"](3)


@pytest.mark.parametrize("damage", ["empty", "truncated", "random", "a_value", "folder"])
def test_damaged_entries_warn_and_compile_again(tmp_path, damage):
    path = _cached_path(tmp_path)
    data = path.read_bytes()
    if damage == "folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes({"empty": b"", "truncated": data[:len(data) // 2],
                          "random": os.urandom(64), "a_value": marshal.dumps(5)}[damage])
    with pytest.warns(RuntimeWarning, match="compile cache"):
        assert _run(tmp_path) == 7
    assert _run(tmp_path) == 7  # rebuilt: no second warning
    assert isinstance(marshal.loads(path.read_bytes()), type(_run.__code__))


def test_a_whole_entry_is_reused(tmp_path, recwarn):
    _cached_path(tmp_path)
    assert _run(tmp_path) == 7
    assert not [w for w in recwarn if "compile cache" in str(w.message)]
