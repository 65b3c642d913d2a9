"""Reverse-mode automatic differentiation over the graph."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .graph.basic import Variable
from .graph.trace import format_trace
from .graph.utils import clone_replace, toposort


class DisconnectedInputError(ValueError):
    """``grad`` was asked for an input the cost does not depend on."""


class NullTypeGradError(TypeError):
    """The gradient does not exist (for example through an integer op)."""


def _tensor():
    from . import tensor

    return tensor


def grad(cost: Variable, wrt, consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", known_grads: dict | None = None,
         return_disconnected: str = "zero"):
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar Variable (or None when ``known_grads`` is given)
    wrt : Variable or list of Variables
    consider_constant : variables treated as constants (no gradient flows through them)
    disconnected_inputs : 'raise' (default), 'warn' or 'ignore' when a ``wrt`` does not
        influence the cost; ignored inputs get a zero gradient.
    known_grads : {variable: gradient} to start from (instead of, or in addition to, cost)

    Examples
    --------
    >>> x = T.dscalar('x'); gx = T.grad(x ** 2, x)
    """
    T = _tensor()
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt must be Variables, got {w!r}")
    seeds: dict[Variable, Variable] = {}
    if cost is not None:
        if cost.type.ndim != 0:
            raise TypeError(
                f"grad: the cost must be a scalar, got {cost.type}; reduce it first "
                f"(e.g. cost.sum() or cost.mean()). Cost created at {format_trace(cost.tag.trace)}")
        seeds[cost] = T.ones_like(cost) if np.dtype(cost.dtype).kind in "fc" else T.ones_like(
            cost, dtype="float64")
    for var, g in (known_grads or {}).items():
        seeds[var] = T.as_tensor_variable(g)
    if not seeds:
        raise ValueError("grad: give a cost or known_grads")

    grads = backprop(list(seeds), seeds, wrt_list, consider_constant or [])
    result = []
    for w in wrt_list:
        g = grads.get(w)
        if g is None:
            msg = (f"grad: the cost does not depend on {w} (created at {format_trace(w.tag.trace)}); "
                   f"pass disconnected_inputs='ignore' to get a zero gradient")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(msg)
            if disconnected_inputs == "warn":
                import warnings

                warnings.warn(msg, stacklevel=2)
            g = T.zeros_like(w) if return_disconnected == "zero" else None
        result.append(g)
    return result[0] if single else result


def backprop(outputs: list[Variable], seeds: dict, wrt: Sequence[Variable],
             consider_constant: Sequence[Variable] = ()) -> dict:
    """Accumulate gradients from ``seeds`` back to every variable on a path to ``wrt``."""
    T = _tensor()
    constants = {id(v) for v in consider_constant}
    nodes = toposort(outputs, stop=list(consider_constant))
    # Only nodes on a path from wrt to the outputs matter.
    relevant = {id(w) for w in wrt}
    on_path = []
    for node in nodes:
        if any(id(i) in relevant for i in node.inputs):
            on_path.append(node)
            relevant.update(id(o) for o in node.outputs)
    acc: dict[Variable, list] = {v: [g] for v, g in seeds.items()}
    for node in reversed(on_path):
        out_grads = [_sum(acc.get(o)) for o in node.outputs]
        if all(g is None for g in out_grads):
            continue
        out_grads = [T.zeros_like(o) if g is None else g for o, g in zip(node.outputs, out_grads)]
        try:
            in_grads = node.op.L_op(node.inputs, node.outputs, out_grads)
        except NotImplementedError as e:
            raise NullTypeGradError(
                f"grad: {node.op} has no gradient; the node was created at "
                f"{format_trace(node.outputs[0].tag.trace)}") from e
        for inp, g in zip(node.inputs, in_grads):
            if g is None or id(inp) in constants or id(inp) not in relevant:
                continue
            if g.type.shape != inp.type.shape and g.ndim == inp.ndim:
                g = _match_broadcast(g, inp)
            acc.setdefault(inp, []).append(g)
    return {v: _sum(gs) for v, gs in acc.items()}


def _sum(gs):
    if not gs:
        return None
    if len(gs) == 1:
        return gs[0]
    return _tensor().add(*gs)


def _match_broadcast(g, inp):
    """Sum a gradient over axes where the input broadcasts but the gradient does not."""
    T = _tensor()
    axes = [d for d in range(inp.ndim) if inp.type.shape[d] == 1 and g.type.shape[d] != 1]
    return T.sum(g, axis=axes, keepdims=True) if axes else g


def jacobian(expression: Variable, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Jacobian of a vector ``expression`` with respect to ``wrt``, one ``grad`` per element."""
    from .scan import scan

    T = _tensor()
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        out = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return out[0] if single else out
    flat = T.flatten(expression)

    def row(i, flat, *ws):
        return grad(flat[i], list(ws), consider_constant, disconnected_inputs)

    rows, _ = scan(row, sequences=T.arange(T.shape(flat)[0]), non_sequences=[flat] + wrt_list)
    rows = rows if isinstance(rows, list) else [rows]
    out = [T.reshape(r, T.concatenate([T.shape(expression), T.shape(w)]),
                     ndim=expression.ndim + w.ndim)
           for r, w in zip(rows, wrt_list)]
    return out[0] if single else out


def hessian(cost: Variable, wrt, consider_constant=None, disconnected_inputs="raise"):
    """Hessian of a scalar ``cost``: the jacobian of its gradient."""
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    out = [jacobian(grad(cost, w, consider_constant, disconnected_inputs), w,
                    consider_constant, disconnected_inputs) for w in wrt_list]
    return out[0] if single else out


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product ``eval_points . d f / d wrt``."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    evs = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    return grad(None, wrt, consider_constant, disconnected_inputs,
                known_grads=dict(zip(fs, evs)))


def Rop(f, wrt, eval_points, disconnected_outputs="raise"):
    """Jacobian-vector product ``d f / d wrt . eval_points``, by the double-Lop trick."""
    T = _tensor()
    fs = f if isinstance(f, (list, tuple)) else [f]
    ws = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    evs = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    out = []
    for fi in fs:
        u = fi.type()  # a dummy cotangent; the result is linear in it
        lop = grad(None, ws, known_grads={fi: u}, disconnected_inputs="ignore")
        lop = lop if isinstance(lop, list) else [lop]
        inner = T.add(*[T.sum(g * e) for g, e in zip(lop, evs)])
        jv = grad(inner, u, disconnected_inputs="ignore")
        # jv does not depend on u's value (the Lop is linear in u), but its graph may
        # still read u (for a shape): give it zeros of f's shape.
        out.append(clone_replace([jv], replace={u: T.zeros_like(fi)})[0][0])
    return out if isinstance(f, (list, tuple)) else out[0]


def numeric_grad(fn: Callable, points: Sequence[np.ndarray], eps: float | None = None):
    """Central finite differences of a scalar ``fn`` at ``points``.

    Each point keeps its dtype; the step actually taken (after rounding to that
    dtype) is the divisor, so float32 points get an honest difference quotient.
    """
    points = [np.array(p) for p in points]
    grads = []
    for i, p in enumerate(points):
        h = eps or (3e-4 if p.dtype == np.float32 else 1e-6)
        g = np.zeros(p.shape, dtype=np.float64)
        args = [q.copy() for q in points]
        for idx in np.ndindex(p.shape):
            orig = p[idx]
            args[i][idx] = orig + h
            up = args[i][idx]
            plus = float(np.sum(fn(*args), dtype=np.float64))
            args[i][idx] = orig - h
            down = args[i][idx]
            minus = float(np.sum(fn(*args), dtype=np.float64))
            args[i][idx] = orig
            g[idx] = (plus - minus) / (float(up) - float(down))
        grads.append(g)
    return grads


def verify_grad(fn: Callable, points: Sequence, rng=None, eps: float | None = None,
                abs_tol: float | None = None, rel_tol: float | None = None,
                dtype: str = "float64") -> None:
    """Check the symbolic gradient of ``fn`` against central finite differences.

    ``fn`` maps symbolic tensors (one per point) to a symbolic tensor; its
    output is projected on a random direction to get a scalar cost, as
    Theano's ``verify_grad`` does. Raises ``AssertionError`` naming the input
    and the largest error when they disagree.

    Examples
    --------
    >>> verify_grad(lambda x: T.tanh(x) * x, [np.random.rand(3, 4)])
    """
    from .compile.function import function

    T = _tensor()
    rng = rng if rng is not None else np.random.default_rng(42)
    points = [np.asarray(p, dtype=dtype) for p in points]
    inputs = [T.TensorType(dtype, (None,) * p.ndim)(f"input{i}") for i, p in enumerate(points)]
    out = T.as_tensor_variable(fn(*inputs))
    direction = rng.uniform(-1.0, 1.0, size=out.type.shape if None not in out.type.shape else
                            function(inputs, out)(*points).shape).astype(out.dtype)
    cost = T.sum(out * T.constant(direction))
    f_grad = function(inputs, grad(cost, inputs, disconnected_inputs="ignore"))
    analytic = f_grad(*points)
    if dtype == "float32":
        eps, abs_tol, rel_tol = eps or 3e-4, abs_tol or 1e-2, rel_tol or 1e-2
    else:
        eps, abs_tol, rel_tol = eps or 1e-6, abs_tol or 1e-5, rel_tol or 1e-5
    f_cost = function(inputs, cost)
    numeric = numeric_grad(f_cost, points, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        err = np.abs(a - n)
        tol = abs_tol + rel_tol * np.abs(n)
        if np.any(err > tol):
            worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.ndim else ()
            raise AssertionError(
                f"verify_grad: gradient of input {i} disagrees with finite differences: "
                f"at index {worst} analytic {a[worst]!r}, numeric {n[worst]!r} "
                f"(abs err {err[worst]:.3g}, tolerance {tol[worst]:.3g})")


_GRADIENT_OPS = ("zero_grad", "disconnected_grad", "grad_clip", "grad_scale")


def __getattr__(name: str):
    """``zero_grad``, ``disconnected_grad``, ``grad_clip``, ``grad_scale`` (``gradient_ops.py``;
    loaded on first use, as that module builds on ``core.tensor``, which imports this one)."""
    if name in _GRADIENT_OPS:
        from . import gradient_ops

        return getattr(gradient_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
