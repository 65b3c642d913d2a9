"""The Scan op (a loop over an inner graph) and ScanGrad (its backward loop).

A Scan node holds an inner FunctionGraph, the step, and its outer inputs are

    [n_steps] + sequences + initial buffers + shared initial values + non-sequences

The step's inner inputs are, in order: one slice per sequence tap, one value
per recurrent-output tap, the current value of each updated shared variable,
then the non-sequences. Its inner outputs are the recurrent outputs, the
outputs not fed back ("nit-sot"), then the new values of the shared
variables, and, with ``until``, the stop condition. The outer outputs are
each recurrent and nit-sot output over all steps run (``n_steps`` rows, fewer
when ``until`` stops the loop; the initial rows are not included), the shared
variables' final values, and their value entering each step (kept for the
gradient, which must replay the same random draws).

The step is optimized and compiled once, by ``inner_program``; backends run
it in a loop over preallocated buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..graph.basic import Apply, Op, Variable
from ..graph.fg import FunctionGraph
from ..tensor.type import TensorType


@dataclass(frozen=True)
class ScanInfo:
    """How a Scan's inputs and outputs are laid out."""

    seq_taps: tuple[tuple[int, ...], ...]    # per sequence, its taps (e.g. (0,) or (-1, 0))
    state_taps: tuple[tuple[int, ...], ...]  # per recurrent output, its (negative) taps
    n_nitsot: int
    n_shared: int
    n_nonseq: int
    go_backwards: bool = False
    truncate_gradient: int = -1
    has_until: bool = False  # the last inner output is a stop condition (``until``)

    @property
    def n_seqs(self) -> int:
        return len(self.seq_taps)

    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    def n_inner_inputs(self) -> int:
        return (sum(map(len, self.seq_taps)) + sum(map(len, self.state_taps)) + self.n_shared
                + self.n_nonseq)

    def n_outer_inputs(self) -> int:
        return 1 + self.n_seqs + self.n_states + self.n_shared + self.n_nonseq

    def split_outer(self, values):
        """``(n_steps, seqs, inits, shared, nonseqs)`` from the outer input list."""
        a = 1 + self.n_seqs
        b = a + self.n_states
        c = b + self.n_shared
        return values[0], list(values[1:a]), list(values[a:b]), list(values[b:c]), list(values[c:])

    def max_taps(self) -> list[int]:
        return [-min(taps) for taps in self.state_taps]


class _InnerGraphOp(Op):
    """An op holding an inner FunctionGraph, compiled once per backend on demand."""

    def __init__(self, inner_inputs, inner_outputs, info: ScanInfo, name: str | None = None,
                 mode: str | None = None):
        self.fgraph = FunctionGraph(list(inner_inputs), list(inner_outputs))
        self.info = info
        self.name = name
        self.mode = mode  # how the inner graph is optimized; None: config.mode
        self._programs: dict = {}

    # A loop runs at run time: constant folding would run it (and any Print in it) while
    # compiling. Two loops are equal only if they are the same object.
    no_constant_folding = True
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def inner_program(self, backend: str, make_kernels):
        """The step, optimized and compiled by ``make_kernels(nodes) -> kernels``
        (cached per ``backend`` name). Call its ``run_trusted(*arrays)``: no input
        checks, a list of outputs back."""
        program = self._programs.get(backend)
        if program is None:
            from ..compile.linker import Program
            from ..config import config
            from ..rewrite import optimize_graph

            fgraph = FunctionGraph(self.fgraph.inputs, self.fgraph.outputs)
            optimize_graph(fgraph, self.mode or config.mode)
            program = Program(fgraph, None, len(fgraph.inputs), len(fgraph.outputs),
                              make_kernels=make_kernels)
            self._programs[backend] = program
        return program


def _outer_type(inner: Variable, lead=None) -> TensorType:
    return TensorType(inner.type.dtype, (lead,) + inner.type.shape)


class Scan(_InnerGraphOp):
    """A loop: applies the inner graph once per step. Build it with ``core.scan``."""

    def make_node(self, *outer) -> Apply:
        info = self.info
        if len(outer) != info.n_outer_inputs():
            raise ValueError(f"{self}: expected {info.n_outer_inputs()} inputs, got {len(outer)}")
        n_states = info.n_states
        inner_out = self.fgraph.outputs
        _, _, _, shared, _ = info.split_outer(outer)
        outputs = [_outer_type(o)() for o in inner_out[:n_states + info.n_nitsot]]
        outputs += [sv.type() for sv in shared]
        outputs += [_outer_type(sv)() for sv in shared]
        return Apply(self, list(outer), outputs)

    def L_op(self, inputs, outputs, output_grads):
        from .grad import scan_grad

        return scan_grad(self, inputs, outputs, output_grads)

    def __str__(self) -> str:
        return f"Scan{{{self.name or 'scan'}}}"


class ScanGrad(_InnerGraphOp):
    """Backpropagation through a Scan: runs the step's vector-Jacobian product
    from the last step to the first, accumulating gradients.

    Outer inputs: the forward Scan's outer inputs, its recurrent and nit-sot
    outputs and shared-state traces, then one cotangent per differentiable
    output. The inner graph reads the step's inputs, the step's outputs (as
    the forward loop stored them) and the cotangents.
    Outputs: one gradient per differentiable outer input (``wrt_mask``).
    Its own gradient (hessians, R-ops through loops) goes through the same
    computation written as an ordinary scan (``second_order.py``).
    """

    def __init__(self, inner_inputs, inner_outputs, info: ScanInfo, cot_mask, wrt_mask,
                 name: str | None = None, mode: str | None = None):
        super().__init__(inner_inputs, inner_outputs, info, name, mode)
        self.cot_mask = tuple(cot_mask)  # per recurrent + nit-sot output: has a cotangent
        self.wrt_mask = tuple(wrt_mask)  # per seq + state + nonseq: gets a gradient

    def make_node(self, *outer) -> Apply:
        info = self.info
        n_fwd = info.n_outer_inputs()
        fwd = outer[:n_fwd]
        _, seqs, inits, _, nonseqs = info.split_outer(fwd)
        targets = [v for v, m in zip(seqs + inits + nonseqs, self.wrt_mask) if m]
        return Apply(self, list(outer), [v.type() for v in targets])

    def L_op(self, inputs, outputs, output_grads):
        from .second_order import scan_grad_grad

        return scan_grad_grad(self, inputs, outputs, output_grads)

    def __str__(self) -> str:
        return f"ScanGrad{{{self.name or 'scan'}}}"


def scan_steps(op_name: str, info: ScanInfo, n_steps, seqs) -> int:
    """The number of steps a loop runs, checking the sequences are long enough."""
    n = int(n_steps)
    avail = [len(s) - (max(t) - min(t)) for s, t in zip(seqs, info.seq_taps)]
    if avail:
        shortest = min(avail)
        if n < 0:
            n = shortest
        elif n > shortest:
            shapes = [np.shape(s) for s in seqs]
            raise ValueError(f"{op_name}: n_steps={n} but the sequences (shapes {shapes}, taps "
                             f"{list(info.seq_taps)}) allow only {max(shortest, 0)} steps")
    if n < 0:
        raise ValueError(f"{op_name}: the number of steps must be non-negative, got {n}")
    return n
