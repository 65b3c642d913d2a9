"""Scan and ScanGrad kernels: the compiled step run in a Python loop over buffers.

The step is compiled once per node (``op.inner_program``) and called with
arrays only (no input checking), so a step costs its kernels plus a few list
operations; in the common case the steps run in one generated function instead
(``scan_loops``). The loops' output buffers are kept from one call to the next
and reused when nothing holds them any more (fresh large arrays cost page faults).
"""
from __future__ import annotations

import sys

import numpy as np

from core.scan.op import Scan, ScanGrad, scan_steps

from . import registry
from .scan_loops import backward_loop, step_loop


def compile_inner(compile_with):
    """Compile an inner graph with the backend compiled functions use (the C backend
    hands loops to these numpy kernels, and their steps should still get C kernels)."""
    from backends import default_backend, make_kernels
    from core.config import config

    backend = default_backend(config.mode)
    return compile_with(backend, lambda nodes: make_kernels(nodes, backend))


def _native_loop(program, loop, kind: str, counts: tuple):
    """The loop of the backend that compiled ``program``'s step (the C backend runs
    the steps in C), else the generated ``loop``."""
    from backends import default_backend, get_backend
    from core.config import config

    native = get_backend(default_backend(config.mode)).native_loop(program, loop, kind, counts)
    return loop if native is None else native


# Reuse relies on exact reference counts (see ``Buffers.empty``); CPython 3.14 borrows
# some references, so reuse stays off there rather than risk handing out a held array.
_REUSE = sys.version_info < (3, 14)


class Buffers:
    """Arrays a kernel returns, kept across its calls: ``empty(key, shape, dtype)`` hands
    back last call's array for ``key`` when nobody else references it (the caller dropped
    every output and view of it), else a new one. ``xp``: the array module (numpy, or
    cupy for the CUDA backend)."""

    def __init__(self, xp=np):
        self._cache: dict = {}
        self._xp = xp

    def empty(self, key, shape, dtype) -> np.ndarray:
        buf = self._cache.get(key)
        # References: the cache, ``buf`` and getrefcount's argument; a view adds one.
        if (buf is not None and buf.shape == shape and buf.dtype == dtype
                and sys.getrefcount(buf) == 3):
            return buf
        buf = self._xp.empty(shape, dtype)
        if _REUSE:
            self._cache[key] = buf
        return buf

    def zeros(self, key, shape, dtype) -> np.ndarray:
        buf = self.empty(key, shape, dtype)
        buf.fill(0)
        return buf


def _rows_contiguous(a, xp=np):
    """``a``, or a C-contiguous copy when its rows are not contiguous: the step's kernels
    (C elementwise loops above all) are much faster on contiguous rows, and one copy of
    the whole sequence costs less than a strided pass per step."""
    a = xp.asarray(a)
    if a.ndim < 2 or a.flags.c_contiguous or len(a) == 0 or a[0].flags.c_contiguous:
        return a
    return xp.ascontiguousarray(a)


def _layout(info):
    seq_offsets = [[k - min(taps) for k in taps] for taps in info.seq_taps]
    return seq_offsets, info.max_taps()


def _step_inputs(t, seqs, seq_offsets, bufs, state_taps, mts, shared, nonseqs):
    ins = [s[t + o, ...] for s, offs in zip(seqs, seq_offsets) for o in offs]
    for buf, taps, mt in zip(bufs, state_taps, mts):
        ins += [buf[mt + t + k, ...] for k in taps]
    return ins + shared + nonseqs


def _initial_buffers(op, inits, mts, n, dtypes, buffers):
    bufs = []
    for j, (init, mt) in enumerate(zip(inits, mts)):
        if init.shape[0] < mt:
            raise ValueError(f"{op}: recurrent output {j} looks {mt} step(s) back, so its "
                             f"initial value needs {mt} row(s); got shape {init.shape}")
        buf = buffers.empty(j, (mt + n,) + init.shape[1:], np.dtype(dtypes[j]))
        buf[:mt] = init[init.shape[0] - mt:]
        bufs.append(buf)
    return bufs


def _store(op, what, row_index, buf, value):
    if value.shape != buf.shape[1:]:
        raise ValueError(f"{op}: step {row_index} returned {what} of shape {value.shape}, but "
                         f"earlier values have shape {buf.shape[1:]}; a scan output must keep "
                         f"one shape over all steps")
    buf[row_index] = value


@registry.register(Scan)
def scan_kernel(node, xp=np):
    """The Scan kernel over arrays of the module ``xp`` (numpy; cupy for the CUDA backend,
    whose kernels then run the steps on the device)."""
    op = node.op
    info = op.info
    program = compile_inner(op.inner_program)
    run = program.run_trusted
    seq_offsets, mts = _layout(info)
    n_states, n_nit, n_shared = info.n_states, info.n_nitsot, info.n_shared
    dtypes = [o.type.dtype for o in node.outputs]
    has_until = info.has_until
    nit_types = [o.type for o in node.outputs[n_states:n_states + n_nit]]
    buffers = Buffers(xp)
    # The common case (one tap per sequence at 0, recurrent outputs looking one step back):
    # a step's inputs are rows t of the sequences and of the outputs.
    simple = (all(offs == [0] for offs in seq_offsets)
              and all(taps == (-1,) for taps in info.state_taps))
    loop = (step_loop(op, program, _store, info.n_seqs, n_states, n_nit, info.n_nonseq)
            if simple and n_shared == 0 and not has_until else None)
    if loop is not None:  # a backend's native loop, no Python per step
        loop = _native_loop(program, loop, "forward", (info.n_seqs, n_states, n_nit))

    def kernel(n_steps, *args):
        _, seqs, inits, shared, nonseqs = info.split_outer((None,) + args)
        seqs = [_rows_contiguous(s[::-1] if info.go_backwards else s, xp) for s in seqs]
        n = scan_steps(str(op), info, n_steps, seqs)
        bufs = _initial_buffers(op, inits, mts, n, dtypes, buffers)
        nits = [None] * n_nit
        traces = [xp.empty((n,) + np.shape(v), dtype=v.dtype) for v in shared]
        for t in range(n):
            for trace, v in zip(traces, shared):
                trace[t] = v
            if simple:
                outs = run(*[s[t] for s in seqs], *[b[t] for b in bufs], *shared, *nonseqs)
            else:
                outs = run(*_step_inputs(t, seqs, seq_offsets, bufs, info.state_taps, mts,
                                         shared, nonseqs))
            for j in range(n_states):
                _store(op, f"recurrent output {j}", mts[j] + t, bufs[j], outs[j])
            for k in range(n_nit):
                value = outs[n_states + k]
                if nits[k] is None:
                    nits[k] = buffers.empty(n_states + k, (n,) + value.shape,
                                            np.dtype(dtypes[n_states + k]))
                _store(op, f"output {n_states + k}", t, nits[k], value)
            if loop is not None:  # step 0 made the buffers; the rest in one generated loop
                loop(1, n, seqs, bufs, nits, nonseqs)
                break
            shared = list(outs[n_states + n_nit:n_states + n_nit + n_shared])
            if has_until and outs[-1]:
                n = t + 1
                bufs = [b[:mt + n] for b, mt in zip(bufs, mts)]
                nits = [a[:n] for a in nits]
                traces = [tr[:n] for tr in traces]
                break
        for k in range(n_nit):
            if nits[k] is None:  # zero steps: the static shape is the best guess
                nits[k] = xp.empty((0,) + tuple(s or 0 for s in nit_types[k].shape[1:]),
                                   dtype=nit_types[k].dtype)
        res = (tuple(b[mt:] for b, mt in zip(bufs, mts)) + tuple(nits) + tuple(shared)
               + tuple(traces))
        return res[0] if len(res) == 1 else res

    return kernel


@registry.register(ScanGrad)
def scan_grad_kernel(node, xp=np):
    """The ScanGrad kernel over arrays of the module ``xp`` (see ``scan_kernel``)."""
    op = node.op
    info = op.info
    program = compile_inner(op.inner_program)
    run = program.run_trusted
    seq_offsets, mts = _layout(info)
    n_states, n_nit, n_shared = info.n_states, info.n_nitsot, info.n_shared
    n_fwd = info.n_outer_inputs()
    state_cot = op.cot_mask[:n_states]
    nit_cot = op.cot_mask[n_states:]
    n_seq = info.n_seqs
    seq_mask = op.wrt_mask[:n_seq]
    state_mask = op.wrt_mask[n_seq:n_seq + n_states]
    nonseq_mask = op.wrt_mask[n_seq + n_states:]
    buffers = Buffers(xp)
    loop = None
    if (all(offs == [0] for offs in seq_offsets) and info.truncate_gradient < 0
            and all(taps == (-1,) for taps in info.state_taps)
            and all(state_cot) and all(state_mask)):
        counts = (n_seq, n_states, n_shared, info.n_nonseq, n_nit, sum(nit_cot), sum(seq_mask),
                  sum(nonseq_mask))
        loop = backward_loop(op, program, counts, xp.concatenate)
        if loop is not None:
            loop = _native_loop(program, loop, "backward", counts)

    def kernel(*args):
        n_steps, seqs, inits, shared0, nonseqs = info.split_outer(args[:n_fwd])
        rest = args[n_fwd:]
        state_outs = rest[:n_states]
        nit_outs = rest[n_states:n_states + n_nit]
        traces = rest[n_states + n_nit:n_states + n_nit + n_shared]
        cots = iter(rest[n_states + n_nit + n_shared:])
        fwd_seqs = [_rows_contiguous(s[::-1] if info.go_backwards else s, xp) for s in seqs]
        n = len((state_outs + nit_outs)[0])  # the steps the forward loop ran
        # State rows: row r of the forward buffer is the initial value's row r for r < mt,
        # else output row r - mt; nothing is copied.
        tails = [init[init.shape[0] - mt:] for init, mt in zip(inits, mts)]
        state_cots = [_rows_contiguous(next(cots), xp) if has else None for has in state_cot]
        # pending[j][i]: the gradient that later steps sent to state j at time t - i
        # (None: nothing yet). Only the last mt + 1 times are ever pending.
        pending = [[None] * (mt + 1) if has else None for mt, has in zip(mts, state_cot)]
        nit_cots = [_rows_contiguous(next(cots), xp) if has else None for has in nit_cot]
        last = n if info.truncate_gradient < 0 else min(n, info.truncate_gradient)
        # A sequence read at one tap over every step gets each row written once: no zeroing.
        dseqs = []
        for k, (s, m, offs) in enumerate(zip(seqs, seq_mask, seq_offsets)):
            if not m:
                dseqs.append(None)
            elif len(offs) == 1 and last == n == len(s):
                dseqs.append(buffers.empty(("seq", k), s.shape, s.dtype))
            else:
                dseqs.append(buffers.zeros(("seq", k), s.shape, s.dtype))
        assign = [d is not None and len(offs) == 1 and last == n == len(d)
                  for d, offs in zip(dseqs, seq_offsets)]
        dviews = [d[::-1] if (d is not None and info.go_backwards) else d for d in dseqs]
        dnon = [buffers.empty(("nonseq", k), np.shape(v), np.dtype(v.dtype)) if m else None
                for k, (v, m) in enumerate(zip(nonseqs, nonseq_mask))]
        first = True  # the non-sequences' gradients are assigned at the first step run
        steps = range(n - 1, n - 1 - last, -1)
        if loop is not None and all(assign[k] for k, m in enumerate(seq_mask) if m):
            acc = [d for d in dnon if d is not None]
            for d in acc:
                d.fill(0)
            sent = loop(n, fwd_seqs, state_outs, tails, traces, nonseqs, nit_outs, state_cots,
                        [c for c in nit_cots if c is not None],
                        [d for d in dviews if d is not None], acc)
            for pend, g in zip(pending, sent):
                pend[0] = g
            first, steps = False, ()  # all steps done
        for t in steps:
            ins = [s[t + o] for s, offs in zip(fwd_seqs, seq_offsets) for o in offs]
            for out, tail, taps, mt in zip(state_outs, tails, info.state_taps, mts):
                ins += [out[t + k] if t + k >= 0 else tail[mt + t + k] for k in taps]
            ins += [tr[t] for tr in traces]
            ins += nonseqs
            ins += [o[t] for o in state_outs] + [o[t] for o in nit_outs]
            for pend, c in zip(pending, state_cots):
                if pend is not None:
                    ins.append(c[t] if pend[0] is None else c[t] + pend[0])
            ins += [c[t] for c in nit_cots if c is not None]
            grads = iter(run(*ins))
            for dv, offs, put in zip(dviews, seq_offsets, assign):
                if dv is not None:
                    if put:
                        dv[t + offs[0]] = next(grads)
                    else:
                        for o in offs:
                            dv[t + o] += next(grads)
            for pend, taps, m in zip(pending, info.state_taps, state_mask):
                if m:
                    for k in taps:
                        g = next(grads)
                        pend[-k] = g if pend[-k] is None else pend[-k] + g
                    del pend[0]
                    pend.append(None)
            for acc in dnon:
                if acc is not None:
                    if first:
                        acc[...] = next(grads)
                    else:
                        acc += next(grads)
            first = False
        if first:  # no step ran
            for acc in dnon:
                if acc is not None:
                    acc.fill(0)
        dinits = []
        t_end = n - last  # the earliest step processed; pending[j][i] is time t_end - 1 - i
        for init, pend, mt, m in zip(inits, pending, mts, state_mask):
            if m:
                g = xp.zeros_like(init)
                for i, value in enumerate(pend[:mt]):
                    time = t_end - 1 - i
                    if value is not None and time < 0:
                        g[init.shape[0] + time] = value
                dinits.append(g)
        res = tuple([d for d in dseqs if d is not None] + dinits
                    + [d for d in dnon if d is not None])
        return res[0] if len(res) == 1 else res

    return kernel
