"""Property: on random graphs, FAST_RUN (all rewrites) equals FAST_COMPILE, values and gradients."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import core.tensor as T
from core import function

# Shapes: 'm' (3, 4) matrix, 'r' (4,) vector, 'c' (3,) vector, 's' scalar.
UNARY = [
    ("tanh", T.tanh), ("sin", T.sin), ("neg", lambda a: -a), ("sqr", lambda a: a ** 2),
    ("exp_tanh", lambda a: T.exp(T.tanh(a))), ("log1p_sqr", lambda a: T.log(1 + a ** 2)),
    ("sqrt", lambda a: (1 + T.sqr(a)) ** 0.5), ("sigmoid", lambda a: 1 / (1 + T.exp(-a))),
    ("softplus", lambda a: T.log(1 + T.exp(a))), ("expm1", lambda a: T.exp(T.tanh(a)) - 1),
    ("log_sigmoid", lambda a: T.log(T.nnet.sigmoid(a))), ("one_minus", lambda a: 1 - a),
    ("neutral", lambda a: (a * 1 + 0) * 2 * 3), ("self_sub", lambda a: a - a + a),
    ("self_div", lambda a: a * ((1 + T.sqr(a)) / (1 + T.sqr(a)))), ("double_neg", lambda a: -(-a)),
    ("recip", lambda a: (1 + T.sqr(a)) ** -1), ("abs", T.abs),
]
BINARY = [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / (1 + T.sqr(b))), ("max", T.maximum),
    ("fill", lambda a, b: T.fill(a, b) * a), ("negmul", lambda a, b: (-a) * (-b)),
]
COMPATIBLE = {("m", "m"): "m", ("m", "r"): "m", ("r", "m"): "m", ("m", "s"): "m", ("s", "m"): "m",
              ("r", "r"): "r", ("c", "c"): "c", ("r", "s"): "r", ("s", "r"): "r",
              ("c", "s"): "c", ("s", "c"): "c", ("s", "s"): "s"}

X = T.dmatrix("x")
W = T.dvector("w")
S = T.dscalar("s")
RNG = np.random.default_rng(42)
VALUES = [RNG.uniform(-1, 1, (3, 4)), RNG.uniform(-1, 1, 4), np.float64(0.3)]


def _reduce(a, kind, draw):
    if kind == "m":
        op = draw(st.sampled_from(["sum0", "sum1", "mean1", "max0", "dotw", "lse1"]))
        return {"sum0": (lambda: a.sum(axis=0), "r"), "sum1": (lambda: a.sum(axis=1), "c"),
                "mean1": (lambda: a.mean(axis=1), "c"), "max0": (lambda: a.max(axis=0), "r"),
                "dotw": (lambda: T.dot(a, W), "c"),
                "lse1": (lambda: T.log(T.exp(a).sum(axis=1)), "c")}[op]
    if kind == "r":
        op = draw(st.sampled_from(["sum", "dot", "outer"]))
        return {"sum": (lambda: a.sum(), "s"), "dot": (lambda: T.dot(a, W), "s"),
                "outer": (lambda: T.dot(X, a), "c")}[op]
    if kind == "c":
        op = draw(st.sampled_from(["sum", "dotx", "softmax"]))
        return {"sum": (lambda: a.mean(), "s"), "dotx": (lambda: T.dot(a, X), "r"),
                "softmax": (lambda: T.log(T.nnet.softmax(a.dimshuffle("x", 0))).sum(axis=0), "c")}[op]
    return (lambda: a * 2, "s")


@st.composite
def graphs(draw):
    pool = [(X, "m"), (W, "r"), (S, "s")]
    names = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        a, ka = pool[draw(st.integers(0, len(pool) - 1))]
        if kind == "unary":
            name, fn = draw(st.sampled_from(UNARY))
            pool.append((fn(a), ka))
        elif kind == "binary":
            b, kb = pool[draw(st.integers(0, len(pool) - 1))]
            if (ka, kb) not in COMPATIBLE:
                continue
            name, fn = draw(st.sampled_from(BINARY))
            pool.append((fn(a, b), COMPATIBLE[(ka, kb)]))
        else:
            build, kind_out = _reduce(a, ka, draw)
            name = "reduce"
            pool.append((build(), kind_out))
        names.append(name)
    outs = [v for v, _ in pool[3:]] or [X * 1]
    cost = sum(o.sum() for o in outs[-2:])
    return cost, names


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_fast_run_equals_fast_compile(graph):
    cost, names = graph
    grads = T.grad(cost, [X, W, S], disconnected_inputs="ignore")
    results = []
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = function([X, W, S], [cost] + grads, mode=mode, on_unused_input="ignore")
        results.append(f(*VALUES))
    for fast, slow in zip(*results):
        np.testing.assert_allclose(fast, slow, rtol=1e-7, atol=1e-9, err_msg=str(names))
