"""The C backend: kernels generated as C, compiled through cffi, cached on disk.

``make_kernels(nodes)`` generates C for every node it covers (Elemwise and
fused Composite loops, reductions, argmax, the softmax family and the
crossentropies), compiles them in ONE compiler call into ONE module, and
returns one kernel per node. Nodes it does not cover run their numpy kernel:
views, shapes, indexing and dense products (numpy's BLAS) by design, silently;
a node it covers but cannot generate (float16, complex, an unknown scalar op),
or every node when no compiler works, with one warning per process.
"""
from __future__ import annotations

import hashlib

from ..registry import KernelRegistry
from .compiler import CompileError, compiler, ffi, load_module, signature, warn_once
from .scalar import Unsupported, preamble

generators = KernelRegistry("c")

from . import elemwise as _elemwise, nnet as _nnet, reduce as _reduce  # noqa: E402

from core.tensor.elemwise import Elemwise as _Elemwise  # noqa: E402

generators.register(_Elemwise)(_elemwise.elemwise_spec)


def available() -> bool:
    """True when a C compiler was found."""
    return compiler() is not None


def _numpy_kernel(node):
    from ..numpy import registry

    return registry.make_kernel(node)


def module_source(specs) -> tuple[str, list[tuple[str, str]], list[list[int]]]:
    """One C module for ``specs``: (source, table of (symbol, signature), table index per spec)."""
    parts, table, index, seen = [preamble()], [], [], {}
    for spec in specs:
        if spec is None:
            index.append(None)
            continue
        name = "k" + hashlib.sha1(spec.source.encode()).hexdigest()[:16]
        if name not in seen:
            parts.append(spec.source.replace("@K@", name))
            seen[name] = [len(table) + i for i in range(len(spec.symbols))]
            table.extend((f"{name}_{suffix}", sig) for suffix, sig in spec.symbols)
        index.append(seen[name])
    entries = ", ".join(f"(void *){sym}" for sym, _ in table)
    parts.append(f"static void *lg_table[] = {{{entries or '0'}}};\n"
                 f"void *lg_get(int i) {{ return lg_table[i]; }}\n")
    return "\n".join(parts), table, index


def make_kernels(nodes) -> list:
    """One kernel per node; the C ones compiled together in one module."""
    specs, missing = [], []
    for node in nodes:
        factory = generators.lookup(node.op)
        spec = None
        if factory is not None:
            try:
                spec = factory(node)
            except Unsupported as exc:
                missing.append(f"{node.op} ({exc})")
        specs.append(spec)
    if missing:
        warn_once("missing", f"C backend: no C kernel for {missing[0]}"
                             f"{f' and {len(missing) - 1} more node(s)' if len(missing) > 1 else ''}; "
                             f"the numpy kernel runs instead (reported once per process)")
    pointers = None
    if any(s is not None for s in specs):
        source, table, index = module_source(specs)
        try:
            pointers = load_module(source, len(table))
        except CompileError as exc:
            warn_once("compile", f"{exc}\nC backend: the numpy kernels run instead "
                                 f"(reported once per process)")
    kernels = []
    for node, spec, idx in zip(nodes, specs, index if pointers is not None else [None] * len(nodes)):
        if spec is None or idx is None:
            kernels.append(_numpy_kernel(node))
            continue
        funcs = [ffi.cast(signature(sig), pointers[i]) for i, (_, sig) in
                 zip(idx, spec.symbols)]
        kernels.append(spec.bind(funcs))
    return kernels
