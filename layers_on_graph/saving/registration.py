"""``register_keras_serializable``: custom classes and functions found by name at load time.

A registered layer (or loss, metric, schedule, activation) saves under Keras 3's
``registered_name`` ``"package>Name"`` and loads without ``custom_objects``.
"""
from __future__ import annotations

from typing import Any, Callable

# "package>Name" -> object, and the object's registered name back
_REGISTRY: dict[str, Any] = {}
_NAMES: dict[int, str] = {}


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Decorator registering a class or function under ``"package>name"``.

    Examples
    --------
    >>> @saving.register_keras_serializable(package="my_layers")
    ... class Scale(layers.Layer):
    ...     ...
    >>> model = saving.load_model('with_scale.keras')   # no custom_objects needed
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>', "
                         f"got {package!r}")

    def decorator(obj):
        key = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: class {obj.__name__} has no "
                             f"get_config(), so it cannot be saved")
        _REGISTRY[key] = obj
        _NAMES[id(obj)] = key
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """``"package>Name"`` for a registered object, else its ``__name__``."""
    return _NAMES.get(id(obj), getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects: dict | None = None,
                          module_objects: dict | None = None):
    """The object registered (or given in ``custom_objects``) under ``name``, else None."""
    for table in (custom_objects or {}, _REGISTRY, module_objects or {}):
        if name in table:
            return table[name]
    if ">" not in name:  # a bare class name: any package's object of that name
        matches = [obj for key, obj in _REGISTRY.items() if key.split(">", 1)[1] == name]
        if matches:
            return matches[-1]
    return None


def with_registered(custom_objects: dict | None) -> dict:
    """``custom_objects`` plus every registered object, by full and bare name (the
    user's ``custom_objects`` win)."""
    merged = {}
    for key, obj in _REGISTRY.items():
        merged[key.split(">", 1)[1]] = obj
        merged[key] = obj
    merged.update(custom_objects or {})
    return merged


def clear_registry_entry(obj) -> None:
    """Forget ``obj``'s registration (tests use it to leave the registry as they found it)."""
    key = _NAMES.pop(id(obj), None)
    if key is not None:
        _REGISTRY.pop(key, None)
