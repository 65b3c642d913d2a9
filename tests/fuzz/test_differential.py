"""Differential fuzzing: on random graphs, every way of compiling gives the same numbers.

Each graph (``fuzz_grammar.graphs``) is compiled five ways: FAST_COMPILE (the reference,
numpy kernels, almost no rewrites), FAST_RUN on the numpy kernels, FAST_RUN on the C
kernels (compiled at once, not after ``LAZY_WORK``), FAST_RUN without the in-place pass,
and DebugMode (which also checks each node, C against numpy). Every output (values and
gradients) and every shared variable after its update must agree, over two calls (the
second one starts from the updated shared values), and no returned array may change
during a later call.

Input values are drawn where the graph is well conditioned: no near-tie at a kink (see
``fuzz_grammar``), and no division by zero, overflow or invalid operation in the
reference run (stability at extreme inputs is tested in tests/core/rewrite).

``FUZZ_GRAPHS`` sets how many graphs hypothesis draws (200 by default; ``make fuzz``
runs 2,000).
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from core import function
from core.config import config
from fuzz_grammar import Graph, graphs

VARIANTS = [
    ("FAST_RUN numpy", dict(mode="FAST_RUN"), "numpy"),
    ("FAST_RUN C", dict(mode="FAST_RUN"), "c"),
    ("FAST_RUN without inplace", dict(mode="FAST_RUN", excluding=["inplace"]), "numpy"),
    ("DebugMode", dict(mode="DebugMode"), "c"),
]
# rtol by dtype; the absolute tolerance is rtol times the array's largest magnitude (at
# least 1): rounding in a sum that cancels is relative to its terms, not to the result
RTOL = {"float64": 1e-7, "float32": 2e-3}
# a kink's two sides closer than this (relative to their scale) is a near-tie: rounding
# may send two compilations of the graph down different branches
NEAR_TIE = {"float64": 1e-6, "float32": 1e-3}
CALLS = 2
MAX_MAGNITUDE = 1e4


@pytest.fixture(autouse=True, scope="module")
def private_compiledir(tmp_path_factory):
    with config.change_flags(compiledir=str(tmp_path_factory.mktemp("fuzz_cache"))):
        yield


def _compile_c_now(f) -> None:
    """Build the C module now: small inputs would otherwise run numpy until LAZY_WORK."""
    for kernel in f.program.kernels or ():
        if kernel.native is not None:
            kernel.native()
            return


def _probes(graph: Graph) -> list:
    out = []
    for kink in graph.kinks:
        out += [kink[1], kink[2]] if kink[0] == "pair" else [kink[1]]
    return out


def _compile(graph: Graph, kwargs: dict, backend: str, extra=()):
    with config.change_flags(backend=backend):
        f = function(graph.inputs, list(graph.outputs) + list(extra), updates=graph.updates,
                     on_unused_input="ignore", **kwargs)
        if backend == "c":
            _compile_c_now(f)
    return f


def _calls(f, graph: Graph, values: list) -> list:
    """Outputs and shared values after each of ``CALLS`` calls, as fresh arrays."""
    for sv, initial in graph.shared:
        sv.set_value(initial.copy())
    results, returned = [], []
    for _ in range(CALLS):
        returned.append(f(*values))
        results.append([np.array(o, copy=True) for o in returned[-1]])
        results[-1] += [sv.get_value(borrow=False) for sv, _ in graph.shared]
    for call, (held, copies) in enumerate(zip(returned, results)):
        for k, (a, b) in enumerate(zip(held, copies)):
            assert np.array_equal(a, b, equal_nan=True), (
                f"{f.maker.mode}: output {k} of call {call + 1} changed during a later call "
                f"(it shares a buffer the function overwrites), {graph!r}")
    return results


def _near_tie(graph: Graph, probe_values: list) -> bool:
    eps = NEAR_TIE[graph.dtype]
    it = iter(probe_values)
    for kink in graph.kinks:
        if kink[0] == "pair":
            a, b = np.broadcast_arrays(next(it), next(it))
            gaps = [np.abs(a.astype(np.float64) - b)]
            scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
        else:
            x, axis = next(it).astype(np.float64), kink[2]
            x = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
            if x.shape[-1] < 2:
                continue
            s = np.sort(x, axis=-1)
            gaps = [s[..., -1] - s[..., -2], s[..., 1] - s[..., 0]]
            scale = np.abs(x).max(initial=0)
        if any(((g > 0) & (g < eps * max(scale, 1e-30))).any() for g in gaps):
            return True
    return False


def _reference(graph: Graph, seed: int):
    """Input values where the graph is well conditioned and FAST_COMPILE's results there,
    or None when three draws found no such values."""
    n_out = len(graph.outputs) + len(graph.shared)
    f = _compile(graph, dict(mode="FAST_COMPILE"), "numpy", _probes(graph))
    for attempt in range(3):
        rng = np.random.default_rng([seed, attempt])
        values = [make(rng) for make in graph.values]
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                calls = _calls(f, graph, values)
        except FloatingPointError:  # log(0), overflow: ill-conditioned (stability is
            continue                # tested at extreme inputs elsewhere)
        n_shown = len(graph.outputs)
        results = [c[:n_shown] + c[len(c) - len(graph.shared):] for c in calls]
        probes = [c[n_shown:len(c) - len(graph.shared)] for c in calls]
        ok = all(np.isfinite(r).all() and np.abs(r).max(initial=0) < MAX_MAGNITUDE
                 for call in results for r in call)
        if ok and not any(_near_tie(graph, p) for p in probes):
            assert all(len(r) == n_out for r in results)
            return values, results
    return None


def _compare(graph: Graph, name: str, got: list, want: list) -> None:
    rtol = RTOL[graph.dtype]
    labels = ([f"output {k}" for k in range(len(graph.outputs))]
              + [f"shared {sv.name}" for sv, _ in graph.shared])
    for call, (g_call, w_call) in enumerate(zip(got, want)):
        for label, g, w in zip(labels, g_call, w_call):
            where = f"{name} vs FAST_COMPILE, call {call + 1}, {label}, {graph!r}"
            assert g.shape == w.shape and g.dtype == w.dtype, (
                f"{where}: {g.dtype}{g.shape} != {w.dtype}{w.shape}")
            scale = max(1.0, float(np.abs(w).max(initial=0)))
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=where)


@settings(max_examples=int(os.environ.get("FUZZ_GRAPHS", 200)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(graphs(), st.integers(0, 2 ** 32 - 1))
def test_every_compilation_agrees(graph, seed):
    found = _reference(graph, seed)
    assume(found is not None)
    values, want = found
    for name, kwargs, backend in VARIANTS:
        _compare(graph, name, _calls(_compile(graph, kwargs, backend), graph, values), want)
