"""Compile one C module per function with the system compiler; call it through cffi.

A module is a shared library built by ONE compiler call, opened with ``ctypes`` (its
``lg_get(i)`` hands out the kernels' addresses) and its kernels called through cffi
function pointers whose C types are built directly by cffi's backend: no C text is
parsed when a module loads (pycparser took ~60 ms of every warm-cache compile). It is
cached on disk under
``core.config.compiledir/c`` by a hash of (source, compiler, flags, CPU), so a
second process finds it. Builds take a per-entry file lock, write to a
temporary file and rename, so concurrent processes never see half a library;
every entry stores the SHA-256 of its library. Any damage to an entry's files
(the library, its checksum, its lock: truncated, empty, random bytes, unreadable,
a folder in a file's place, a library the loader rejects) is reported with one
warning per process and the entry rebuilt; it never raises out of a user's call.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
import warnings

import ctypes

import _cffi_backend
import cffi

from core.config import config
from core.threads import listeners as threads_listeners, reapply as reapply_threads

from . import pieces, workers

# Idle OpenMP threads sleep instead of spinning: on a machine whose other cores are busy,
# spinning workers steal time from the thread doing the sequential work. libgomp reads
# this when the first module using it loads; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# -O1: the hot loops carry "omp simd" (vectorized at any -O level); -O2 costs 50% more
# compile time for no measured gain on these loops.
# -fno-trapping-math: gcc may then if-convert selects (`m ? x : x * 0.0f`) and use vector
# floor/ceil; without it those loops stay scalar (a ReLU mask 12x slower than numpy). It only
# drops the promise that FP exception flags are raised exactly; results stay IEEE: no flush
# to zero, NaNs propagate (-ffast-math is not used).
_FULL_FLAGS = ["-O1", "-march=native", "-std=gnu11", "-fPIC", "-shared", "-fno-math-errno",
               "-fno-trapping-math", "-fopenmp", "-w"]
if platform.machine().lower() in ("x86_64", "amd64"):
    # On AVX-512 CPUs gcc still prefers 256-bit vectors; 512-bit ones (16 float lanes,
    # libmvec's 16-wide exp/tanh) run transcendental loops 1.4-1.7x faster, memory-bound
    # loops the same (benchmarks/elemwise.py). Without AVX-512 the flag changes nothing.
    _FULL_FLAGS.insert(2, "-mprefer-vector-width=512")
_FULL_LIBS = ["-lmvec", "-lm"]
_BASIC_FLAGS = ["-O2", "-std=gnu11", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math", "-w"]
_BASIC_LIBS = ["-lm"]
# Flag sets to try, best first; the first that compiles is kept for the process.
_CANDIDATES = [(_FULL_FLAGS, _FULL_LIBS), (_BASIC_FLAGS, _BASIC_LIBS)]
if platform.machine().lower() in ("x86_64", "amd64"):
    # Intel's JCC erratum: on Skylake-derived cores a jump that crosses or ends on a
    # 32-byte boundary is not cached as decoded uops, and a hot loop that happens to
    # contain one runs up to 2x slower (a float64 exp/sin/tanh loop: 67 vs 32 ms per
    # 1e7, depending only on where the module's code landed). The assembler pads
    # branches off those boundaries; an assembler without the option (binutils < 2.34)
    # fails this set and the plain one is used.
    _CANDIDATES.insert(0, (_FULL_FLAGS + ["-Wa,-mbranches-within-32B-boundaries"], _FULL_LIBS))

ffi = cffi.FFI()
_INT = _cffi_backend.new_primitive_type("int")
INTPTR = _cffi_backend.new_primitive_type("intptr_t")
CHAR_P = _cffi_backend.new_pointer_type(_cffi_backend.new_primitive_type("char"))
INT64_ARRAY = _cffi_backend.new_array_type(
    _cffi_backend.new_pointer_type(_cffi_backend.new_primitive_type("int64_t")), None)
_signatures: dict = {}  # argument letters -> cffi function-pointer type
_loaded: dict[str, tuple] = {}  # cache key -> (lib, addresses): one dlopen per module per process
_warned: set[str] = set()


class CompileError(RuntimeError):
    """The C compiler rejected a generated module."""


def warn_once(key: str, message: str) -> None:
    """Emit ``message`` as a RuntimeWarning the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def find_compiler() -> str | None:
    """Path of the C compiler ($CC, else cc/gcc/clang), or None."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name:
            path = shutil.which(name)
            if path:
                return os.path.realpath(path)
    return None


_compiler_cache: list = []


def compiler() -> str | None:
    if not _compiler_cache:
        _compiler_cache.append(find_compiler())
    return _compiler_cache[0]


def char_ptr(address: int):
    """A ``char *`` cdata for an address (no C parsing: a prebuilt type)."""
    return ffi.cast(CHAR_P, address)


def function_type(args, result=_INT):
    """The cffi type of a C function pointer taking ``args`` (cffi C types), built without
    parsing C."""
    return _cffi_backend.new_function_type(tuple(args), result, False)


def signature(args: str):
    """cffi function-pointer type for a kernel: 'i' is intptr_t, 'p' is char*; returns int."""
    t = _signatures.get(args)
    if t is None:
        t = _signatures[args] = function_type(INTPTR if a == "i" else CHAR_P for a in args)
    return t


def _machine_tag() -> str:
    """What ``-march=native`` depends on: the CPU's model and flags."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f.read(200000).splitlines()
                     if ln.startswith(("model name", "flags"))][:2]
        return "\n".join(lines)
    except OSError:
        return os.uname().machine


_tag_cache: list = []


def _key(source: str, cc: str, flags: list[str]) -> str:
    if not _tag_cache:
        st = os.stat(cc)
        _tag_cache.append(f"{cc}|{st.st_size}|{st.st_mtime_ns}|{_machine_tag()}|cffi{cffi.__version__}")
    h = hashlib.sha256()
    for part in (_tag_cache[0], " ".join(flags), source):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:40]


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def _valid(lib_path: str, sum_path: str) -> bool:
    """True when the checksum file holds a SHA-256 in hex that matches the library."""
    try:
        with open(sum_path, "rb") as f:
            want = f.read(100)
    except OSError:
        return False
    want = want.strip()
    if len(want) != 64 or not all(c in b"0123456789abcdef" for c in want):
        return False  # empty, truncated, random bytes, not text
    return _digest(lib_path) == want.decode("ascii")


def _damaged(paths) -> bool:
    """True when any of ``paths`` is there (a file, a folder or a link, even a broken one)."""
    return any(os.path.lexists(p) for p in paths)


def _discard(path: str) -> None:
    """Remove whatever sits at ``path`` (file, link or folder); raises OSError if it cannot."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _report_damage(lib_path: str, what: str) -> None:
    warn_once("corrupt", f"C backend: the cache entry {lib_path} is corrupt or damaged "
                         f"({what}); rebuilding it (reported once per process)")


@contextlib.contextmanager
def _entry_lock(lock_path: str, lib_path: str):
    """Hold the entry's file lock; a damaged lock file (a folder, a link loop) is replaced."""
    mode = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW  # a link in the lock's place is damage too
    try:
        fd = os.open(lock_path, mode, 0o644)
    except OSError as exc:
        _report_damage(lib_path, f"its lock file cannot be opened: {exc.strerror}")
        _discard(lock_path)
        fd = os.open(lock_path, mode, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _build(source: str, cc: str, flags: list[str], libs: list[str], lib_path: str,
           sum_path: str) -> None:
    folder = os.path.dirname(lib_path)
    fd, c_path = tempfile.mkstemp(suffix=".c", dir=folder)
    tmp_lib = c_path[:-2] + ".so"
    units = pieces.split(source, pieces.idle_cores())
    paths = [c_path] + [f"{c_path[:-2]}_{i}.c" for i in range(1, len(units))]
    objects = [p[:-2] + ".o" for p in paths]
    try:
        os.close(fd)
        for path, text in zip(paths, units):
            with open(path, "w") as f:
                f.write(text)
        if len(units) == 1:
            _run_compiler([[cc, *flags, "-o", tmp_lib, c_path, *libs]])
        else:  # the pieces compile at once, one compiler per idle core; then one link
            _run_compiler([[cc, *flags, "-c", "-o", o, p] for p, o in zip(paths, objects)])
            _run_compiler([[cc, *flags, "-o", tmp_lib, *objects, *libs]])
        digest = _digest(tmp_lib)
        os.replace(tmp_lib, lib_path)
        tmp_sum = sum_path + f".{os.getpid()}.tmp"
        with open(tmp_sum, "w") as f:
            f.write(digest)
        os.replace(tmp_sum, sum_path)
    finally:
        for p in (*paths, *objects, tmp_lib):
            if os.path.exists(p):
                os.unlink(p)


def _run_compiler(commands: list[list[str]]) -> None:
    """Run the compiler commands at once; CompileError with the first failure's messages."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in commands]
    results = [(p, *p.communicate()) for p in procs]
    for p, _, err in results:
        if p.returncode != 0:
            raise CompileError(f"C backend: {os.path.basename(commands[0][0])} failed "
                               f"(exit {p.returncode}) on a generated module:\n{err[-3000:]}")


def _cache_paths(key: str) -> tuple[str, str, str]:
    root = os.path.join(config.compiledir, "c")
    folder = os.path.join(root, key[:2])
    for path in (root, folder):
        if os.path.lexists(path) and not os.path.isdir(path):  # a file in a folder's place
            warn_once("corrupt-folder", f"C backend: {path} in the cache is not a folder; "
                                        f"replacing it (reported once per process)")
            os.unlink(path)
    os.makedirs(folder, exist_ok=True)
    base = os.path.join(folder, key)
    return base + ".so", base + ".sha256", base + ".lock"


def _compile_cached(source: str, cc: str, flags: list[str], libs: list[str],
                    rebuild: bool = False) -> tuple[str, str]:
    """Build ``source`` into the cache unless a valid entry is there; (key, library path).

    ``rebuild``: the entry's library passed its checksum but could not be loaded."""
    key = _key(source, cc, flags + libs)
    lib_path, sum_path, lock_path = _cache_paths(key)
    if not rebuild and _valid(lib_path, sum_path):
        return key, lib_path
    with _entry_lock(lock_path, lib_path):
        if not rebuild and _valid(lib_path, sum_path):  # another process built it meanwhile
            return key, lib_path
        if rebuild or _damaged((lib_path, sum_path)):
            if not rebuild:
                _report_damage(lib_path, "its checksum does not match the library, or a file "
                                         "is missing, unreadable or not a file")
            for path in (lib_path, sum_path):
                _discard(path)
        _build(source, cc, flags, libs, lib_path, sum_path)
    return key, lib_path


_flag_sets: list = []  # the first flag set that compiles here, found once per process


def load_module(source: str, n_symbols: int) -> list:
    """Compile (or find in the cache) ``source`` and return its ``n_symbols`` function
    addresses (ints).

    The module must define ``void *lg_get(int i)`` returning its i-th kernel.
    Raises ``CompileError`` when no compiler is found or the compiler fails.
    """
    start = time.perf_counter()
    try:
        return _load_module(source, n_symbols)
    finally:
        COMPILE_SECONDS[0] += time.perf_counter() - start


def is_built(source: str) -> bool:
    """True when the cache holds a valid module for ``source`` (built with the flags this
    process uses, or the first it will try)."""
    cc = compiler()
    if cc is None:
        return False
    flags, libs = (_flag_sets or _CANDIDATES)[0]
    lib_path, sum_path, _ = _cache_paths(_key(source, cc, flags + libs))
    return _valid(lib_path, sum_path)


def build_quietly(source: str) -> None:
    """Compile ``source`` into the cache without loading it; any failure is left for a
    later ``load_module`` of it to report (a thread's work, beside the caller's compile)."""
    try:
        cc = compiler()
        for flags, libs in (_flag_sets or _CANDIDATES)[:1]:
            _compile_cached(source, cc, flags, libs)
    except (CompileError, OSError):
        pass


COMPILE_SECONDS = [0.0]  # spent in load_module (compiling or finding modules): the profiler
# leaves it out of the node that happened to trigger a lazy compile


def _load_module(source: str, n_symbols: int) -> list:
    cc = compiler()
    if cc is None:
        raise CompileError("C backend: no C compiler found (set $CC or install gcc)")
    workers.build_alongside(source)
    candidates = _flag_sets or _CANDIDATES
    error = None
    for flags, libs in candidates:
        try:
            key, lib_path = _compile_cached(source, cc, flags, libs)
        except CompileError as exc:
            error = exc
            continue
        except OSError as exc:  # an unwritable or full compiledir
            raise _unusable_folder(exc) from exc
        if not _flag_sets:
            _flag_sets.append((flags, libs))
        break
    else:
        raise error
    hit = _loaded.get(key)
    if hit is None:
        try:
            hit = _open(lib_path, n_symbols)
        except (OSError, AttributeError) as exc:  # it passed its checksum yet will not load
            _report_damage(lib_path, f"the loader rejects it: {exc}")
            try:
                key, lib_path = _compile_cached(source, cc, flags, libs, rebuild=True)
                hit = _open(lib_path, n_symbols)
            except (OSError, AttributeError) as exc2:
                raise CompileError(f"C backend: the module built in {lib_path} cannot be "
                                   f"loaded: {exc2}") from exc2
        _loaded[key] = hit
        reapply_threads()  # the first module loads the OpenMP runtime: limit it too
    return hit[1]


def _open(lib_path: str, n_symbols: int) -> tuple:
    """The library and its kernels' addresses (ctypes: no C declarations parsed)."""
    lib = ctypes.CDLL(lib_path)
    workers.attach(lib)
    get = lib.lg_get
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.c_int]
    return lib, [get(i) for i in range(n_symbols)]


def _attach_pool() -> None:
    """Hand every loaded module the worker pool (after a change of ``core.config.threads``)."""
    for lib, _ in list(_loaded.values()):
        workers.attach(lib)


threads_listeners.append(_attach_pool)


def _unusable_folder(exc: OSError) -> CompileError:
    return CompileError(f"C backend: cannot use the cache folder "
                        f"{os.path.join(config.compiledir, 'c')}: {exc}")


def flags_in_use() -> list[str]:
    """The compiler flags this process compiles with (after the first module)."""
    return list(_flag_sets[0][0]) if _flag_sets else list(_CANDIDATES[0][0])
