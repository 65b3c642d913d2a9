"""CUDA C for Elemwise nodes, plain or fused (Composite), from the shared scalar-op table.

Pure string generation, no cupy: tested on any machine, and compiled to PTX with
``nvcc`` where it is installed. Each node gets one source with two entries:

* ``<name>_c(n, out..., in...)``: every array operand C-contiguous with the output's
  shape, element ``i`` at index ``i``;
* ``<name>_s(n, dims..., out..., in..., strides...)``: any strides and broadcasts
  (stride 0 on a broadcast axis), the output C-contiguous; the node's output rank is
  static, so the dims and strides are plain ``long long`` arguments.

Scalar constants are inlined as literals (``x ** 2`` becomes a product); other inputs
of static size 1 are read once per element from their one-element array.
"""
from __future__ import annotations

import hashlib

import numpy as np

from core.graph.basic import Constant

from ..scalar_c import Arg, Unsupported, ctype, helpers, literal, scalar_c

PREAMBLE = """
#ifdef __CUDACC_RTC__  /* NVRTC (cupy) has no standard headers */
typedef signed char int8_t; typedef short int16_t; typedef int int32_t; typedef long long int64_t;
typedef unsigned char uint8_t; typedef unsigned short uint16_t; typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#else
#include <stdint.h>
#endif
typedef unsigned char npy_bool;
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif
#ifndef INT64_MIN
#define INT64_MIN (-9223372036854775807LL - 1)
#endif
"""


def preamble() -> str:
    """Type names, constants and the ``lg_*`` helpers every generated source starts with."""
    # copysign(0, double): the int overload is a host-only constexpr function in CUDA
    return PREAMBLE + helpers("static __device__ __forceinline__").replace(
        "copysign(0, ", "copysign(0.0, ")


def const_value(var):
    """The value of a size-1 Constant as a 0-d array, else None."""
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    return data.reshape(()) if data.size == 1 else None


def input_roles(node) -> list[str]:
    """Each input's role: 'const' (a size-1 constant inlined as a literal; not passed),
    'scalar' (static size 1, one element read) or 'array'."""
    return ["const" if const_value(v) is not None else
            "scalar" if all(v.type.broadcastable) else "array" for v in node.inputs]


def statements(scalar_op, in_args: list[Arg], out_dtypes: list[str]) -> tuple[list[str], list[str]]:
    """CUDA statements computing a scalar op (or a Composite's inner graph) from
    ``in_args``: (statements, one expression per output)."""
    if not hasattr(scalar_op, "fgraph"):
        return [], [scalar_c(scalar_op, in_args, out_dtypes[0])]
    fg = scalar_op.fgraph
    env = {id(v): a for v, a in zip(fg.inputs, in_args)}

    def get(v):
        if id(v) not in env:  # an inner ScalarConstant
            value = np.asarray(v.data, dtype=v.type.dtype).reshape(())
            env[id(v)] = Arg(literal(value, v.type.dtype), v.type.dtype, value)
        return env[id(v)]

    stmts = []
    for j, n in enumerate(fg.toposort()):
        if len(n.outputs) != 1:
            raise Unsupported(f"multi-output scalar op {n.op}")
        dtype = n.outputs[0].type.dtype
        stmts.append(f"const {ctype(dtype)} t{j} = {scalar_c(n.op, [get(v) for v in n.inputs], dtype)};")
        env[id(n.outputs[0])] = Arg(f"t{j}", dtype)
    return stmts, [get(v).expr for v in fg.outputs]


def kernel_name(source: str) -> str:
    """The name a kernel of ``source`` gets: a hash, so equal nodes share one module."""
    return "lg" + hashlib.sha1(source.encode()).hexdigest()[:16]


class ElemwiseSource:
    """The CUDA source of one Elemwise node and how to call it."""

    def __init__(self, node):
        self.nout, self.nin = len(node.outputs), len(node.inputs)
        self.ndim = node.outputs[0].type.ndim
        self.roles = input_roles(node)
        self.out_dtypes = [v.type.dtype for v in node.outputs]
        self.in_dtypes = [v.type.dtype for v in node.inputs]
        in_args = []
        for k, (v, role) in enumerate(zip(node.inputs, self.roles)):
            if role == "const":
                value = const_value(v)
                in_args.append(Arg(literal(value, self.in_dtypes[k]), self.in_dtypes[k], value))
            else:
                in_args.append(Arg(f"x{k}", self.in_dtypes[k]))
        stmts, outs = statements(node.op.scalar_op, in_args, self.out_dtypes)
        self.arrays = [k for k, r in enumerate(self.roles) if r == "array"]
        self.passed = [k for k, r in enumerate(self.roles) if r != "const"]
        template = self._template(stmts, outs)
        self.name = kernel_name(template)
        self.source = template.replace("@K@", self.name)

    def _template(self, stmts: list[str], outs: list[str]) -> str:
        out_ct = [ctype(d) for d in self.out_dtypes]
        in_ct = [ctype(d) for d in self.in_dtypes]
        outs_params = [f"{t} *o{k}" for k, t in enumerate(out_ct)]
        ins_params = [f"const {in_ct[k]} *i{k}" for k in self.passed]
        compute = "\n        ".join(stmts)
        stores = "\n        ".join(f"o{k}[i] = {e};" for k, e in enumerate(outs))
        scalar_loads = "".join(f"        const {in_ct[k]} x{k} = i{k}[0];\n"
                               for k in self.passed if self.roles[k] == "scalar")

        def loop(loads: str, offsets: str) -> str:
            return (f"    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; "
                    f"i < n; i += (long long)blockDim.x * gridDim.x) {{\n"
                    f"        int err = 0; (void)err;\n{offsets}{scalar_loads}{loads}"
                    f"        {compute}\n        {stores}\n    }}\n")

        contiguous_loads = "".join(f"        const {in_ct[k]} x{k} = i{k}[i];\n" for k in self.arrays)
        contiguous = (f'extern "C" __global__ void @K@_c(const long long n, '
                      f'{", ".join(outs_params + ins_params)}) {{\n'
                      f'{loop(contiguous_loads, "")}}}\n')
        dims = [f"const long long d{d}" for d in range(self.ndim)]
        strides = [f"const long long s{k}_{d}" for k in self.arrays for d in range(self.ndim)]
        offsets = "".join(f"        long long p{k} = 0;\n" for k in self.arrays)
        if self.ndim:
            offsets += "        long long r = i, c;\n"
            for d in reversed(range(self.ndim)):
                offsets += f"        c = r % d{d}; r /= d{d};\n"
                offsets += "".join(f"        p{k} += c * s{k}_{d};\n" for k in self.arrays)
        strided_loads = "".join(f"        const {in_ct[k]} x{k} = i{k}[p{k}];\n" for k in self.arrays)
        strided = (f'extern "C" __global__ void @K@_s(const long long n, '
                   f'{", ".join(dims + outs_params + ins_params + strides)}) {{\n'
                   f'{loop(strided_loads, offsets)}}}\n')
        return contiguous + strided


# Philox4x32-10 (Salmon et al., SC'11, the Random123 constants): a counter-based generator,
# so a draw is a pure function of (key, counter, element index) and reseeding repeats it.
PHILOX = """
static __device__ __forceinline__ void lg_philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
    for (int r = 0; r < 10; r++) {
        const uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        const uint32_t hi0 = (uint32_t)(p0 >> 32), hi1 = (uint32_t)(p1 >> 32);
        c[0] = hi1 ^ c[1] ^ k0; c[1] = (uint32_t)p1; c[2] = hi0 ^ c[3] ^ k1; c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
}
"""


def uniform_source() -> str:
    """Kernels filling ``out[0:n]`` with uniform [0, 1) numbers for the generator state
    ``state = [key, counter]`` (uint64, on the device): ``lg_uniform_f32`` and
    ``lg_uniform_f64``. Philox block ``j`` (counter words ``j, state[1]``) gives elements
    4j..4j+3 in float32 (24 bits each) and 2j, 2j+1 in float64 (53 bits each)."""
    def kernel(name: str, ctype_: str, per: int, convert: str) -> str:
        return f"""
extern "C" __global__ void {name}(const long long n, {ctype_} *out, const uint64_t *state) {{
    const uint64_t key = state[0], counter = state[1];
    const long long blocks = (n + {per - 1}) / {per};
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < blocks;
         j += (long long)blockDim.x * gridDim.x) {{
        uint32_t c[4] = {{(uint32_t)j, (uint32_t)((uint64_t)j >> 32), (uint32_t)counter,
                         (uint32_t)(counter >> 32)}};
        lg_philox(c, (uint32_t)key, (uint32_t)(key >> 32));
        for (int t = 0; t < {per}; t++) {{
            const long long i = j * {per} + t;
            if (i < n) out[i] = {convert};
        }}
    }}
}}
"""
    f32 = kernel("lg_uniform_f32", "float", 4, "(float)(c[t] >> 8) * 5.9604644775390625e-08f")
    f64 = kernel("lg_uniform_f64", "double", 2,
                 "((double)(c[2 * t] >> 5) * 67108864.0 + (double)(c[2 * t + 1] >> 6))"
                 " * 1.1102230246251565e-16")
    return PHILOX + f32 + f64
