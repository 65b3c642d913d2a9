"""Scan loops in C: all steps of a loop in one C call, no Python work per step.

The compiled step program is planned once per input layout into instructions of a
small loop interpreter (``loop_interpreter``: one C function, compiled once per machine
and cached like every module):

* an Elemwise or fused Composite node calls its C kernel's contiguous entry (once per
  row when the rows are strided);
* a Dot of two matrices (or a Gemm, ``b * z + a * x @ y`` with constant a, b) calls the
  BLAS numpy links (``cblas_sgemm``/``cblas_dgemm``), transposes and leading dimensions
  folded into the call;
* Split and DimShuffle are views (a pointer offset and strides); Join copies blocks,
  unless its inputs were written in place into the joined array;
* results land straight in the loop's output rows (a non-sequence gradient's product
  accumulates into its sum, ``beta = 1``).

``forward_loop`` and ``backward_loop`` wrap the generated Python loops of
``backends.numpy.scan_loops`` (same arguments) and use C when the step fits these
cases and the loop is large enough for a compile to pay; otherwise, or when a C kernel
reports an error, the Python loop runs (and raises its usual error).
"""
from __future__ import annotations

import numpy as np

from core.graph.basic import Constant
from core.tensor.blas import Gemm
from core.tensor.elemwise import DimShuffle, Elemwise
from core.tensor.join import Join, Split
from core.tensor.math import Dot
from core.tensor.subtensor import Subtensor

from ..numpy.subtensor import index_builder

from . import loop_interpreter
from .blas import matrix_layout
from .elemwise import input_roles
from .loop_interpreter import ADD, COPY, EW, GEMM, MAX_ARGS

LOOP_WORK = 1 << 18  # elements a loop's steps must produce before it is worth a C loop


class Unsupported(Exception):
    """The step holds a node or a layout the C loop does not cover."""


# ----------------------------------------------------------------------------- planning

class View:
    """Where a value of the step lives: slot ``slot`` (a pointer the loop moves per step)
    plus ``offset`` bytes, with ``shape`` and byte ``strides`` (at most 2-d)."""

    __slots__ = ("slot", "offset", "shape", "strides", "dtype")

    def __init__(self, slot, offset, shape, strides, dtype):
        self.slot, self.offset, self.dtype = slot, offset, np.dtype(dtype)
        # a size-1 axis's stride is irrelevant: give it the contiguous one (BLAS checks it)
        shape, strides = tuple(int(s) for s in shape), list(int(s) for s in strides)
        size = self.dtype.itemsize
        for a in range(len(shape) - 1, -1, -1):
            if shape[a] == 1:
                strides[a] = size
            size *= shape[a]
        self.shape, self.strides = shape, tuple(strides)

    def matrix(self):
        """(rows, cols, row stride, col stride) in bytes."""
        isz = self.dtype.itemsize
        if len(self.shape) == 0:
            return 1, 1, isz, isz
        if len(self.shape) == 1:
            return 1, self.shape[0], self.shape[0] * self.strides[0], self.strides[0]
        return self.shape[0], self.shape[1], self.strides[0], self.strides[1]

    def contiguous(self) -> bool:
        rows, cols, rs, cs = self.matrix()
        return cs == self.dtype.itemsize and (rows == 1 or rs == cols * cs)

    def part(self, axis: int, start: int, length: int) -> View:
        shape = list(self.shape)
        shape[axis] = length
        return View(self.slot, self.offset + start * self.strides[axis], shape, self.strides,
                    self.dtype)


class Plan:
    """The instructions of one step and the slots they address; ``temps`` keeps the
    scratch arrays alive. ``sources[s]``: how the caller's arrays give slot s."""

    def __init__(self):
        self.code: list[int] = []
        self.code_array: np.ndarray | None = None
        self.sources: list = []  # per slot: ("temp", array) or ("arg", key)
        self.temps: list = []

    def slot(self, source) -> int:
        self.sources.append(source)
        return len(self.sources) - 1

    def temp(self, shape, dtype) -> View:
        array = np.zeros(shape, dtype)
        self.temps.append(array)
        return View(self.slot(("temp", array)), 0, array.shape, array.strides, array.dtype)

    def copy(self, dst: View, src: View) -> None:
        if dst.shape != src.shape:
            raise Unsupported(f"copy of shape {src.shape} into {dst.shape}")
        (rows, cols, drs, dcs), (_, _, srs, scs) = dst.matrix(), src.matrix()
        self.code += [COPY, dst.dtype.itemsize, rows, cols, dst.slot, dst.offset, drs, dcs,
                      src.slot, src.offset, srs, scs]

    def add(self, dst: View, x: View, y: View) -> None:
        if not (dst.shape == x.shape == y.shape and dst.dtype == x.dtype == y.dtype):
            raise Unsupported("add of mismatched values")
        if dst.dtype not in (np.float32, np.float64):
            raise Unsupported(f"add of {dst.dtype}")
        parts = [v.matrix() for v in (dst, x, y)]
        if any(cs != dst.dtype.itemsize for _, _, _, cs in parts):
            raise Unsupported("add of strided rows")
        rows, cols = parts[0][:2]
        self.code += [ADD, int(dst.dtype == np.float64), rows, cols]
        for v, (_, _, rs, _) in zip((dst, x, y), parts):
            self.code += [v.slot, v.offset, rs]


def _writes_output(node) -> bool:
    """Nodes whose outputs the loop writes wherever it wants (others are views)."""
    return isinstance(node.op, (Elemwise, Dot, Join, Gemm))


def _shapes(program, in_shapes: list) -> dict:
    """Every step value's shape, from the inputs' (Unsupported for other nodes)."""
    shape = {v: tuple(s) for v, s in zip(program.fgraph.inputs, in_shapes)}

    def of(v):
        if v in shape:
            return shape[v]
        if isinstance(v, Constant):
            return np.shape(v.data)
        raise Unsupported(f"value {v} of unknown shape")

    for node in program.nodes:
        op, ins = node.op, [of(v) for v in node.inputs]
        if isinstance(op, Elemwise):
            try:
                out = [np.broadcast_shapes(*ins)] * len(node.outputs)
            except ValueError:
                raise Unsupported("elementwise shapes do not broadcast") from None
        elif isinstance(op, Dot):
            a, b = ins
            if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2) or a[-1] != b[0]:
                raise Unsupported("dot of unaligned operands")
            out = [a[:-1] + b[1:]]
        elif isinstance(op, Split):
            sizes = node.inputs[1]
            if not isinstance(sizes, Constant):
                raise Unsupported("split of symbolic sizes")
            sizes = [int(s) for s in np.asarray(sizes.data)]
            if sum(sizes) != ins[0][op.axis] or min(sizes) < 0:
                raise Unsupported("split sizes that do not add up")
            out = [ins[0][:op.axis] + (s,) + ins[0][op.axis + 1:] for s in sizes]
        elif isinstance(op, Join):
            total = sum(s[op.axis] for s in ins)
            out = [ins[0][:op.axis] + (total,) + ins[0][op.axis + 1:]]
        elif isinstance(op, Gemm):
            z, _, x, y, _ = ins
            if len(x) != 2 or len(y) != 2 or x[1] != y[0] or z != (x[0], y[1]):
                raise Unsupported("gemm of unaligned operands")
            out = [z]
        elif type(op) is Subtensor:
            out = [_index_view(node, ins[0], None)[0]]
        elif isinstance(op, DimShuffle):
            if any(ins[0][d] != 1 for d in op.drop):
                raise Unsupported("dimshuffle dropping a long axis")
            out = [tuple(1 if d == "x" else ins[0][d] for d in op.new_order)]
        else:
            raise Unsupported(f"no C loop for {op}")
        if any(len(s) > 2 for s in out):
            raise Unsupported("values of more than 2 dimensions")
        shape.update(zip(node.outputs, out))
    return shape


def _index_view(node, shape, strides) -> tuple:
    """(shape, strides, byte offset) of basic indexing with constant indices, applied to a
    value of ``shape`` and ``strides`` (C order when None)."""
    if not all(isinstance(i, Constant) for i in node.inputs[1:]):
        raise Unsupported("indexing with symbolic indices")
    index = index_builder(node.op.idx_list, node.inputs[1:])(
        [np.asarray(i.data) for i in node.inputs[1:]])
    base = np.zeros(1, node.inputs[0].dtype)
    if strides is None:
        strides = np.empty(shape, base.dtype).strides if all(shape) else (0,) * len(shape)
    # a view that is never read, only measured: its layout is what the loop addresses
    dummy = np.lib.stride_tricks.as_strided(base, shape, strides)
    try:
        view = dummy[index]
    except IndexError as exc:
        raise Unsupported(str(exc)) from None
    return view.shape, view.strides, view.ctypes.data - base.ctypes.data


def _homes(program, plan, shapes, targets) -> tuple[dict, list, dict]:
    """Where results are written directly: {value: View} (an output row, a scratch array
    for each join, or a part of a joined value), the (row, value) copies left for the end of
    the step, and {value: View} of products that accumulate straight into a sum."""
    fg = program.fgraph
    clients = {v: len(c) for v, c in fg.clients.items()}
    writable = {out for node in program.nodes if _writes_output(node) for out in node.outputs}
    home, copies, accumulate = {}, [], {}
    for var, (kind, view) in zip(fg.outputs, targets):
        if kind == "store":
            if var in writable and var not in home and view.shape == shapes[var] \
                    and view.matrix()[3] == view.dtype.itemsize:
                home[var] = view
            else:
                copies.append((view, var))
        else:  # "accumulate": view += var
            node = var.owner
            if (node is not None and isinstance(node.op, Dot) and clients[var] == 1
                    and var not in home and view.matrix()[3] == view.dtype.itemsize):
                accumulate[var] = view
            else:
                copies.append((("add", view), var))
    for node in reversed(program.nodes):
        if not isinstance(node.op, Join):
            continue
        out = node.outputs[0]
        if out not in home:
            home[out] = plan.temp(shapes[out], out.dtype)
        start = 0
        for x in node.inputs:
            length = shapes[x][node.op.axis]
            if (x in writable and x not in home and clients[x] == 1
                    and x.dtype == out.dtype):
                home[x] = home[out].part(node.op.axis, start, length)
            start += length
    return home, copies, accumulate


def emit_step(program, plan: Plan, inputs: list, targets: list) -> None:
    """Append one step of ``program`` to ``plan``: ``inputs[i]`` is the View of step input
    i; ``targets[j]`` is ("store", View) to write output j there or ("accumulate", View) to
    add it there. Raises Unsupported for a node or layout the C loop does not cover."""
    fg = program.fgraph
    shapes = _shapes(program, [v.shape for v in inputs])
    for v, view in zip(fg.inputs, inputs):
        if view.dtype != np.dtype(v.dtype):
            raise Unsupported(f"input of dtype {view.dtype} for {v.type}")
    home, copies, accumulate = _homes(program, plan, shapes, targets)
    where = dict(zip(fg.inputs, inputs))

    def view_of(v) -> View:
        if v not in where:  # a constant: kept in a scratch array
            if not isinstance(v, Constant):
                raise Unsupported(f"value {v} computed nowhere")
            array = np.asarray(v.data, dtype=v.dtype)
            t = plan.temp(array.shape, array.dtype)
            plan.temps[-1][...] = array
            where[v] = t
        return where[v]

    def output(v) -> View:
        view = home.get(v) or accumulate.get(v) or plan.temp(shapes[v], v.dtype)
        where[v] = view
        return view

    kernels = program.kernels or [None] * len(program.nodes)
    for node, kernel in zip(program.nodes, kernels):
        op = node.op
        if isinstance(op, Elemwise):
            _emit_elemwise(plan, node, kernel, [view_of(v) for v in node.inputs],
                           [output(v) for v in node.outputs])
        elif isinstance(op, Dot):
            a, b = view_of(node.inputs[0]), view_of(node.inputs[1])
            out = node.outputs[0]
            c = output(out)
            # vectors as a row (left) or a column (right): every case is one gemm
            a2 = a if len(a.shape) == 2 else View(a.slot, a.offset, (1,) + a.shape,
                                                   (0,) + a.strides, a.dtype)
            b2 = b if len(b.shape) == 2 else View(b.slot, b.offset, b.shape + (1,),
                                                   b.strides + (0,), b.dtype)
            c2 = View(c.slot, c.offset, (a2.shape[0], b2.shape[1]),
                      _matrix_strides(c, len(a.shape) == 2, len(b.shape) == 2), c.dtype)
            _emit_gemm(plan, a2, b2, c2, beta=int(out in accumulate))
        elif isinstance(op, Gemm):  # out = b * z + a * x @ y: z copied in, then one gemm
            z, a, x, y, b = node.inputs
            alpha, beta = (_constant_number(v, op) for v in (a, b))
            out = output(node.outputs[0])
            zv = view_of(z)
            if (zv.slot, zv.offset, zv.strides) != (out.slot, out.offset, out.strides):
                plan.copy(out, zv)
            _emit_gemm(plan, view_of(x), view_of(y), out, beta=beta, alpha=alpha)
        elif isinstance(op, Join):
            out = output(node.outputs[0])
            start = 0
            for x in node.inputs:
                part = out.part(op.axis, start, shapes[x][op.axis])
                src = view_of(x)
                if (src.slot, src.offset, src.strides) != (part.slot, part.offset, part.strides):
                    plan.copy(part, src)  # not written in place by its producer
                start += shapes[x][op.axis]
        elif isinstance(op, Split):
            x, start = view_of(node.inputs[0]), 0
            for out in node.outputs:
                where[out] = x.part(op.axis, start, shapes[out][op.axis])
                start += shapes[out][op.axis]
        elif type(op) is Subtensor:
            x = view_of(node.inputs[0])
            shape, strides, offset = _index_view(node, x.shape, x.strides)
            where[node.outputs[0]] = View(x.slot, x.offset + offset, shape, strides, x.dtype)
        elif isinstance(op, DimShuffle):
            x = view_of(node.inputs[0])
            strides = [0 if d == "x" else x.strides[d] for d in op.new_order]
            out = node.outputs[0]
            where[out] = View(x.slot, x.offset, shapes[out], strides, x.dtype)
        else:
            raise Unsupported(f"no C loop for {op}")
    for dst, var in copies:
        if isinstance(dst, tuple):  # ("add", sum): sum += var
            plan.add(dst[1], dst[1], view_of(var))
        else:
            plan.copy(dst, view_of(var))


def _constant_number(var, op) -> float:
    if not isinstance(var, Constant) or np.size(var.data) != 1:
        raise Unsupported(f"{op} with a coefficient computed in the step")
    return float(np.asarray(var.data).reshape(()))


def _matrix_strides(c: View, rows: bool, cols: bool) -> tuple:
    """The strides of ``c`` seen as a matrix whose axes ``rows``/``cols`` may be absent."""
    strides = list(c.strides)
    return (strides.pop(0) if rows else 0, strides.pop(0) if cols else 0)


def _emit_elemwise(plan: Plan, node, kernel, ins: list, outs: list) -> None:
    addresses = kernel.native() if kernel is not None and kernel.native is not None else None
    if not addresses or "c" not in addresses:
        raise Unsupported(f"no C kernel for {node.op}")
    roles = input_roles(node)
    arrays = [v for v, r in zip(ins, roles) if r == "array"] + outs
    shape = outs[0].shape
    if any(v.shape != shape for v in arrays):
        raise Unsupported(f"{node.op}: broadcast operands")
    if len(arrays) + sum(r != "array" for r in roles) > MAX_ARGS:
        raise Unsupported(f"{node.op}: too many operands")
    if all(v.contiguous() for v in arrays):
        rows, n = 1, int(np.prod(shape, dtype=np.int64))
    elif all(v.matrix()[3] == v.dtype.itemsize for v in arrays):
        rows, n = outs[0].matrix()[:2]
    else:
        raise Unsupported(f"{node.op}: strided columns")
    if n == 0 or rows == 0:
        return
    plan.code += [EW, addresses["c"], len(ins) + len(outs), rows, n]
    for v in outs:
        plan.code += [v.slot, v.offset, v.matrix()[2] if rows > 1 else 0]
    for v, role in zip(ins, roles):
        if role == "const":
            plan.code += [-1, 0, 0]
        else:
            step = v.matrix()[2] if rows > 1 and role == "array" else 0
            plan.code += [v.slot, v.offset, step]


def _blas_operand(v: View) -> tuple[int, int]:
    """(transposed, leading dimension) of a matrix operand for row-major BLAS."""
    layout = matrix_layout(*v.matrix(), v.dtype.itemsize)
    if layout is None:
        raise Unsupported("a matrix operand with no contiguous axis")
    return layout


def _emit_gemm(plan: Plan, a: View, b: View, c: View, beta: float, alpha: float = 1.0) -> None:
    if not (a.dtype == b.dtype == c.dtype and a.dtype in (np.float32, np.float64)):
        raise Unsupported(f"dot of {a.dtype} and {b.dtype}")
    (ta, lda), (tb, ldb), (tc, ldc) = _blas_operand(a), _blas_operand(b), _blas_operand(c)
    if tc:
        raise Unsupported("dot into a transposed result")
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        raise Unsupported("dot over an empty axis")
    bits = np.array([alpha, beta], dtype=np.float64).view(np.int64)
    plan.code += [GEMM, int(a.dtype == np.float64), ta, tb, m, n, k, lda, ldb, ldc,
                  int(bits[0]), int(bits[1]), a.slot, a.offset, b.slot, b.offset, c.slot, c.offset]


# ----------------------------------------------------------------------------- running

def slot_table(plan: Plan, groups: dict) -> np.ndarray:
    """Per slot (base, step, alt_t, alt): the pointer at step t is base + t * step, or alt
    when t == alt_t. ``groups[name][i]`` are the arrays the "rows"/"fixed" sources name."""
    table = np.empty((len(plan.sources), 4), dtype=np.int64)
    for s, source in enumerate(plan.sources):
        kind = source[0]
        if kind == "temp":
            table[s] = (source[1].ctypes.data, 0, -1, 0)
        elif kind == "fixed":
            table[s] = (groups[source[1]][source[2]].ctypes.data, 0, -1, 0)
        else:  # ("rows", group, index, shift[, alt group, alt index]): row t + shift
            a = groups[source[1]][source[2]]
            step = a.strides[0]
            alt = (0, groups[source[4]][source[5]].ctypes.data) if len(source) > 4 else (-1, 0)
            table[s] = (a.ctypes.data + source[3] * step, step) + alt
    return table


def run(plan: Plan, groups: dict, t0: int, t1: int, dt: int) -> bool:
    """Run steps t0, t0 + dt, ... (not t1) in C; False when a kernel reported an error."""
    code = plan.code_array
    if code is None or len(code) != len(plan.code):
        code = plan.code_array = np.array(plan.code, dtype=np.int64)
    return loop_interpreter.execute(code, slot_table(plan, groups), t0, t1, dt) == 0


def available() -> bool:
    """True when the loop interpreter compiles here and numpy's BLAS is found."""
    return loop_interpreter.available()


# ----------------------------------------------------------------------------- the loops

def _rows(plan: Plan, group: str, index: int, array, shift: int = 0, alt=None) -> View:
    if not isinstance(array, np.ndarray) or array.ndim < 1:
        raise Unsupported("a sequence that is not an array")
    source = ("rows", group, index, shift) + (alt or ())
    return View(plan.slot(source), 0, array.shape[1:], array.strides[1:], array.dtype)


def _fixed(plan: Plan, group: str, index: int, array) -> View:
    if not isinstance(array, np.ndarray):
        raise Unsupported("a non-sequence that is not an array")
    return View(plan.slot(("fixed", group, index)), 0, array.shape, array.strides, array.dtype)


def _layout(groups: dict) -> tuple:
    return tuple((name, tuple((a.shape, a.strides, a.dtype.str) if isinstance(a, np.ndarray)
                              else None for a in arrays)) for name, arrays in groups.items())


class _Plans:
    """Plans by input layout; None where the step does not fit (not retried)."""

    def __init__(self, build):
        self.build, self.cache = build, {}

    def get(self, groups: dict) -> Plan | None:
        key = _layout(groups)
        if key not in self.cache:
            if len(self.cache) >= 16:  # layouts seen long ago (another batch size)
                self.cache.clear()
            try:
                self.cache[key] = self.build(groups)
            except Unsupported:
                self.cache[key] = None
        return self.cache[key]


def forward_loop(program, python_loop, n_seqs: int, n_states: int, n_nit: int):
    """``python_loop`` (``scan_loops.step_loop``'s function) with C taking over large
    loops whose step it covers: ``loop(t0, n, seqs, bufs, nits, nonseqs)`` runs steps
    t0 .. n - 1, reading row t of the sequences and buffers, writing row t + 1 of the
    buffers and row t of the nit-sot outputs. ``program``'s kernels are the C backend's."""
    def build(groups):
        plan = Plan()
        ins = [_rows(plan, "seq", k, a) for k, a in enumerate(groups["seq"])]
        ins += [_rows(plan, "buf", j, a) for j, a in enumerate(groups["buf"])]
        ins += [_fixed(plan, "nonseq", k, a) for k, a in enumerate(groups["nonseq"])]
        targets = [("store", _rows(plan, "buf", j, a, shift=1))
                   for j, a in enumerate(groups["buf"])]
        targets += [("store", _rows(plan, "nit", k, a)) for k, a in enumerate(groups["nit"])]
        emit_step(program, plan, ins, targets)
        return plan

    plans = _Plans(build)

    def loop(t0, n, seqs, bufs, nits, nonseqs):
        work = (n - t0) * sum(a[0].size for a in list(bufs) + list(nits) if len(a))
        if work >= LOOP_WORK and available():
            groups = {"seq": seqs, "buf": bufs, "nit": nits, "nonseq": nonseqs}
            plan = plans.get(groups)
            if plan is not None and run(plan, groups, t0, n, 1):
                return
        python_loop(t0, n, seqs, bufs, nits, nonseqs)

    return loop


def backward_loop(program, python_loop, counts):
    """``python_loop`` (``scan_loops.backward_loop``'s function, same arguments and
    result) with C taking over large loops whose step it covers: steps n - 1 .. 0, the
    sequence gradients written to their rows, the non-sequence gradients summed, the
    gradients sent back to the states carried from step to step. ``program``'s kernels are
    the C backend's."""
    n_seq, n_st, n_tr, n_ns, n_nit, n_nc, n_ds, n_dn = counts

    def build(groups):
        plan = Plan()
        ins = [_rows(plan, "seq", k, a) for k, a in enumerate(groups["seq"])]
        # the state before step t: output row t - 1, or the initial value's row at t = 0
        ins += [_rows(plan, "out", j, a, shift=-1, alt=("tail", j))
                for j, a in enumerate(groups["out"])]
        ins += [_rows(plan, "trace", k, a) for k, a in enumerate(groups["trace"])]
        ins += [_fixed(plan, "nonseq", k, a) for k, a in enumerate(groups["nonseq"])]
        ins += [_rows(plan, "out", j, a) for j, a in enumerate(groups["out"])]
        ins += [_rows(plan, "nit", k, a) for k, a in enumerate(groups["nit"])]
        pending = []  # what later steps sent to each state, summed with its cotangent
        for j, a in enumerate(groups["cot"]):
            cot = _rows(plan, "cot", j, a)
            sent, total = plan.temp(cot.shape, cot.dtype), plan.temp(cot.shape, cot.dtype)
            plan.add(total, cot, sent)
            pending.append(sent)
            ins.append(total)
        ins += [_rows(plan, "ncot", k, a) for k, a in enumerate(groups["ncot"])]
        targets = [("store", _rows(plan, "dseq", k, a)) for k, a in enumerate(groups["dseq"])]
        targets += [("store", p) for p in pending]
        targets += [("accumulate", _fixed(plan, "dnon", k, a))
                    for k, a in enumerate(groups["dnon"])]
        emit_step(program, plan, ins, targets)
        plan.pending = [plan.sources[p.slot][1] for p in pending]  # their arrays
        return plan

    plans = _Plans(build)

    def loop(n, seqs, outs, tails, traces, nonseqs, nits, cots, ncots, dseqs, dnon):
        work = n * sum(a[0].size for a in list(dseqs) + list(cots) if len(a))
        if work >= LOOP_WORK and available():
            groups = {"seq": seqs, "out": outs, "tail": tails, "trace": traces,
                      "nonseq": nonseqs, "nit": nits, "cot": cots, "ncot": ncots,
                      "dseq": dseqs, "dnon": dnon}
            plan = plans.get(groups)
            if plan is not None:
                for p in plan.pending:
                    p.fill(0)
                if run(plan, groups, n - 1, -1, -1):
                    return [p.copy() for p in plan.pending]
                for d in dnon:  # a kernel failed: the Python loop redoes it (and raises)
                    d.fill(0)
        return python_loop(n, seqs, outs, tails, traces, nonseqs, nits, cots, ncots, dseqs,
                           dnon)

    return loop
