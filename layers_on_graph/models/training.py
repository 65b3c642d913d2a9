"""``Trainer``: compile / fit / evaluate / predict / *_on_batch, mixed into ``Model``.

``compile`` builds, once, three ``core.function``s: train (the loss, metric sums,
and as ``updates`` the optimizer's step plus BatchNormalization's moving
statistics), test and predict. ``fit`` only checks the data (all of it, before
any step), then feeds batches of contiguous float32 arrays to the train function.
"""
from __future__ import annotations

import math

import numpy as np

import core.tensor as T
from core import function

from .. import backend, losses as losses_mod, metrics as metrics_mod, optimizers
from .. import distribution as dist
from ..distribution import graph as dist_graph, host as dist_host, sharded, split_pair
from ..distribution import runtime as dist_runtime
from ..callbacks import CallbackList
from ..keras_tensor import placeholder
from ..layers.layer import flatten_structure, static_shape
from ..utils.random import get_rng
from . import data as data_mod, data_adapters, nan_debug, stream_loops


class _Tracker:
    """Running means of the loss (weighted by batch size) and each metric's sums over an epoch."""

    def __init__(self, loss_names: list[str], metric_names: list[str], metrics: list):
        self.loss_names, self.metric_names, self.metrics = loss_names, metric_names, metrics
        self.loss_sums = [0.0] * len(loss_names)
        self.metric_sums = [None] * len(metric_names)
        self.seen = 0

    def add(self, outs, batch: int) -> dict:
        n_loss = len(self.loss_names)
        self.seen += batch
        for k in range(n_loss):
            self.loss_sums[k] += float(outs[k]) * batch
        pos = n_loss
        for k, m in enumerate(self.metrics):  # each metric's sums follow the losses in order
            self.metric_sums[k] = m.accumulate(self.metric_sums[k], outs[pos:pos + m.num_sums])
            pos += m.num_sums
        return self.logs()

    def logs(self) -> dict:
        logs = {}
        for name, m, sums in zip(self.metric_names, self.metrics, self.metric_sums):
            logs[name] = m.result_from(sums)
        for name, total in zip(self.loss_names, self.loss_sums):
            logs[name] = total / self.seen if self.seen else 0.0
        return logs


class Trainer:
    """The training API of ``Model``."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._train_fn = self._test_fn = self._predict_fn = None

    # ----- compile -----
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile="auto", auto_scale_loss: bool = True) -> None:
        """Set the optimizer, loss(es) and metrics, and build the train/test/predict functions.

        ``metrics`` ignore sample and class weights; ``weighted_metrics`` use them (Keras).
        Unknown optimizer, loss or metric names raise ValueError here. ``run_eagerly``,
        ``steps_per_execution``, ``jit_compile`` and ``auto_scale_loss`` are accepted for
        compatibility and change nothing: every step runs the compiled function.

        Examples
        --------
        >>> model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
        ...               metrics=['accuracy'])
        """
        opt = optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile: a loss is required (e.g. loss='mse')")
        self._loss_arg = loss
        self._loss_weights_arg = loss_weights
        self._metrics_arg = metrics
        self._weighted_metrics_arg = weighted_metrics
        _check_names(loss, losses_mod.get)
        for group in (metrics, weighted_metrics):
            for ms in (group.values() if isinstance(group, dict) else [group or []]):
                for m in (ms if isinstance(ms, (list, tuple)) else [ms]):
                    _check_names(m, metrics_mod.get)
        self.optimizer = opt
        self.compiled = True
        self._train_fn = self._test_fn = self._predict_fn = None
        if self._io_ready():
            self._build_functions()

    def _io_ready(self) -> bool:
        return self.built and getattr(self, "outputs", None) is not None and getattr(
            self, "inputs", None) is not None

    def _ensure_io(self, arrays: list[np.ndarray]) -> None:
        """Build an unbuilt model from the shapes of the data."""
        if self._io_ready():
            return
        from ..layers.input_layer import Input

        shapes = [(None,) + a.shape[1:] for a in arrays]
        if hasattr(self, "_build_from_shape"):
            self._build_from_shape(shapes[0] if len(shapes) == 1 else shapes)
            return
        ins = [Input(batch_shape=s) for s in shapes]
        outs = self(ins[0] if len(ins) == 1 else ins)
        self.inputs, self.outputs = ins, flatten_structure(outs)
        for k, t in enumerate(self.outputs):
            if not hasattr(t, "_keras_shape"):
                t._keras_shape = tuple(t.type.shape)

    @property
    def _out_names(self) -> list[str]:
        names = getattr(self, "output_names", None)
        try:
            names = list(names) if names is not None else None
        except Exception:
            names = None
        if not names or len(names) != len(self.outputs):
            names = [f"output_{k + 1}" for k in range(len(self.outputs))]
        return names

    @property
    def _in_names(self) -> list[str]:
        try:
            names = list(self.input_names)
        except Exception:
            names = []
        if len(names) != len(self.inputs):
            names = [f"input_{k + 1}" for k in range(len(self.inputs))]
        return names

    def _per_output(self, arg, names: list[str], what: str) -> list:
        if isinstance(arg, dict):
            unknown = set(arg) - set(names)
            if unknown:
                raise ValueError(f"compile: {what} given for unknown outputs {sorted(unknown)}; "
                                 f"outputs are {names}")
            return [arg.get(n) for n in names]
        if isinstance(arg, (list, tuple)) and len(names) > 1 and what == "loss":
            if len(arg) != len(names):
                raise ValueError(f"compile: {len(arg)} losses for {len(names)} outputs")
            return list(arg)
        return [arg] * len(names)

    def _build_functions(self) -> None:
        dist_host.local_states(self)  # each process's rows of stateful RNNs' states
        names = self._out_names
        out_shapes = [static_shape(t) for t in self.outputs]
        self._losses = [losses_mod.get(l) for l in self._per_output(self._loss_arg, names,
                                                                    "loss")]
        weights = self._loss_weights_arg
        if weights is None:
            self._loss_weight_values = [1.0] * len(names)
        elif isinstance(weights, dict):
            self._loss_weight_values = [float(weights.get(n, 1.0)) for n in names]
        else:
            if len(weights) != len(names):
                raise ValueError(f"compile: {len(weights)} loss weights for {len(names)} outputs")
            self._loss_weight_values = [float(w) for w in weights]
        # Keras: ``metrics`` ignore sample/class weights, ``weighted_metrics`` use them
        self._metric_objs = [[] for _ in names]
        for arg, weighted in ((self._metrics_arg, False),
                              (getattr(self, "_weighted_metrics_arg", None), True)):
            for k, ms in enumerate(self._metrics_per_output(arg or [], names)):
                ms = [] if ms is None else (ms if isinstance(ms, (list, tuple)) else [ms])
                self._metric_objs[k] += [(metrics_mod.get(m, self._losses[k], out_shapes[k]),
                                          weighted) for m in ms]
        multi = len(names) > 1
        self._metric_names = []  # in the order _loss_and_metrics emits the sums
        self._metric_list = [obj for objs in self._metric_objs for obj, _ in objs]
        for k, objs in enumerate(self._metric_objs):
            for obj, weighted in objs:
                name = f"{names[k]}_{obj.name}" if multi else obj.name
                self._metric_names.append(f"weighted_{name}" if name in self._metric_names
                                          else name)
        self._loss_names = ["loss"] + ([f"{n}_loss" for n in names] if multi else [])

        x_vars = [placeholder(t.dtype, (None,) + tuple(static_shape(t)[1:]), f"x{k}")
                  for k, t in enumerate(self.inputs)]
        y_vars = []
        for k, (loss, shape, out) in enumerate(zip(self._losses, out_shapes, self.outputs)):
            if losses_mod.is_sparse(loss):  # integer labels: one per row (per step of a sequence)
                y_vars.append(T.TensorType("int64", (None,) + tuple(shape[1:-1]))(f"y{k}"))
            else:
                y_vars.append(T.TensorType(out.dtype, (None,) + tuple(shape[1:]))(f"y{k}"))
        sw_vars = [T.TensorType(backend.floatx(), (None,))(f"sample_weight{k}")
                   for k in range(len(names))]
        model_in = x_vars[0] if len(x_vars) == 1 else x_vars

        with backend.collect_updates() as state_updates, backend.collect_losses() as extra:
            train_out = flatten_structure(self(model_in, training=True))
        total, train_outputs = self._loss_and_metrics(train_out, y_vars, sw_vars, extra)
        params = self.trainable_weights
        updates = list(state_updates)
        self._built_data_parallel = dist.active()
        gathered: dict = {}  # data parallel: kernels whose rows each process updates a block of
        # this process's own step, before any collective (debug_nan re-runs it alone)
        self._local_step = (x_vars + y_vars + sw_vars, total, params)
        split = None  # data parallel: a Dense pair split by its hidden units (split_pair.py)
        if self._built_data_parallel and params:
            split = split_pair.plan(train_outputs, params, updates, self.optimizer,
                                    dist_runtime.communicator())
        if split is not None:  # the whole global batch on every process, no reduction
            train_outputs, grads = split.outputs, split.grads
        elif self._built_data_parallel:  # one allreduce per step: see distribution/graph.py
            grads, train_outputs, updates, gathered = dist_graph.reduce_train_step(
                total, train_outputs, len(self._loss_names), params, updates,
                self.non_trainable_weights, x_vars[0],
                lambda ps: sharded.row_wise(self.optimizer, ps))
        elif params:
            grads = T.grad(total, params, disconnected_inputs="ignore")
        if params:
            updated = {id(v) for v, _ in updates}
            updates += [(v, e) for v, e in self.optimizer.get_updates(params, grads)
                        if id(v) not in updated]
        blocks = None
        if split is not None:
            updates, blocks = split.shard(updates)
        elif gathered:
            updates, blocks = sharded.shard_updates(updates, gathered,
                                                    dist_runtime.communicator())
        self._train_fn = function(x_vars + y_vars + sw_vars, train_outputs, updates=updates,
                                  trust_input=True, on_unused_input="ignore", name="train")
        if blocks is not None:
            self._train_fn = sharded.ShardedStep(self._train_fn, blocks,
                                                 global_batch=split is not None)
        # inference can update state too (stateful RNNs) and add losses (add_loss)
        with backend.collect_updates() as test_updates, backend.collect_losses() as extra:
            test_out = flatten_structure(self(model_in, training=False))
        _, test_outputs = self._loss_and_metrics(test_out, y_vars, sw_vars, extra)
        if self._built_data_parallel:
            test_outputs = dist_graph.reduce_outputs(test_outputs, len(self._loss_names),
                                                     x_vars[0])
        self._test_fn = function(x_vars + y_vars + sw_vars, test_outputs, trust_input=True,
                                 updates=list(test_updates), on_unused_input="ignore",
                                 name="test")
        self._make_predict_fn(x_vars, test_out, test_updates)

    def _make_predict_fn(self, x_vars=None, outs=None, updates=None) -> None:
        if x_vars is None:
            dist_host.local_states(self)
            x_vars = [placeholder(t.dtype, (None,) + tuple(static_shape(t)[1:]), f"x{k}")
                      for k, t in enumerate(self.inputs)]
            with backend.collect_updates() as updates:
                outs = flatten_structure(self(x_vars[0] if len(x_vars) == 1 else x_vars,
                                              training=False))
        self._predict_fn = function(x_vars, outs, trust_input=True, on_unused_input="ignore",
                                    updates=list(updates or []), name="predict")

    def _loss_and_metrics(self, outs, y_vars, sw_vars, added_losses: list):
        per_output = [loss(y, o, sw) for loss, y, o, sw in zip(self._losses, y_vars, outs,
                                                                sw_vars)]
        total = per_output[0] * self._loss_weight_values[0] if self._loss_weight_values[0] != 1 \
            else per_output[0]
        for value, w in zip(per_output[1:], self._loss_weight_values[1:]):
            total = total + (value * w if w != 1 else value)
        for penalty in list(self.losses) + list(added_losses):  # weight penalties, add_loss
            total = total + T.cast(penalty, total.dtype)
        outputs = [total] + (per_output if len(per_output) > 1 else [])
        for objs, y, o, sw in zip(self._metric_objs, y_vars, outs, sw_vars):
            for m, weighted in objs:
                outputs.extend(m.symbolic_sums(y, o, sw if weighted else None))
        return total, outputs

    def _metrics_per_output(self, arg, names: list[str]) -> list:
        if isinstance(arg, dict):
            return self._per_output(arg, names, "metrics")
        if arg and isinstance(arg[0], (list, tuple)):
            if len(arg) != len(names):
                raise ValueError(f"compile: {len(arg)} metric lists for {len(names)} outputs")
            return list(arg)
        return [arg] * len(names)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"{what}: the model must be compiled first; call model.compile("
                             f"optimizer=..., loss=...)")

    # ----- data -----
    def _prepare(self, x, y, sample_weight, class_weight, what: str):
        """Checked arrays [x..., y..., sw...] and the sample count; raises before any step."""
        xs = self._prepare_x(x)
        if self._train_fn is None or self._built_data_parallel != dist.active():
            self._build_functions()
        ys = data_mod.standardize_targets(y, self._out_names,
                                          [static_shape(t) for t in self.outputs], self._losses,
                                          backend.floatx())
        n = data_mod.check_lengths(xs + ys, what)
        sws = []
        sw_list = sample_weight if isinstance(sample_weight, (list, tuple)) and len(
            self.outputs) > 1 else [sample_weight] * len(self.outputs)
        for k, sw in enumerate(sw_list):
            if sw is None:
                w = np.ones(n, dtype=backend.floatx())
            else:
                w = np.asarray(sw, dtype=backend.floatx())
                if w.shape != (n,):
                    raise ValueError(f"{what}: sample_weight must have shape ({n},), got {w.shape}")
            sws.append(w)
        if class_weight is not None:
            if len(self.outputs) > 1:
                raise ValueError(f"{what}: class_weight is only supported for single-output "
                                 f"models")
            sws[0] = sws[0] * data_mod.class_weights_to_sample_weights(class_weight, ys[0],
                                                                       backend.floatx())
        return xs + ys + sws, n

    # ----- fit -----
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight: dict | None = None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, debug_nan: bool = False):
        """Train for ``epochs`` epochs; returns a ``History``.

        ``validation_split`` takes the last samples before shuffling, as Keras.
        ``debug_nan=True``: on a NaN or infinite loss, keep the weights of the last good step
        and raise FloatingPointError naming the first layer and line that produced a NaN
        (the batch re-run under ``core.NanGuardMode``; see ``models/nan_debug.py``).
        """
        self._require_compiled("fit")
        batch_size = _batch_size(batch_size)
        data_adapters.check_supported(x, "fit")
        if data_adapters.is_stream(x) or data_adapters.is_stream(validation_data):
            return stream_loops.fit_stream(
                self, data_adapters.as_stream(x, y, sample_weight, batch_size, "fit",
                                              class_weight, validation_split=validation_split),
                epochs, 1 if verbose == "auto" else int(verbose), callbacks, validation_data,
                shuffle, class_weight, initial_epoch, steps_per_epoch, validation_steps,
                validation_batch_size, validation_freq, batch_size, debug_nan)
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is not None:
            validation_split = 0.0
        arrays, n = self._prepare(x, y, sample_weight, class_weight, "fit")
        val_arrays = None
        if validation_split:
            split = int(math.floor(n * (1.0 - validation_split)))
            if split == 0 or split == n:
                raise ValueError(f"fit: validation_split={validation_split} of {n} samples leaves "
                                 f"an empty training or validation set")
            val_arrays = [a[split:] for a in arrays]
            arrays = [a[:split] for a in arrays]
            n = split
        elif validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be (x_val, y_val) or "
                                 "(x_val, y_val, sample_weight_val)")
            vx, vy = validation_data[0], validation_data[1]
            vsw = validation_data[2] if len(validation_data) == 3 else None
            val_arrays, _ = self._prepare(vx, vy, vsw, None, "fit (validation_data)")
        if n == 0:
            raise ValueError("fit: no training samples")
        dist_host.agree("fit", samples=n, batch_size=batch_size, epochs=epochs,
                        initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                        shuffle=bool(shuffle), validation_freq=validation_freq,
                        validation_samples=0 if val_arrays is None else len(val_arrays[0]),
                        validation_steps=validation_steps,
                        validation_batch_size=validation_batch_size)
        verbose = dist_host.local_verbose(1 if verbose == "auto" else int(verbose))
        callbacks = dist_host.local_callbacks(callbacks)
        dist_host.sync_state(self)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps, mode="fit")
        self.stop_training = False
        cbs.on_train_begin()
        # a callback (BackupAndRestore) may move the start, as Keras's model._initial_epoch
        initial_epoch, self._initial_epoch = getattr(self, "_initial_epoch", None) or \
            initial_epoch, None
        fn = nan_debug.guarded_train_fn(self, callbacks, debug_nan)
        rows = dist_host.step_rows(self._train_fn)  # this process's slice, or all rows
        rng = get_rng()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            tracker = self._new_tracker()
            order = dist_host.same_on_all(rng.permutation(n)) if shuffle else None
            for step in range(steps):
                cbs.on_train_batch_begin(step)
                lo, hi = step * batch_size, min((step + 1) * batch_size, n)
                if order is None:
                    outs = fn(*[a[rows(lo, hi)] for a in arrays])
                else:
                    idx = order[rows(lo, hi)]
                    outs = fn(*[a[idx] for a in arrays])
                if cbs.sees_each_batch:
                    dist_host.settle(self._train_fn)
                logs = tracker.add(outs, hi - lo)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            dist_host.settle(self._train_fn)  # whole weights to validate, save, end with
            epoch_logs = dict(logs)
            if val_arrays is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(val_arrays, validation_batch_size or batch_size,
                                                 cbs, validation_steps)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs if epochs > initial_epoch else None)
        return cbs.history

    def _new_tracker(self) -> _Tracker:
        """The running losses and metric sums of one epoch (or evaluation pass)."""
        return _Tracker(self._loss_names, self._metric_names, self._metric_list)

    def _evaluate_arrays(self, arrays, batch_size: int, cbs, max_steps=None) -> dict:
        n = len(arrays[0])
        steps = math.ceil(n / batch_size)
        if max_steps is not None:
            steps = min(steps, int(max_steps))
        tracker = self._new_tracker()
        cbs.on_test_begin()
        logs = {}
        fn = self._test_fn
        for step in range(steps):
            cbs.on_test_batch_begin(step)
            lo, hi = step * batch_size, min((step + 1) * batch_size, n)
            logs = tracker.add(fn(*[a[dist_host.local_slice(lo, hi)] for a in arrays]), hi - lo)
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    # ----- evaluate / predict -----
    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto",
                 sample_weight=None, steps: int | None = None, callbacks=None,
                 return_dict: bool = False):
        """Loss (and metrics) on ``x, y`` in inference mode: a scalar, a list or a dict."""
        self._require_compiled("evaluate")
        batch_size = _batch_size(batch_size)
        data_adapters.check_supported(x, "evaluate")
        if data_adapters.is_stream(x):
            data_adapters.as_stream(x, y, sample_weight, batch_size, "evaluate")
            return self._format_result(stream_loops.evaluate_stream(
                self, x, steps, 1 if verbose == "auto" else int(verbose), callbacks),
                return_dict)
        arrays, n = self._prepare(x, y, sample_weight, None, "evaluate")
        dist_host.agree("evaluate", samples=n, batch_size=batch_size, steps=steps)
        verbose = dist_host.local_verbose(1 if verbose == "auto" else int(verbose))
        n_steps = math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(
            n / batch_size))
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           steps=n_steps, mode="evaluate")
        logs = self._evaluate_arrays(arrays, batch_size, cbs, steps)
        return self._format_result(logs, return_dict)

    def _format_result(self, logs: dict, return_dict: bool):
        if return_dict:
            return dict(logs)
        values = [logs[k] for k in self._loss_names] + [logs[k] for k in self._metric_names]
        return values[0] if len(values) == 1 else values

    def _prepare_x(self, x) -> list[np.ndarray]:
        if x is None:
            raise ValueError("x is None; pass the input data")
        if not self._io_ready():
            arr = x if isinstance(x, (list, tuple)) else [x]
            self._ensure_io([np.asarray(a) for a in arr])
        return data_mod.standardize_inputs(x, self._in_names,
                                           [static_shape(t) for t in self.inputs],
                                           [t.dtype for t in self.inputs])

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps: int | None = None,
                callbacks=None):
        """Outputs for ``x`` in inference mode, as numpy arrays (a list for several outputs)."""
        batch_size = _batch_size(batch_size)
        data_adapters.check_supported(x, "predict")
        if data_adapters.is_stream(x):
            return stream_loops.predict_stream(self, x, steps, 1 if verbose == "auto" else
                                               int(verbose), callbacks)
        xs = self._prepare_x(x)
        n = data_mod.check_lengths(xs, "predict")
        dist_host.agree("predict", samples=n, batch_size=batch_size, steps=steps)
        if self._predict_fn is None:
            self._make_predict_fn()
        verbose = dist_host.local_verbose(1 if verbose == "auto" else int(verbose))
        n_steps = math.ceil(n / batch_size)
        if steps is not None:
            n_steps = min(n_steps, steps)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           steps=n_steps, mode="predict")
        cbs.on_predict_begin()
        chunks = [[] for _ in self.outputs]
        for step in range(n_steps):
            cbs.on_predict_batch_begin(step)
            lo, hi = step * batch_size, min((step + 1) * batch_size, n)
            outs = self._predict_fn(*[a[dist_host.local_slice(lo, hi)] for a in xs])
            for k, o in enumerate(outs):
                chunks[k].append(o)
            cbs.on_predict_batch_end(step, {"outputs": outs})
        cbs.on_predict_end()
        chunks = dist_host.gather_batches(chunks)
        results = [np.concatenate(c) if c else np.zeros((0,) + tuple(
            s or 0 for s in static_shape(t)[1:]), dtype=t.dtype)
                   for c, t in zip(chunks, self.outputs)]
        return results[0] if len(results) == 1 else results

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict: bool = False):
        """One training step on one batch; returns the batch's loss (and metrics)."""
        self._require_compiled("train_on_batch")
        arrays, n = self._prepare(x, y, sample_weight, class_weight, "train_on_batch")
        tracker = self._new_tracker()
        outs = self._train_fn(*dist_host.whole_batch(self._train_fn, arrays))
        dist_host.settle(self._train_fn)
        return self._format_result(tracker.add(outs, n), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss (and metrics) of one batch in inference mode."""
        self._require_compiled("test_on_batch")
        arrays, n = self._prepare(x, y, sample_weight, None, "test_on_batch")
        tracker = self._new_tracker()
        return self._format_result(tracker.add(self._test_fn(*arrays), n), return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch."""
        xs = self._prepare_x(x)
        if self._predict_fn is None:
            self._make_predict_fn()
        outs = self._predict_fn(*xs)
        return outs[0] if len(outs) == 1 else outs

    @property
    def metrics_names(self) -> list[str]:
        if not self.compiled or not hasattr(self, "_loss_names"):
            return []
        return list(self._loss_names) + list(self._metric_names)

    # ----- summary and weights files -----
    def summary(self, line_length: int | None = None, positions=None, print_fn=None) -> None:
        """Print a Keras-style table of layers, output shapes and parameter counts."""
        from .summary import format_summary

        text = format_summary(self, line_length or 90)
        (print_fn or print)(text)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Save the weights in Keras 3's ``.weights.h5`` layout."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False,
                     by_name: bool = False) -> None:
        """Load weights saved here or by Keras (3 or 2 layouts); nothing changes on error."""
        from ..saving import load_weights

        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def save(self, filepath: str, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save architecture, weights and training state ('.keras' or legacy '.h5')."""
        from ..saving import save_model

        save_model(self, filepath, overwrite, include_optimizer)

    def to_json(self, **kwargs) -> str:
        """The architecture as Keras-style JSON."""
        from ..saving import to_json

        return to_json(self, **kwargs)


def _batch_size(batch_size) -> int:
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _check_names(arg, getter) -> None:
    """Resolve every name now so that a typo fails in compile."""
    items = arg.values() if isinstance(arg, dict) else (arg if isinstance(arg, (list, tuple))
                                                        else [arg])
    for item in items:
        if item is not None:
            getter(item)
