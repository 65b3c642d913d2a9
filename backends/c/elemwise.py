"""C loops for Elemwise nodes, plain or fused (Composite).

Each node gets two C functions:

* ``<k>_c(n, out..., in...)``: every non-scalar operand C-contiguous with the
  output's shape (the fast path; SIMD, and OpenMP when the loop is large);
* ``<k>_s(desc, runner)``: any strides and broadcasts, described by one int64 array
  ``[ndim, shape..., (pointer, strides...) per operand]``; it hands the node's loop
  to the shared runner of ``strided.py``.

Inputs that are statically scalar (every axis broadcastable) are loaded once;
scalar constants are inlined as C literals, so ``a ** 10`` becomes products.
The Python side is a small generated function per node that checks the fast
path's conditions and otherwise prepares the strided call.
"""
from __future__ import annotations

import re
import sys

import numpy as np

from core.compile.code_cache import compile_cached
from core.graph.basic import Constant
from core.tensor import scalar_ops as ps

from ..numpy.elemwise import _broadcast_error, elemwise_kernel as numpy_elemwise_kernel
from .scalar import TRANSCENDENTAL, VECTOR_MATH, Arg, Unsupported, ctype, literal, scalar_c
from .spec import KernelSpec, raise_status

_EXPENSIVE = tuple(TRANSCENDENTAL) + (ps.Pow, ps.Sigmoid, ps.Softplus, ps.TrueDiv, ps.IntDiv,
                                      ps.Mod)
SMALL = 1024  # below this many elements a single numpy ufunc is cheaper than a cffi call
REUSE_MIN = 1 << 15  # outputs this large reuse their buffer across calls when it is free
# Reuse relies on exact reference counts (cache + local + getrefcount's argument == 3);
# CPython 3.14 borrows some references, so it stays off there rather than risk aliasing.
if sys.version_info >= (3, 14):
    REUSE_MIN = 1 << 62


def _inner_graph(scalar_op):
    """(inner inputs, toposorted inner nodes, inner outputs) of a scalar op or Composite."""
    if hasattr(scalar_op, "fgraph"):
        fg = scalar_op.fgraph
        return list(fg.inputs), fg.toposort(), list(fg.outputs)
    return None


def _const_value(var):
    data = np.asarray(var.data)
    return data.reshape(()) if data.size == 1 else None


def body(node, in_args: list[Arg]) -> tuple[list[str], list[str], int]:
    """C statements computing the node's outputs from ``in_args``; (stmts, out exprs, cost)."""
    op = node.op.scalar_op
    inner = _inner_graph(op)
    if inner is None:
        out_dtype = node.outputs[0].dtype
        expr = scalar_c(op, in_args, out_dtype)
        cost = 8 if isinstance(op, _EXPENSIVE) else 1
        return [], [expr], cost
    inputs, order, outputs = inner
    env = {id(v): a for v, a in zip(inputs, in_args)}
    stmts, cost = [], 0

    def get(v):
        a = env.get(id(v))
        if a is None:  # an inner ScalarConstant
            value = np.asarray(v.data, dtype=v.type.dtype).reshape(())
            a = Arg(literal(value, v.type.dtype), v.type.dtype, value)
            env[id(v)] = a
        return a

    for j, n in enumerate(order):
        if len(n.outputs) != 1:
            raise Unsupported(f"multi-output scalar op {n.op}")
        out = n.outputs[0]
        expr = scalar_c(n.op, [get(v) for v in n.inputs], out.type.dtype)
        name = f"t{j}"
        # bool temporaries as int: the same lane width as the float math around them
        decl = "int" if out.type.dtype == "bool" else ctype(out.type.dtype)
        stmts.append(f"const {decl} {name} = {expr};")
        env[id(out)] = Arg(name, out.type.dtype)
        cost += 8 if isinstance(n.op, _EXPENSIVE) else 1
    return stmts, [get(v).expr for v in outputs], max(cost, 1)


def input_roles(node) -> list[str]:
    """Each input's role in the generated loop: 'const' (a size-1 constant, inlined as a C
    literal; its pointer is never read), 'scalar' (static size 1, loaded once) or 'array'."""
    roles = []
    for v in node.inputs:
        if isinstance(v, Constant) and _const_value(v) is not None:
            roles.append("const")
        elif all(v.type.broadcastable):
            roles.append("scalar")
        else:
            roles.append("array")
    return roles


def elemwise_spec(node) -> KernelSpec:
    """Generate C for an Elemwise node (raises ``Unsupported`` when it cannot)."""
    nin, nout = len(node.inputs), len(node.outputs)
    in_dtypes = [v.dtype for v in node.inputs]
    out_dtypes = [v.dtype for v in node.outputs]
    in_ct = [ctype(d) for d in in_dtypes]
    out_ct = [ctype(d) for d in out_dtypes]
    roles = input_roles(node)
    in_args = [Arg(literal(_const_value(v), in_dtypes[k]), in_dtypes[k], _const_value(v))
               if role == "const" else Arg(f"x{k}", in_dtypes[k])
               for k, (v, role) in enumerate(zip(node.inputs, roles))]
    stmts, outs, cost = body(node, in_args)
    threshold = max(4096, (1 << 18) // cost)
    compute = "\n        ".join(stmts)
    nops = nout + nin
    # One vectorized loop per node (the chunk); the contiguous entry splits it across
    # threads when large, the strided entry calls it per row when rows are contiguous.
    chunk, scalar_loads, locals_ = _chunk("chunk", roles, in_ct, out_ct, compute, outs)
    contig_params = ", ".join(["intptr_t n"] + [f"char *o{k}" for k in range(nout)]
                              + [f"char *i{k}" for k in range(nin)])
    ptr_list = ", ".join([f"o{k}" for k in range(nout)] + [f"i{k}" for k in range(nin)])
    sizes = [f"(int64_t)sizeof({t})" for t in out_ct] + [
        f"(int64_t)sizeof({in_ct[k]})" if roles[k] == "array" else "0" for k in range(nin)]
    nt = _streaming_chunk(nout, out_ct, scalar_loads, locals_, compute, outs, in_ct, roles)
    contig = f"""
{nt}
int @K@_c({contig_params}) {{
    char *p[{nops}] = {{{ptr_list}}};
#ifdef LG_STREAMING
    return lg_run_out(n, {threshold}, @K@_chunk, {"@K@_nt" if nt else "0"}, (intptr_t)sizeof({out_ct[0]}), p);
#else
    return lg_run(n, {threshold}, @K@_chunk, p);
#endif
}}"""
    # Any layout (broadcast, transposed, sliced): the shared runner (strided.py, compiled
    # once per machine) feeds this node's vectorized chunk row by row, through small
    # transposed tiles where needed.
    strided = f"""
int @K@_s(char *desc_, char *runner) {{
    static const int64_t size[{nops}] = {{{", ".join(sizes)}}};
    return ((int (*)(const int64_t *, int, int, const int64_t *, lg_chunk_fn, intptr_t))runner)(
        (const int64_t *)desc_, {nops}, {nout}, size, @K@_chunk, {threshold});
}}"""
    source = chunk + contig + strided
    sig_c = "i" + "p" * nops
    symbols = [("c", sig_c), ("s", "pp")]
    rows = row_inputs(node, roles)
    entry_params = contig_params.replace("intptr_t n", "intptr_t m")
    if rows:
        # Rows broadcast along axis 0 (a bias added to a matrix): the chunk runs per row.
        source += _per_row_entry("r", "chunk", entry_params, nops, [
            f"o{k} + r * m * (intptr_t)sizeof({out_ct[k]})" for k in range(nout)] + [
            f"i{k}" if (roles[k] != "array" or k in rows) else
            f"i{k} + r * m * (intptr_t)sizeof({in_ct[k]})" for k in range(nin)])
        symbols.append(("r", "i" + sig_c))
    cols = column_inputs(node, roles)
    if cols:
        # Columns broadcast along the last axis (a row's sum dividing the row, as softmax
        # normalizes): per row, each column input is one scalar of a chunk that loads it
        # once; the strided entry would go through tiles, and Python sets it up per call.
        col_roles = ["scalar" if k in cols else r for k, r in enumerate(roles)]
        source += _chunk("colchunk", col_roles, in_ct, out_ct, compute, outs)[0]
        source += _per_row_entry("q", "colchunk", entry_params, nops, [
            f"o{k} + r * m * (intptr_t)sizeof({out_ct[k]})" for k in range(nout)] + [
            f"i{k}" if roles[k] != "array" else
            f"i{k} + r * (intptr_t)sizeof({in_ct[k]})" if k in cols else
            f"i{k} + r * m * (intptr_t)sizeof({in_ct[k]})" for k in range(nin)])
        symbols.append(("q", "i" + sig_c))

    def bind(ptrs):
        extra = dict(zip([name for name, _ in symbols[2:]], ptrs[2:]))
        return _make_kernel(node, roles, ptrs[0], ptrs[1], extra.get("r"), extra.get("q"))

    return KernelSpec(source, symbols, bind)


def _per_row_entry(name: str, chunk: str, params: str, nops: int, offsets: list) -> str:
    """C entry ``@K@_{name}(rows, m, ...)`` calling ``@K@_{chunk}`` once per row of ``m``
    elements, operand ``k`` at ``offsets[k]`` (a C expression of the row ``r``)."""
    return f"""
int @K@_{name}(intptr_t rows, {params}) {{
    int err = 0;
    for (intptr_t r = 0; r < rows; r++) {{
        char *p[{nops}] = {{{", ".join(offsets)}}};
        @K@_{chunk}(0, m, p, &err);
    }}
    return err;
}}"""


def _chunk(name: str, roles: list, in_ct: list, out_ct: list, compute: str, outs: list):
    """(C source of the vectorized loop ``@K@_{name}`` over [lo, hi) for inputs read as
    ``roles``, its scalar loads, its pointer locals)."""
    nout, nin = len(out_ct), len(in_ct)
    loads = _array_loads(in_ct, roles, lambda k: f"P{nout + k}[j]", " " * 8)
    stores = "".join(f"P{k}[j] = {e};\n        " for k, e in enumerate(outs))
    locals_ = "".join(f"    {out_ct[k]} *P{k} = ({out_ct[k]} *)p[{k}];\n" for k in range(nout)) + "".join(
        f"    const {in_ct[k]} *P{nout + k} = (const {in_ct[k]} *)p[{nout + k}];\n"
        for k in range(nin) if roles[k] == "array")
    scalar_loads = "".join(f"    const {in_ct[k]} x{k} = *(const {in_ct[k]} *)p[{nout + k}];\n"
                           for k in range(nin) if roles[k] == "scalar")
    source = f"""
__attribute__((noinline)) static void @K@_{name}(intptr_t lo, intptr_t hi, char **p, int *err_) {{
    int err = 0;
{scalar_loads}{locals_}    #pragma omp simd reduction(|:err)
    for (intptr_t j = lo; j < hi; j++) {{
        {loads}{compute}
        {stores}
    }}
    *err_ |= err;
}}"""
    return source, scalar_loads, locals_


def _array_loads(in_ct: list, roles: list, address, indent: str) -> str:
    """C statements loading each array input ``k`` from ``address(k)`` into ``x{k}``."""
    return "".join(f"const {in_ct[k]} x{k} = {address(k)};\n{indent}"
                   for k, role in enumerate(roles) if role == "array")


def _streaming_chunk(nout, out_ct, scalar_loads, locals_, compute, outs, in_ct, roles) -> str:
    """The chunk with streaming (non-temporal) stores, for outputs too large for the caches:
    groups of one 64-byte vector per output computed into registers (a small array the
    compiler keeps in one), then stored with a streaming store; the unaligned head
    and the tail go through the plain chunk. Only where every output and array input has one
    C type (with mixed element sizes gcc leaves the fixed 64-byte group loop scalar), and only
    for loops without vector-math calls: there the loop is compute-bound, and streaming
    stores measured 3x slower (exp/sin/tanh on 1e7 floats: 32 ms against 10)."""
    calls = re.compile(r"\b(" + "|".join(VECTOR_MATH) + r")f?\(")
    widths = {out_ct[0]} | {t for t, role in zip(in_ct, roles) if role == "array"}
    if len(set(out_ct)) != 1 or calls.search(compute) or len(widths) != 1:
        return ""
    group = f"(64 / (int)sizeof({out_ct[0]}))"
    loads = _array_loads(in_ct, roles, lambda k: f"P{nout + k}[j + g]", " " * 12)
    temps = "".join(f"        {out_ct[k]} r{k}[{group}] __attribute__((aligned(64)));\n"
                    for k in range(nout))
    return f"""
#ifdef LG_STREAMING
__attribute__((noinline)) static void @K@_nt(intptr_t lo, intptr_t hi, char **p, int *err_) {{
    int err = 0;
{scalar_loads}{locals_}    intptr_t j = lo;
    /* the outputs must reach a 64-byte boundary together, else plain stores throughout */
    while (j < hi && ((intptr_t)(P0 + j) & 63)) j++;
    int aligned = 1;
    for (int k = 1; k < {nout}; k++) if ((intptr_t)((char *)p[k] + j * sizeof({out_ct[0]})) & 63) aligned = 0;
    if (!aligned) {{ @K@_chunk(lo, hi, p, err_); return; }}
    @K@_chunk(lo, j, p, &err);
    for (; j + {group} <= hi; j += {group}) {{
{temps}        #pragma omp simd{" reduction(|:err)" if "err" in compute else ""}
        for (int g = 0; g < {group}; g++) {{
            {loads}{compute}
            {"".join(f"r{k}[g] = {e};" for k, e in enumerate(outs))}
        }}
        {"".join(f"LG_STREAM64(P{k} + j, r{k});" for k in range(nout))}
    }}
    @K@_chunk(j, hi, p, &err);
    LG_SFENCE();
    *err_ |= err;
}}
#endif"""


def column_inputs(node, roles) -> list[int]:
    """Array inputs broadcast along the last axis ((rows, 1) against (rows, m)) beside at
    least one full array input, in a node with no row-broadcast input."""
    if node.outputs[0].ndim < 2 or row_inputs(node, roles):
        return []
    cols = [k for k, v in enumerate(node.inputs)
            if roles[k] == "array" and v.type.shape[-1] == 1]
    full = [k for k in range(len(node.inputs)) if roles[k] == "array" and k not in cols]
    return cols if full else []


def row_inputs(node, roles) -> list[int]:
    """Array inputs statically broadcast along axis 0 only (shape (1, ...)), when others are full."""
    if node.outputs[0].ndim < 2 or node.outputs[0].type.shape[0] == 1:
        return []
    rows = [k for k, v in enumerate(node.inputs)
            if roles[k] == "array" and v.type.shape[0] == 1]
    full = [k for k in range(len(node.inputs)) if roles[k] == "array" and k not in rows]
    return rows if full else []


def _strided_call(node, roles, fs, inputs):
    """Run the strided C loop: broadcast, choose a memory-friendly axis order, describe."""
    dtypes = [np.dtype(v.dtype) for v in node.inputs]
    arrays = []
    for x, dt in zip(inputs, dtypes):
        x = np.asarray(x)
        arrays.append(x if x.dtype == dt else x.astype(dt))
    try:
        shape = np.broadcast_shapes(*[a.shape for a in arrays])
    except ValueError:
        raise ValueError(f"{node.op}: input shapes {[a.shape for a in arrays]} do not "
                         f"broadcast together") from None
    for k, (var, a) in enumerate(zip(node.inputs, arrays)):
        if a.ndim != var.type.ndim:
            raise ValueError(f"{node.op}: input {k} has {a.ndim} dimensions, expected "
                             f"{var.type.ndim} ({var.type})")
        if a.shape != shape and not all(var.type.broadcastable):
            err = _broadcast_error(node, arrays, shape)
            if err is not None:
                raise err
    out_dtypes = [np.dtype(v.dtype) for v in node.outputs]
    nd = len(shape)
    if 0 in shape:
        outs = [np.empty(shape, dt) for dt in out_dtypes]
        return outs[0] if len(outs) == 1 else tuple(outs)
    views = [np.broadcast_to(a, shape) for a in arrays]
    # Iterate in the memory order of the largest array operand (transposed inputs stay fast).
    lead = max((v for v, r in zip(views, roles) if r == "array"), default=None,
               key=lambda v: np.count_nonzero(v.strides))
    perm = list(range(nd))
    if lead is not None and nd > 1:
        perm = sorted(range(nd), key=lambda a: -abs(lead.strides[a]))
    pshape = [shape[a] for a in perm]
    inv = np.argsort(perm)
    # An inplace output overwrites its input where it lies, strided or not (a column block
    # of a weight in shared memory): each element is read before it is written.
    inplace = dict(node.op.inplace_pattern)
    outs = [arrays[inplace[k]] if _overwritable(arrays, inputs, inplace.get(k), shape, dt,
                                                perm[-1] if nd else None)
            else np.empty(pshape, dt).transpose(inv) for k, dt in enumerate(out_dtypes)]
    outs_p = [o.transpose(perm) for o in outs]
    ops = outs + views
    if nd == 0:
        pshape, perm = [1], [0]
        ops = [o.reshape(1) for o in ops]
    desc = [len(pshape), *pshape]
    for a in ops:
        desc.append(a.ctypes.data)
        desc.extend((a.strides[p] if a.ndim else 0) for p in perm)
    desc = np.array(desc, dtype=np.int64)
    from .spec import ffi_from_buffer
    from .strided import runner

    address = runner()
    if address is None:  # no compiler for the shared runner: numpy computes this call
        return numpy_elemwise_kernel(node)(*inputs)
    status = fs(ffi_from_buffer(desc), address)
    if status:
        raise_status(node, status)
    return outs[0] if len(outs) == 1 else tuple(outs)


def _column_major_path(node, arrays: list, dtype_cond: list, ret: str) -> str:
    """The Python test and call of the contiguous entry for operands that are all
    column-major (Fortran-contiguous) and of one shape, outputs made so too: elementwise,
    the order of the elements does not matter (a column-split weight's block, stored
    transposed, updated in place)."""
    first = arrays[0]
    conds = dtype_cond + [f"x{k}.flags.f_contiguous" for k in arrays]
    conds += [f"x{k}.shape == x{first}.shape" for k in arrays[1:]]
    inplace = dict(node.op.inplace_pattern)
    allocs = []
    for k in range(len(node.outputs)):
        src = inplace.get(k)
        fresh = f"empty(x{first}.shape, O{k}, order='F')"
        if src in arrays and node.inputs[src].dtype == node.outputs[k].dtype:
            apart = "".join(f" and (x{j} is x{src} or not may_share(x{src}, x{j}))"
                            for j in arrays if j != src)  # (another view of its memory)
            allocs.append(f"o{k} = x{src} if x{src}.flags.writeable{apart} else {fresh}")
        else:
            allocs.append(f"o{k} = {fresh}")
    # (the transposes are C-contiguous: the buffers the entry reads and writes)
    ptrs = ", ".join([f"fb(o{k}.T)" for k in range(len(node.outputs))]
                     + [f"fb(x{k}.T)" for k in range(len(node.inputs))])
    return (f"        if {' and '.join(conds)}:\n"
            f"            {'; '.join(allocs)}\n"
            f"            if fc(x{first}.size, {ptrs}):\n"
            f"                raise_status(node, 1)\n"
            f"            return {ret}\n")


def _overwritable(arrays: list, inputs: tuple, src, shape: tuple, dtype, inner) -> bool:
    """Whether input ``src`` (None: no inplace output) can take the output itself: the
    runner writes outputs contiguously along the ``inner`` axis, the last it iterates."""
    if src is None:
        return False
    a = arrays[src]
    return (a is inputs[src] and a.shape == shape and a.dtype == dtype and a.flags.writeable
            and (inner is None or a.strides[inner] == a.itemsize)
            and all(step or n == 1 for step, n in zip(a.strides, a.shape))  # no repeats
            and not any(b is not a and np.may_share_memory(a, b)  # (x + x.T into x)
                        for b in arrays))


_TEMPLATE = """
def make(fc, fs, fr, fq, fb, empty, strided, small, node, roles, raise_status, getrefcount, {dts}):
    {caches}
    def kernel({args}):
        if {cond}:
{small_path}            {alloc}
            if fc({n}, {ptrs}):
                raise_status(node, 1)
            return {ret}
{row_path}        return strided(node, roles, fs, ({args},))
    return kernel
"""

_ROW_PATH = """        if {cond}:
            {alloc}
            if fr({rows}, {n} // {rows} if {rows} else 0, {ptrs}):
                raise_status(node, 1)
            return {ret}
"""


def _allocs(node, roles, shape: str, n: str, allowed_sources) -> list[str]:
    inplace = dict(node.op.inplace_pattern)
    allocs = []
    for k in range(len(node.outputs)):
        src = inplace.get(k)
        if (src is not None and src in allowed_sources
                and node.inputs[src].dtype == node.outputs[k].dtype):
            allocs.append(f"o{k} = x{src} if x{src}.flags.writeable else empty({shape}, O{k})")
        else:
            # Large outputs reuse one of the last two calls' buffers when nobody else holds
            # it any more (refcount 3: the cache, this local, getrefcount's argument): no page
            # faults. Two, so that an update (the output becomes the new shared value, the
            # previous value is dropped) reuses the buffer the update before replaced.
            free = f"o{k} is not None and getrefcount(o{k}) == 3 and o{k}.shape == {shape}"
            allocs.append(f"o{k} = c{k}[0]\n            if {n} < {REUSE_MIN} or not ({free}):\n"
                          f"                o{k} = c{k}[1]\n"
                          f"                if {n} < {REUSE_MIN} or not ({free}):\n"
                          f"                    o{k} = empty({shape}, O{k})\n"
                          f"                    if {n} >= {REUSE_MIN}: c{k}[1] = c{k}[0]; c{k}[0] = o{k}")
    return allocs


def _make_kernel(node, roles, fc, fs, fr=None, fq=None):
    from .spec import ffi_from_buffer

    nin, nout = len(node.inputs), len(node.outputs)
    args = ", ".join(f"x{k}" for k in range(nin))
    arrays = [k for k in range(nin) if roles[k] == "array"]
    dts = [f"D{k}" for k in range(nin)] + [f"O{k}" for k in range(nout)]
    # ``is`` first (fast), ``==`` for an equal dtype object that is not numpy's own (an
    # unpickled array's: process 0's weights broadcast through MPI, a pickled data set)
    dtype_cond = [f"(x{k}.dtype is D{k} or x{k}.dtype == D{k})" for k in range(nin)]
    cond = list(dtype_cond)
    if arrays:
        first = arrays[0]
        cond += [f"x{k}.flags.c_contiguous" for k in arrays]
        cond += [f"x{k}.shape == x{first}.shape" for k in arrays[1:]]
        shape, n = f"x{first}.shape", f"x{first}.size"
    else:
        shape, n = repr(tuple(1 for _ in range(node.outputs[0].ndim))), "1"
    inplace = dict(node.op.inplace_pattern)
    allocs = _allocs(node, roles, shape, n, set(arrays))
    ptrs = ", ".join([f"fb(o{k})" for k in range(nout)] + [f"fb(x{k})" for k in range(nin)])
    ret = "o0" if nout == 1 else "(" + ", ".join(f"o{k}" for k in range(nout)) + ",)"
    small_path = ""
    numpy_small = None
    same_float = {v.dtype for v in node.inputs + node.outputs} in ({"float32"}, {"float64"})
    if (arrays and nout == 1 and same_float and not hasattr(node.op.scalar_op, "fgraph")
            and not inplace):
        from ..numpy.scalar import scalar_impl

        try:
            fn = scalar_impl(node.op.scalar_op)
        except NotImplementedError:
            fn = None
        if isinstance(fn, np.ufunc) and not any(r == "scalar" for r in roles):
            numpy_small = numpy_elemwise_kernel(node)
            small_path = (f"            if {n} < {SMALL}:\n"
                          f"                return small({args})\n")
    def per_row_path(entry: str, broadcast: list, matches: str, rows: str) -> str:
        """The Python test and call of a per-row entry: ``broadcast`` inputs meet
        ``matches`` (a format of k and the first full input f) against the full ones."""
        full = [k for k in arrays if k not in broadcast]
        f0 = full[0]
        conds = dtype_cond + [f"x{k}.flags.c_contiguous" for k in arrays]
        conds += [f"x{k}.shape == x{f0}.shape" for k in full[1:]]
        conds += [matches.format(k=k, f=f0) for k in broadcast]
        size = f"x{f0}.size"
        return _ROW_PATH.replace("fr(", f"{entry}(").format(
            cond=" and ".join(conds), alloc="\n            ".join(_allocs(node, roles, f"x{f0}.shape", size, set(full))),
            rows=rows.format(f=f0), n=size, ptrs=ptrs, ret=ret)

    row_path = ""
    rows, cols = row_inputs(node, roles), column_inputs(node, roles)
    if fr is not None and rows:
        row_path = per_row_path("fr", rows, "x{k}.shape[0] == 1 and x{k}.shape[1:] == x{f}.shape[1:]",
                                "x{f}.shape[0]")
    if fq is not None and cols:
        row_path += per_row_path("fq", cols, "x{k}.shape[-1] == 1 and x{k}.shape[:-1] == x{f}.shape[:-1]",
                                 "(x{f}.size // x{f}.shape[-1] if x{f}.shape[-1] else 0)")
    if len(arrays) > 0 and node.outputs[0].ndim > 1:
        row_path = _column_major_path(node, arrays, dtype_cond, ret) + row_path
    src = _TEMPLATE.format(dts=", ".join(dts), args=args, cond=" and ".join(cond), row_path=row_path,
                           caches="; ".join(f"c{k} = [None, None]" for k in range(nout)) or "pass",
                           small_path=small_path, alloc="\n            ".join(allocs), n=n, ptrs=ptrs,
                           ret=ret)
    namespace: dict = {"may_share": np.may_share_memory}
    exec(compile_cached(src, "<c kernel>"), namespace)
    dtype_objs = [np.dtype(v.dtype) for v in node.inputs] + [np.dtype(v.dtype) for v in node.outputs]
    return namespace["make"](fc, fs, fr, fq, ffi_from_buffer, np.empty, _strided_call, numpy_small,
                             node, roles, raise_status, sys.getrefcount, *dtype_objs)
