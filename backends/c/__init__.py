"""The C backend: kernels generated as C, compiled through cffi, cached on disk.

``make_kernels(nodes)`` generates C for every node it covers (Elemwise and
fused Composite loops, reductions, argmax, the softmax family and the
crossentropies), compiles them in ONE compiler call into ONE module, and
returns one kernel per node. In compiled functions the module is built once
the function has done enough work for C to pay (``LAZY_WORK`` elements); until
then the numpy kernels run. Nodes it does not cover run their numpy kernel:
views, shapes, indexing and dense products (numpy's BLAS) by design, silently;
a node it covers but cannot generate (float16, complex, an unknown scalar op),
or every node when no compiler works, with one warning per process.
"""
from __future__ import annotations

import hashlib
from functools import partial

from core.config import config

from ..base import Kernel
from ..registry import KernelRegistry
from . import compiler, pieces
from .compiler import CompileError, ffi, load_module, signature, warn_once
from .scalar import Unsupported, preamble
from .small_composite import LARGE, straight_line

generators = KernelRegistry("c")

from . import elemwise as _elemwise, nnet as _nnet, reduce as _reduce  # noqa: E402
from . import pool as _pool  # noqa: E402,F401  (max pooling kernels)
from . import pool_relu_bias_grad as _prbg  # noqa: E402,F401  (max pool grad, ReLU, bias)
from . import conv as _conv  # noqa: E402,F401  (conv2d input-gradient col2im)
from . import relu_bias_grad as _relu_bias_grad  # noqa: E402,F401  (ReLU mask + bias sum)
from . import grouped_conv as _grouped_conv  # noqa: E402,F401  (grouped, depthwise conv2d)
from . import row_dots as _row_dots  # noqa: E402,F401  (X @ v, elementwise, X.T @ in one pass)
from . import gemm as _gemm  # noqa: E402,F401  (b * z + a * x @ y, one BLAS call)
from . import dot as _dot  # noqa: E402,F401  (x @ y of two float matrices)

from core.tensor.elemwise import Elemwise as _Elemwise  # noqa: E402

generators.register(_Elemwise)(_elemwise.elemwise_spec)


def available() -> bool:
    """True when a C compiler was found."""
    return compiler.compiler() is not None


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
            parts.append(pieces.KERNEL + spec.source.replace("@K@", name))
            seen[name] = [len(table) + i for i in range(len(spec.symbols))]
            table.extend((f"{name}_{suffix}", sig) for suffix, sig in spec.symbols)
        index.append(seen[name])
    entries = ", ".join(f"(void *){sym}" for sym, _ in table)
    parts.append(f"{pieces.TABLE}static void *lg_table[] = {{{entries or '0'}}};\n"
                 f"void *lg_get(int i) {{ return lg_table[i]; }}\n")
    return "\n".join(parts), table, index


LAZY_WORK = 1 << 18  # elements processed by a function's C-capable nodes before it compiles
LAZY_MIN_COUNTED = LARGE  # smaller inputs do not count as work (256 elements)


class _Module:
    """The C module of one function: compiled once, on demand, for all its nodes together."""

    def __init__(self, nodes, specs, fallbacks, missing):
        self.nodes, self.specs, self.fallbacks, self.missing = nodes, specs, fallbacks, missing
        self.kernels = None
        self.work = 0  # elements seen by the numpy fallbacks so far
        self.threshold = LAZY_WORK
        self.slots: list = []  # (namespace, name, node index): where the lazy kernels were put
        self.addresses: list = []  # per node: {symbol suffix: address} of its C functions, or None

    def ensure(self) -> list:
        if self.kernels is None:
            self._compile()
            for namespace, name, i in self.slots:  # the compiled kernels replace the lazy ones
                namespace[name] = self.kernels[i]
            self.slots = []
        return self.kernels

    def _compile(self) -> None:
        if self.kernels is None:
            _warn_missing(self.missing)
            source, table, index = module_source(self.specs)
            try:
                pointers = load_module(source, len(table))
            except CompileError as exc:
                warn_once("compile", f"{exc}\nC backend: the numpy kernels run instead "
                                     f"(reported once per process)")
                self.kernels = list(self.fallbacks)
                return
            kernels = []
            for spec, idx, fallback in zip(self.specs, index, self.fallbacks):
                if spec is None:
                    kernels.append(fallback)
                    self.addresses.append(None)
                    continue
                self.addresses.append({suffix: pointers[i]
                                       for i, (suffix, _) in zip(idx, spec.symbols)})
                funcs = [ffi.cast(signature(sig), pointers[i])
                         for i, (_, sig) in zip(idx, spec.symbols)]
                kernels.append(spec.bind(funcs))
            self.kernels = kernels


def _deferred_numpy_kernel(node):
    """The node's numpy kernel, built at its first call."""
    built: list = []

    def kernel(*args):
        if not built:
            built.append(_numpy_kernel(node))
        return built[0](*args)

    return kernel


def _warn_missing(missing: list[str]) -> None:
    if missing:
        warn_once("missing", f"C backend: no C kernel for {missing[0]}"
                             f"{f' and {len(missing) - 1} more node(s)' if len(missing) > 1 else ''}; "
                             f"the numpy kernel runs instead (reported once per process)")


def _lazy_kernel(module: _Module, i: int, fallback, guarded=None) -> Kernel:
    """Node ``i``'s kernel: ``fallback`` until ``module`` is compiled, its C function after.
    ``guarded(escape)``: ``fallback`` handing large inputs to ``escape`` (a straight-line
    Composite's), which then runs in the slot until the module is built."""

    def kernel(*args):
        kernels = module.kernels
        if kernels is not None:
            return kernels[i](*args)
        n = args[0].size
        if n < LAZY_MIN_COUNTED and len(args) > 1:
            n = max([a.size for a in args])
        if n >= LAZY_MIN_COUNTED:  # tiny arrays never add up: numpy is as fast there
            module.work += n
            if module.work >= module.threshold:
                return module.ensure()[i](*args)
        return fallback(*args)

    def bind_slot(namespace: dict, name: str) -> None:
        """Once compiled, put the C kernel itself at ``namespace[name]`` (no wrapper per call);
        until then a Composite's straight-line numpy code that hands large inputs to this
        kernel (no wrapper for the small ones)."""
        if module.kernels is not None:
            namespace[name] = module.kernels[i]
        else:
            module.slots.append((namespace, name, i))
            if guarded is not None:
                namespace[name] = guarded(kernel)

    return Kernel(kernel, "c", bind_slot=bind_slot, native=partial(_addresses, module, i))


def _addresses(module: _Module, i: int) -> dict | None:
    """Compile now if not yet; the addresses of node ``i``'s C functions by symbol suffix
    (``'c'``: an Elemwise's contiguous entry), None where the numpy kernel runs. C loops
    (``scan_loop``) call them directly."""
    module.ensure()
    return module.addresses[i] if i < len(module.addresses) else None


def make_kernels(nodes, lazy: bool = True) -> list[Kernel]:
    """One kernel per node; the C ones compiled together in one module.

    With ``lazy`` (the default for compiled functions) the module is compiled
    once the function's C-capable nodes have processed ``LAZY_WORK`` elements
    (at the first call on large arrays, after a few dozen calls on small ones);
    until then their numpy kernels run. Functions called a few times on small
    data (most tests, quick looks) never pay a compiler call, where C would
    not pay anyway. ``core.config.c_lazy = False`` (the flag
    ``LAYERS_ON_GRAPH_FLAGS=c_lazy=False``) compiles at once instead.
    """
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
    # Elementwise nodes run numpy (or a Composite's straight-line numpy code) until the
    # module loads, and always on tiny arrays: their kernels are cheap to build and on
    # the path of every small call. Other nodes' numpy kernels are built only if they run.
    lines = [straight_line(node) if spec is not None and isinstance(node.op, _Elemwise)
             else None for node, spec in zip(nodes, specs)]
    fallbacks = [line.run if line is not None else
                 _numpy_kernel(node) if spec is None or isinstance(node.op, _Elemwise)
                 else _deferred_numpy_kernel(node) for node, spec, line in zip(nodes, specs, lines)]
    if all(s is None for s in specs):
        _warn_missing(missing)
        return [Kernel(f, "numpy") for f in fallbacks]
    module = _Module(nodes, specs, fallbacks, missing)
    if not lazy or not config.c_lazy:
        return [Kernel(k, "numpy") if spec is None else
                Kernel(k, "c", native=partial(_addresses, module, i))
                for i, (k, spec) in enumerate(zip(module.ensure(), specs))]
    return [Kernel(fallback, "numpy") if spec is None else
            _lazy_kernel(module, i, fallback, line.guarded if line is not None else None)
            for i, (spec, fallback, line) in enumerate(zip(specs, fallbacks, lines))]
