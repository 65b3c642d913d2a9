"""NVRTC (the compiler cupy calls at run time) through ctypes, where its library is
installed (the ``nvidia-cuda-nvrtc`` wheel, or a CUDA toolkit): it compiles CUDA C to PTX
with no GPU, so the generated kernels are checked with the very compiler that builds them."""
from __future__ import annotations

import ctypes
import glob
import os
import sys


def find_library() -> str | None:
    patterns = [os.path.join(p, "nvidia", "cu1*", "lib", "libnvrtc.so.*") for p in sys.path]
    patterns += ["/usr/local/cuda/lib64/libnvrtc.so*", "/usr/lib/x86_64-linux-gnu/libnvrtc.so*"]
    for pattern in patterns:
        found = sorted(f for f in glob.glob(pattern) if "builtins" not in f and ".alt." not in f)
        if found:
            return found[0]
    return None


def compile_to_ptx(library: str, source: str, options: list[str]) -> tuple[bool, str]:
    """(success, compiler log) for ``source``."""
    for builtins in glob.glob(os.path.join(os.path.dirname(library), "libnvrtc-builtins.so.*")):
        if ".alt." not in builtins:  # NVRTC opens it by name: load it first from beside it
            ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
    nvrtc = ctypes.CDLL(library)
    program = ctypes.c_void_p()
    status = nvrtc.nvrtcCreateProgram(ctypes.byref(program), source.encode(), b"kernels.cu",
                                      0, None, None)
    if status:
        return False, f"nvrtcCreateProgram failed ({status})"
    try:
        opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        status = nvrtc.nvrtcCompileProgram(program, len(options), opts)
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        return status == 0, log.value.decode(errors="replace")
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))
