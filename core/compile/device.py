"""Functions whose backend keeps arrays off the host (``device=cuda``): shared values move
to the device once, inputs at each call, outputs back to numpy."""
from __future__ import annotations

from typing import Sequence


def check_placement(backend, shared_inputs: Sequence) -> None:
    """A shared value lives on one device: a function of another backend cannot use it."""
    for sv in shared_inputs:
        if sv._device is not None and sv._device is not backend:
            raise ValueError(f"shared variable {sv} lives on the {sv._device.name} device; a "
                             f"function compiled for the {backend.name} backend cannot use it "
                             f"(compile it with core.config.device={sv._device.name!r})")


def run_on_device(program, backend, shared_inputs: Sequence, checkers: Sequence,
                  borrow: Sequence[bool] = ()) -> None:
    """Put ``shared_inputs``' values on ``backend``'s device and wrap ``program``'s run
    functions: user inputs are checked on the host (device arrays pass as they are),
    moved to the device, and the outputs come back as numpy arrays (borrowed ones, ``Out(v,
    borrow=True)``, stay on the device)."""
    for sv in shared_inputs:
        if sv._device is None:
            sv._value = backend.to_device(sv._value)
            sv._device = backend
    trusted = program.run_trusted
    to_device, to_host, on_device = backend.to_device, backend.to_host, backend.is_device_array

    keep = list(borrow) + [False] * (len(program.fgraph.outputs) - len(borrow))

    def back(outs):
        if not isinstance(outs, list):
            return outs if keep[0] else to_host(outs)
        return [o if kept else to_host(o) for o, kept in zip(outs, keep)]

    def run_trusted(*args):
        return back(trusted(*[a if on_device(a) else to_device(a) for a in args]))

    def run_checked(*args):
        return back(trusted(*[a if on_device(a) else to_device(check(a))
                              for a, check in zip(args, checkers)]))

    program.run_trusted, program.run_checked = run_trusted, run_checked


def set_device_value(sv, value) -> None:
    """``sv.set_value(value)`` for a value on a device: checked on the host, then copied
    into the existing device buffer when shape and dtype are unchanged."""
    backend = sv._device
    if backend.is_device_array(value):
        value = backend.to_host(value)
    data = sv.type.filter(value, what=f"set_value of shared variable {sv.name or sv}")
    current = sv._value
    if tuple(current.shape) == data.shape and current.dtype == data.dtype:
        backend.copy_into(current, data)
    else:
        sv._value = backend.to_device(data)
