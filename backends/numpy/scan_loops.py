"""Generated Python loops for Scan and ScanGrad kernels (``backends.numpy.scan``).

In the common case (sequences read at tap 0, recurrent outputs one step back) the
steps run in one generated function: the compiled step's lines (its linker source)
inlined in a ``for`` loop over rows of the sequences and buffers, with no call,
argument list or output list per step.
"""
from __future__ import annotations

import re

import numpy as np

from core.tensor.join import Join


def _define(program, src: list, filename: str, **names):
    """Compile the generated function ``_scan_loop`` in the step program's namespace, so
    that it calls the same kernels (and sees a kernel that replaces itself there)."""
    program.namespace.update(names)
    local: dict = {}
    exec(compile("\n".join(src) + "\n", filename, "exec"), program.namespace, local)
    return local["_scan_loop"]


def step_loop(op, program, store, n_seqs: int, n_states: int, n_nit: int,
              n_nonseq: int):
    """One generated Python function running steps ``t0 .. n - 1`` of a loop whose
    sequences are read at tap 0 and recurrent outputs one step back: the compiled step's
    lines (``program.source``) inlined in a ``for`` loop that reads rows of the sequences
    and buffers and writes the outputs' rows; no call, argument list or output list per
    step; ``store(op, what, row, buffer, value)`` raises the error for an output of the
    wrong shape. None if the step's source is not the linker's plain form."""
    lines = program.source.splitlines()
    params = ", ".join(f"v{i}" for i in range(n_seqs + n_states + n_nonseq))
    if len(lines) < 2 or lines[0] != f"def run_trusted({params}):" \
            or not lines[-1].startswith("    return "):
        return None

    def unpack(prefix, first, count, source):
        names = [f"{prefix}{first + k}" for k in range(count)]
        return [f"    {', '.join(names)}, = {source}"] if names else []

    src = ["def _scan_loop(t0, n, seqs, bufs, nits, nonseqs):"]
    src += unpack("S", 0, n_seqs, "seqs") + unpack("B", 0, n_states, "bufs")
    src += unpack("N", 0, n_nit, "nits") + unpack("v", n_seqs + n_states, n_nonseq, "nonseqs")
    src += [f"    h{j} = B{j}.shape[1:]" for j in range(n_states)]
    src += [f"    g{k} = N{k}.shape[1:]" for k in range(n_nit)]
    src.append("    for t in range(t0, n):")
    src += [f"        v{k} = S{k}[t]" for k in range(n_seqs)]
    src += [f"        v{n_seqs + j} = B{j}[t]" for j in range(n_states)]
    src += ["    " + line for line in lines[1:-1]]  # the step's kernels, then r0 = ..., ...
    for j in range(n_states):  # a wrong shape raises through _store's message
        src += [f"        if r{j}.shape != h{j}: "
                f"_scan_store(_scan_op, 'recurrent output {j}', t + 1, B{j}, r{j})",
                f"        B{j}[t + 1] = r{j}"]
    for k in range(n_nit):
        r = f"r{n_states + k}"
        src += [f"        if {r}.shape != g{k}: "
                f"_scan_store(_scan_op, 'output {n_states + k}', t, N{k}, {r})",
                f"        N{k}[t] = {r}"]
    return _define(program, src, f"<scan loop {op}>", _scan_store=store, _scan_op=op)


def backward_loop(op, program, counts, concatenate=np.concatenate):
    """The ScanGrad analogue of ``step_loop``: steps ``n - 1 .. 0`` in one generated
    function, for every sequence read at tap 0 and every recurrent output one step back,
    all gradients wanted (``concatenate``: the array module's, into a row). ``counts``: the numbers of sequences, states, shared traces,
    non-sequences, nit-sot outputs, nit-sot cotangents, sequence gradients and
    non-sequence gradients. Returns the gradients sent to the states' initial rows."""
    n_seq, n_st, n_tr, n_ns, n_nit, n_nc, n_ds, n_dn = counts
    n_in = n_seq + n_st + n_tr + n_ns + n_st + n_nit + n_st + n_nc
    lines = program.source.splitlines()
    params = ", ".join(f"v{i}" for i in range(n_in))
    if len(lines) < 2 or lines[0] != f"def run_trusted({params}):" \
            or not lines[-1].startswith("    return "):
        return None

    def unpack(prefix, count, source, first=0):
        names = [f"{prefix}{first + k}" for k in range(count)]
        return [f"    {', '.join(names)}, = {source}"] if names else []

    pos = n_seq + n_st + n_tr  # the non-sequences' parameters come after these
    src = ["def _scan_loop(n, seqs, outs, tails, traces, nonseqs, nits, cots, ncots, dseqs, "
           "dnon):"]
    src += unpack("S", n_seq, "seqs") + unpack("O", n_st, "outs") + unpack("L", n_st, "tails")
    src += unpack("R", n_tr, "traces") + unpack("v", n_ns, "nonseqs", pos)
    src += unpack("M", n_nit, "nits") + unpack("C", n_st, "cots") + unpack("K", n_nc, "ncots")
    src += unpack("D", n_ds, "dseqs") + unpack("A", n_dn, "dnon")
    src += [f"    P{j} = None" for j in range(n_st)]
    src.append("    for t in range(n - 1, -1, -1):")
    src += [f"        v{k} = S{k}[t]" for k in range(n_seq)]
    src += [f"        v{n_seq + j} = O{j}[t - 1] if t else L{j}[0]" for j in range(n_st)]
    src += [f"        v{n_seq + n_st + k} = R{k}[t]" for k in range(n_tr)]
    pos += n_ns
    src += [f"        v{pos + j} = O{j}[t]" for j in range(n_st)]
    src += [f"        v{pos + n_st + k} = M{k}[t]" for k in range(n_nit)]
    pos += n_st + n_nit
    src += [f"        v{pos + j} = C{j}[t] if P{j} is None else C{j}[t] + P{j}"
            for j in range(n_st)]
    src += [f"        v{pos + n_st + k} = K{k}[t]" for k in range(n_nc)]
    body, direct = _concatenate_into_rows(program, lines[1:-1], n_ds)
    src += ["    " + line for line in body]
    src += [f"        D{k}[t] = r{k}" for k in range(n_ds) if k not in direct]
    src += [f"        P{j} = r{n_ds + j}" for j in range(n_st)]
    src += [f"        A{k} += r{n_ds + n_st + k}" for k in range(n_dn)]
    src.append(f"    return [{', '.join(f'P{j}' for j in range(n_st))}]")
    return _define(program, src, f"<scan backward loop {op}>", _scan_concat=concatenate)


def _concatenate_into_rows(program, body: list, n_ds: int) -> tuple[list, set]:
    """The step's lines, where a sequence gradient that is a Join along axis 0 (an LSTM's
    gate gradients) is concatenated straight into its row ``D{k}[t]``: no array and no
    copy per step. Returns (lines, the k written that way)."""
    results = {}
    for line in body:
        m = re.fullmatch(r"    r(\d+) = (v\d+)", line)
        if m:
            results.setdefault(m[2], []).append(int(m[1]))
    body, direct = list(body), set()
    for i, line in enumerate(body):
        m = re.fullmatch(r"    (v\d+) = k(\d+)\((.+)\)", line)
        if not m or m[1] not in results:
            continue
        node = program.nodes[int(m[2])]
        ks = [k for k in results[m[1]] if k < n_ds]
        if ks and isinstance(node.op, Join) and node.op.axis == 0:
            k = ks[0]
            body[i] = f"    {m[1]} = _scan_concat(({m[3]},), axis=0, out=D{k}[t])"
            direct.add(k)
    return body, direct
