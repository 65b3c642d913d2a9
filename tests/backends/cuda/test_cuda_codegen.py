"""The CUDA backend's generated elementwise (and random) source, checked without a GPU: its structure
for a table of ops, and every source of a broad table compiled to PTX by nvcc."""
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import core.tensor as T
from backends.cuda.codegen import ElemwiseSource, preamble, uniform_source
from backends.scalar_c import Unsupported
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from core.tensor.type import TensorType

from cuda_elemwise_table import constant_nodes, fused_nodes, single_op_nodes
from nvrtc_ptx import compile_to_ptx, find_library

NVCC = os.environ.get("NVCC") or shutil.which("nvcc") or (
    "/usr/local/bin/nvcc" if os.path.exists("/usr/local/bin/nvcc") else None)
NVRTC = find_library()


def _source(op, *types):
    return ElemwiseSource(Elemwise(op).make_node(*[TensorType(d, s)() for d, s in types]))


def test_contiguous_and_strided_entries_with_one_stride_per_array_axis():
    src = _source(ps.Add(), ("float32", (None, None)), ("float32", (1, None)))
    assert src.roles == ["array", "array"]
    assert f'void {src.name}_c(const long long n, float *o0, const float *i0, const float *i1)' \
        in src.source
    strided = src.source.split(f"{src.name}_s(")[1].split(")")[0]
    assert re.findall(r"long long (d\d)", strided) == ["d0", "d1"]
    assert re.findall(r"long long (s\d_\d)", strided) == ["s0_0", "s0_1", "s1_0", "s1_1"]
    assert "const float x1 = i1[p1];" in src.source and "o0[i] = (x0 + x1);" in src.source


def test_constants_are_inlined_and_static_scalars_read_once():
    x = TensorType("float64", (None,))()
    two = T.constant(np.array([2.0]))
    scalar = TensorType("float64", (1,))()
    src = ElemwiseSource(Elemwise(ps.Pow()).make_node(x, two))
    assert src.roles == ["array", "const"] and "pow(" not in src.source
    assert "((x0) * (x0))" in src.source and "i1" not in src.source
    src = ElemwiseSource(Elemwise(ps.Mul()).make_node(x, scalar))
    assert src.roles == ["array", "scalar"] and "const double x1 = i1[0];" in src.source


def test_float32_math_uses_single_precision_functions():
    src = _source(ps.Exp(), ("float32", (None,)))
    assert "expf(" in src.source and "exp(" not in src.source.replace("expf(", "")
    assert "exp(" in _source(ps.Exp(), ("float64", (None,))).source


def test_equal_nodes_share_one_kernel_name_and_different_ones_do_not():
    a = _source(ps.Mul(), ("float32", (None,)), ("float32", (None,)))
    b = _source(ps.Mul(), ("float32", (None,)), ("float32", (None,)))
    c = _source(ps.Mul(), ("float64", (None,)), ("float64", (None,)))
    assert a.name == b.name != c.name


def test_unsupported_dtypes_are_refused():
    with pytest.raises(Unsupported):
        _source(ps.Add(), ("float16", (None,)), ("float16", (None,)))


def test_fused_graph_nodes_become_one_kernel_each_with_all_outputs():
    nodes = fused_nodes()
    assert any(len(n.outputs) > 1 for n in nodes)  # a Composite with several outputs
    for node in nodes:
        src = ElemwiseSource(node)
        for k in range(len(node.outputs)):
            assert f"o{k}[i] = " in src.source


def _table_sources() -> dict:
    """name -> source of every generated kernel of the broad table."""
    sources, refused = {}, []
    for node in single_op_nodes() + fused_nodes() + constant_nodes():
        try:
            src = ElemwiseSource(node)
        except Unsupported as exc:
            refused.append(f"{node.op} {[i.type.dtype for i in node.inputs]}: {exc}")
            continue
        sources[src.name] = src.source
    assert len(sources) > 150, refused
    return sources


@pytest.mark.skipif(NVCC is None, reason="nvcc not installed")
def test_every_generated_kernel_compiles_to_ptx(tmp_path):
    sources = _table_sources()
    path = tmp_path / "kernels.cu"
    path.write_text(preamble() + uniform_source() + "\n".join(sources.values()))
    result = subprocess.run([NVCC, "-ptx", "-arch=sm_90", "-diag-suppress", "177,550",
                             str(path), "-o", str(tmp_path / "kernels.ptx")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-5000:]
    ptx = (tmp_path / "kernels.ptx").read_text()
    for name in sources:  # both entries of every kernel are in the PTX
        assert f".entry {name}_c(" in ptx and f".entry {name}_s(" in ptx
    assert ".entry lg_uniform_f32(" in ptx and ".entry lg_uniform_f64(" in ptx


@pytest.mark.skipif(NVRTC is None, reason="NVRTC library not installed")
def test_every_generated_kernel_compiles_with_nvrtc_as_cupy_builds_it():
    # one program, as cupy's RawModule compiles each (no standard headers under NVRTC)
    source = preamble() + uniform_source() + "\n".join(_table_sources().values())
    ok, log = compile_to_ptx(NVRTC, source, ["--gpu-architecture=compute_90"])
    assert ok, log[-5000:]
