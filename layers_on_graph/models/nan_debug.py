"""NaN hunting in ``fit``: find the first layer and line that made the loss NaN.

With ``fit(..., debug_nan=True)`` or a ``callbacks.TerminateOnNaN`` callback, each
training step first copies what the step will overwrite (the weights, the
optimizer's state, BatchNormalization statistics, random states: every update
target of the train function). When a step's loss is NaN or infinite, those
copies are put back, so the model holds the weights of the last good step, and
the failing batch is run again, without updates, under ``core.NanGuardMode``:
the first node that produces NaN or inf names its op, its inputs' ranges, its
layer (the node's scope) and the user's lines.
"""
from __future__ import annotations

import math

import core.tensor as T
from core import NanGuardMode, function
from core.compile.nanguard import NanGuardError
from core.graph.trace import format_trace


def guarded_train_fn(model, callbacks, debug_nan: bool):
    """``model``'s train function, wrapped to snapshot, detect, restore and explain a NaN
    loss when ``debug_nan`` or a debugging ``TerminateOnNaN`` asks for it; else unchanged."""
    from ..callbacks.terminate_on_nan import TerminateOnNaN

    watchers = [cb for cb in (callbacks or []) if isinstance(cb, TerminateOnNaN) and cb.debug]
    fn = model._train_fn
    if not debug_nan and not watchers:
        return fn
    return _NanCatcher(model, fn, watchers, raise_error=debug_nan)


class _NanCatcher:
    def __init__(self, model, fn, watchers: list, raise_error: bool):
        self.model, self.fn, self.watchers, self.raise_error = model, fn, watchers, raise_error
        self.guarded = None  # compiled on the first NaN

    def __call__(self, *batch):
        from ..distribution import host

        host.settle(self.fn)  # (whole weights to save)
        saved = [(sv, sv.get_value()) for sv in self.fn.update_targets]
        outs = self.fn(*batch)
        loss = float(outs[0])
        if math.isfinite(loss):
            return outs
        for sv, value in saved:  # the weights of the last good step, nothing half-done
            sv.set_value(value, borrow=True)
        report = self.explain(batch, loss)
        for cb in self.watchers:
            cb.report = report
        if self.raise_error:
            raise FloatingPointError(report)
        return outs

    def explain(self, batch, loss: float) -> str:
        """Re-run ``batch`` under NanGuardMode (no updates) and describe the first NaN."""
        head = (f"fit: the loss is {loss} on this batch; the model keeps the weights of the last "
                f"good step. Re-run under NanGuardMode:")
        parallel = getattr(self.model, "_built_data_parallel", False)
        if self.guarded is None:
            fn = self.fn
            inputs, outputs = [i.variable for i in fn.ins], fn.maker.outputs
            if parallel:  # this process's batch alone: no collective to leave others in
                inputs, total, params = self.model._local_step
                outputs = _without_collectives(
                    [total] + T.grad(total, params, disconnected_inputs="ignore"))
            self.guarded = function(inputs, outputs,
                                    mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                      big_is_error=False),
                                    on_unused_input="ignore", no_default_updates=True,
                                    name="train (NanGuardMode)")
        try:
            self.guarded(*batch)  # reads the restored weights and random states; updates nothing
            found = None
        except NanGuardError as err:
            found = f"{self.locate(err)}\n{err}"
        if parallel:  # every process saw the global loss: each tells what its slice did
            found = _first_found(found)
        if found is None:
            return f"{head} no NaN or inf appeared (the failure did not repeat)"
        return f"{head} {found}"

    def locate(self, err: NanGuardError) -> str:
        """The layer named by the failing node's scope, with the line that created it."""
        if not err.scope:
            return "the first NaN is outside every layer (the loss, a metric or the optimizer)"
        name = err.scope.split("/")[-1]
        layer = _find_layer(self.model, name)
        if layer is None:
            return f"the first NaN is in layer {name!r}"
        where = format_trace(getattr(layer, "_created_at", None))
        return (f"the first NaN is in layer {name!r} ({type(layer).__name__}), created at "
                f"{where}")


def _without_collectives(outputs: list) -> list:
    """``outputs`` rebuilt with every collective (a synchronized BatchNormalization's
    allreduce) replaced by its input: this process's values alone."""
    from core.graph.utils import toposort
    from core.tensor.collective import AllReduce

    equiv: dict = {}
    for node in toposort(outputs):
        inputs = [equiv.get(i, i) for i in node.inputs]
        if isinstance(node.op, AllReduce):
            equiv[node.outputs[0]] = inputs[0]
        elif any(a is not b for a, b in zip(inputs, node.inputs)):
            for old, new in zip(node.outputs, node.clone_with_new_inputs(inputs).outputs):
                equiv[old] = new
    return [equiv.get(o, o) for o in outputs]


def _first_found(found: str | None) -> str | None:
    """The first process's finding, among all processes' (data parallel)."""
    from ..distribution import runtime

    everyone = runtime.communicator().allgather(found)
    return next((f"(process {k}) {text}" for k, text in enumerate(everyone)
                 if text is not None), None)


def _find_layer(model, name: str):
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop(0)
        if layer.name == name:
            return layer
        stack.extend(getattr(layer, "_layers", []))
    return None
