"""``fit``/``evaluate``/``predict`` over generators and PyDatasets (``data_adapters.Stream``).

Each batch is checked and converted by the same code as array data
(``Trainer._prepare``), then fed to the model's compiled functions; nothing
recompiles between batches. Under data parallelism each batch is a global batch: every
process must read the same stream, and takes its slice of each batch.
"""
from __future__ import annotations

import numpy as np

from ..callbacks import CallbackList
from ..distribution import host as dist_host
from ..utils.random import get_rng
from . import nan_debug
from .data_adapters import Stream, is_stream, unpack


def fit_stream(model, train, epochs, verbose, callbacks, validation_data, shuffle, class_weight,
               initial_epoch, steps_per_epoch, validation_steps, validation_batch_size,
               validation_freq, batch_size, debug_nan: bool = False):
    """``fit`` where ``x`` or ``validation_data`` is a stream (``train``: a stream, or
    arrays as ``data_adapters.ArrayBatches``); ``debug_nan`` as in ``fit``."""
    train = Stream(train, steps_per_epoch, shuffle, "fit")
    val = _validation(model, validation_data)
    dist_host.agree("fit", steps=train.steps, epochs=epochs, initial_epoch=initial_epoch,
                    shuffle=bool(shuffle), validation_freq=validation_freq,
                    validation_steps=validation_steps)
    verbose = dist_host.local_verbose(verbose)
    callbacks = dist_host.local_callbacks(callbacks)
    dist_host.sync_state(model)
    cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                       verbose=verbose, epochs=epochs, steps=train.steps, mode="fit")
    model.stop_training = False
    cbs.on_train_begin()
    rng = dist_host.shared_rng(get_rng())
    epoch_logs: dict = {}
    fn = None
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        tracker = None
        logs: dict = {}
        step = -1
        for step, batch in enumerate(train.epoch(rng)):
            cbs.on_train_batch_begin(step)
            bx, by, bsw = unpack(batch)
            arrays, n = model._prepare(bx, by, bsw, class_weight, "fit")
            tracker = tracker or model._new_tracker()
            if fn is None:  # after the first _prepare, which builds the train function
                fn = nan_debug.guarded_train_fn(model, callbacks, debug_nan)
            outs = fn(*dist_host.step_part(model._train_fn, arrays, n))
            if cbs.sees_each_batch:
                dist_host.settle(model._train_fn)
            logs = tracker.add(outs, n)
            cbs.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        dist_host.settle(model._train_fn)  # whole weights to validate, save, end with
        if step < 0:
            raise ValueError(f"fit: the training data gave no batch in epoch {epoch + 1} (a "
                             f"generator runs out after one pass: give steps_per_epoch and "
                             f"make it loop forever, or use a PyDataset)")
        train.end_epoch()
        epoch_logs = dict(logs)
        if val is not None and (epoch + 1) % validation_freq == 0:
            val_logs = _evaluate(model, val, validation_steps, validation_batch_size or
                                 batch_size, cbs)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    cbs.on_train_end(epoch_logs if epochs > initial_epoch else None)
    return cbs.history


def _validation(model, validation_data):
    """A Stream, checked arrays, or None."""
    if validation_data is None or is_stream(validation_data):
        return validation_data
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
        raise ValueError("fit: validation_data must be (x_val, y_val), (x_val, y_val, "
                         "sample_weight_val), a generator or a PyDataset")
    vx, vy, vsw = unpack(tuple(validation_data))
    arrays, _ = model._prepare(vx, vy, vsw, None, "fit (validation_data)")
    return arrays


def _evaluate(model, data, steps, batch_size, cbs) -> dict:
    if not isinstance(data, Stream) and not is_stream(data):
        return model._evaluate_arrays(data, batch_size, cbs, steps)
    stream = data if isinstance(data, Stream) else Stream(data, steps, False, "evaluate")
    tracker = None
    cbs.on_test_begin()
    logs: dict = {}
    for step, batch in enumerate(stream.epoch()):
        cbs.on_test_batch_begin(step)
        bx, by, bsw = unpack(batch)
        arrays, n = model._prepare(bx, by, bsw, None, "evaluate")
        tracker = tracker or model._new_tracker()
        logs = tracker.add(model._test_fn(*dist_host.local_part(arrays, n)), n)
        cbs.on_test_batch_end(step, logs)
    stream.end_epoch()
    cbs.on_test_end(logs)
    return logs


def evaluate_stream(model, x, steps, verbose, callbacks) -> dict:
    """``evaluate`` over a stream: the logs of the whole pass."""
    stream = Stream(x, steps, False, "evaluate")
    dist_host.agree("evaluate", steps=stream.steps)
    verbose = dist_host.local_verbose(verbose)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       steps=stream.steps, mode="evaluate")
    return _evaluate(model, stream, steps, None, cbs)


def predict_stream(model, x, steps, verbose, callbacks):
    """``predict`` over a stream: the outputs of every batch, concatenated."""
    stream = Stream(x, steps, False, "predict")
    dist_host.agree("predict", steps=stream.steps)
    verbose = dist_host.local_verbose(verbose)
    cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=model, verbose=verbose,
                       steps=stream.steps, mode="predict")
    cbs.on_predict_begin()
    chunks = None
    for step, batch in enumerate(stream.epoch()):
        cbs.on_predict_batch_begin(step)
        xs = model._prepare_x(unpack(batch)[0])
        if model._predict_fn is None:
            model._make_predict_fn()
        outs = model._predict_fn(*dist_host.local_part(xs, len(xs[0])))
        chunks = chunks or [[] for _ in outs]
        for k, o in enumerate(outs):
            chunks[k].append(o)
        cbs.on_predict_batch_end(step, {"outputs": outs})
    stream.end_epoch()
    cbs.on_predict_end()
    if chunks is None:
        raise ValueError("predict: the generator or PyDataset gave no batch")
    chunks = dist_host.gather_batches(chunks)
    results = [np.concatenate(c) for c in chunks]
    return results[0] if len(results) == 1 else results
