"""C Elemwise/Composite kernels against the numpy reference: every scalar op, dtypes, layouts."""
from __future__ import annotations

import numpy as np
import pytest

import core.tensor as T
from core import function
from core.tensor import scalar_ops as ps
from core.tensor.elemwise import Elemwise
from core.tensor.type import TensorType

from c_helpers import assert_same, backend, c_and_numpy_kernels, layouts, needs_cc

pytestmark = needs_cc

DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint32", "float32", "float64"]
INTS = ("int8", "int32", "int64", "uint8", "uint32")
UNARY_ANY = [ps.neg, ps.abs_, ps.sqr, ps.sign, ps.identity, ps.floor, ps.ceil, ps.round_half_to_even]
UNARY_FLOAT = [ps.exp, ps.log, ps.log2, ps.log10, ps.log1p, ps.expm1, ps.sqrt, ps.tanh, ps.sin,
               ps.cos, ps.tan, ps.arctan, ps.sigmoid, ps.softplus, ps.erf, ps.reciprocal]
BINARY = [ps.add, ps.mul, ps.sub, ps.true_div, ps.int_div, ps.mod, ps.pow, ps.maximum,
          ps.minimum, ps.lt, ps.gt, ps.le, ps.ge, ps.eq, ps.neq, ps.second]
BITWISE = [ps.and_, ps.or_, ps.xor]


def _data(rng, dtype, shape, positive=False):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in INTS:
        lo = 1 if positive or dtype.startswith("u") else -5
        return rng.integers(lo, 6, size=shape).astype(dtype)
    x = rng.uniform(0.1 if positive else -2.0, 2.0, size=shape).astype(dtype)
    return x


def _applicable(op, dtype):
    if dtype == "bool" and isinstance(op, (ps.Neg, ps.Sub, ps.IntDiv, ps.Mod, ps.Pow,
                                           ps.TrueDiv, ps.Sign)):
        return False  # numpy rejects these on booleans
    if np.dtype(dtype).kind == "f" and op in BITWISE:
        return False
    return True


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_scalar_op_matches_numpy_on_every_layout(dtype):
    rng = np.random.default_rng(0)
    x, y = TensorType(dtype, (None, None))("x"), TensorType(dtype, (None, None))("y")
    nodes, positive = [], []
    for op in UNARY_ANY + UNARY_FLOAT + [ps.invert, ps.isnan, ps.isinf]:
        if _applicable(op, dtype) and not (op is ps.invert and np.dtype(dtype).kind == "f"):
            nodes.append(Elemwise(op).make_node(x))
            positive.append(op in UNARY_FLOAT)
    for op in BINARY + BITWISE:
        if _applicable(op, dtype):
            nodes.append(Elemwise(op).make_node(x, y))
            positive.append(op in (ps.pow, ps.int_div, ps.mod, ps.true_div))
    nodes.append(Elemwise(ps.clip).make_node(x, y, Elemwise(ps.add).make_node(y, y).outputs[0]))
    positive.append(True)
    ck, nk = c_and_numpy_kernels(nodes)
    shape, compared = (37, 41), 0  # above elemwise.SMALL: the C loop runs
    for node, kc, kn, pos in zip(nodes, ck, nk, positive):
        a = _data(rng, dtype, shape, pos)
        b = _data(rng, dtype, shape, pos)
        if isinstance(node.op.scalar_op, ps.Pow) and dtype in INTS:
            b = rng.integers(0, 4, size=shape).astype(dtype)
        args = [a, b, b + b][:len(node.inputs)]
        ref_args = args
        if node.outputs[0].dtype != dtype and np.dtype(node.outputs[0].dtype).kind == "f":
            # float functions of integers compute in the output dtype (numpy would wrap
            # -x of unsigned ints, or compute in float16 for small ints)
            ref_args = [v.astype(node.outputs[0].dtype) for v in args]
        try:
            with np.errstate(all="ignore"):
                want = kn(*ref_args)
        except TypeError:  # the reference has no loop for this dtype (e.g. positive(bool))
            continue
        compared += 1
        with np.errstate(all="ignore"):
            for name, la in layouts(a):
                lb = list(layouts(args[1]))[1][1] if len(args) > 1 else None
                got = kc(*([la] + ([lb] if lb is not None else []) + args[2:]))
                assert_same(got, want, dtype, f"{node.op} {dtype} {name}")
    assert compared >= len(nodes) - 3


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_broadcasting_rows_cols_scalars_and_rank3(dtype):
    rng = np.random.default_rng(1)
    m = TensorType(dtype, (None, None))("m")
    row, col = TensorType(dtype, (1, None))("r"), TensorType(dtype, (None, 1))("c")
    s = TensorType(dtype, ())("s")
    t3 = TensorType(dtype, (None, 1, None))("t3")
    t3b = TensorType(dtype, (None, None, None))("t3b")
    cases = [((m, row), [(5, 6), (1, 6)]), ((m, col), [(5, 6), (5, 1)]), ((row, col), [(1, 6), (5, 1)]),
             ((m, s), [(5, 6), ()]), ((s, s), [(), ()]), ((t3, t3b), [(3, 1, 4), (3, 5, 4)])]
    nodes = [Elemwise(ps.add).make_node(*vs) for vs, _ in cases]
    nodes += [Elemwise(ps.mul).make_node(*vs) for vs, _ in cases]
    ck, nk = c_and_numpy_kernels(nodes)
    for node, kc, kn, (_, shapes) in zip(nodes, ck, nk, cases + cases):
        args = [_data(rng, dtype, sh) for sh in shapes]
        assert_same(kc(*args), kn(*args), dtype, f"{node}")
        if all(len(sh) >= 2 for sh in shapes):
            fa = [np.asfortranarray(a) for a in args]
            assert_same(kc(*fa), kn(*args), dtype, f"{node} fortran")


def test_runtime_broadcast_of_a_non_broadcastable_axis_is_a_value_error():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    (kc,), _ = c_and_numpy_kernels([(x + y).owner])
    with pytest.raises(ValueError, match="not declared broadcastable"):
        kc(np.ones((3, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="broadcast"):
        kc(np.ones((3, 4)), np.ones((2, 4)))


def test_integer_power_with_negative_exponent_raises_like_numpy():
    x, y = T.lvector("x"), T.lvector("y")
    (kc,), _ = c_and_numpy_kernels([(x ** y).owner])
    np.testing.assert_array_equal(kc(np.arange(2000), np.full(2000, 2)), np.arange(2000) ** 2)
    with pytest.raises(ValueError, match="negative integer powers"):
        kc(np.arange(2000), np.full(2000, -1))


def test_inplace_pattern_writes_into_the_input_buffer():
    x, y = T.dvector("x"), T.dvector("y")
    node = Elemwise(ps.add, {0: 0}).make_node(x, y)
    (kc,), _ = c_and_numpy_kernels([node])
    a, b = np.arange(5000.0), np.ones(5000)
    out = kc(a, b)
    assert out is a and a[10] == 11.0


def test_float16_falls_back_to_numpy_with_a_warning(monkeypatch):
    from backends.c import compiler

    monkeypatch.setattr(compiler, "_warned", set())
    x = T.tensor("float16", shape=(None,))
    with pytest.warns(RuntimeWarning, match="no C kernel"):
        (kc,), (kn,) = c_and_numpy_kernels([T.exp(x).owner])
    a = np.linspace(0, 1, 7).astype("float16")
    np.testing.assert_array_equal(kc(a), kn(a))


EXPRESSIONS = {
    "a + a**10": lambda a, b: a + a ** 10,
    "transcendental": lambda a, b: T.exp(-a) * T.sin(a) + T.tanh(a) * a,
    "two outputs": lambda a, b: [T.sqr(a - b) * 0.5, T.sqrt(T.sqr(a - b) + 1.0)],
    "switch relu": lambda a, b: T.switch(T.gt(a, 0), a, 0.1 * a) + b.dimshuffle("x", 0),
    "mixed dtypes": lambda a, b: T.cast(a * 3, "int32") + b,
    "clip sigmoid": lambda a, b: T.clip(T.nnet.sigmoid(a) * b, 0.2, 0.7) / (1 + T.abs(b)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_composites_match_numpy_backend(dtype):
    rng = np.random.default_rng(2)
    a, b = T.matrix("a", dtype=dtype), T.vector("b", dtype=dtype)
    outs = []
    for name, make in EXPRESSIONS.items():
        r = make(a, b)
        outs += r if isinstance(r, list) else [r]
    with backend("c"):
        fc = function([a, b], outs)
    with backend("numpy"):
        fn = function([a, b], outs)
    assert any(hasattr(getattr(n.op, "scalar_op", None), "fgraph") for n in fc.maker.fgraph.toposort())
    for shape in [(3, 4), (300, 70)]:
        av = _data(rng, dtype, shape)
        bv = _data(rng, dtype, shape[1:])
        for name, lay in layouts(av):
            for got, want in zip(fc(lay, bv), fn(av, bv)):
                assert_same(got, want, want.dtype, f"{name} {shape}")


def test_seed_example_and_gradient_through_the_c_backend():
    a = T.dvector("a")
    with backend("c"):
        f = function([a], a + a ** 10)
        np.testing.assert_array_equal(f([0, 1, 2]), [0.0, 2.0, 1026.0])
        T.verify_grad(lambda x: T.exp(-x) * T.sin(x) + T.tanh(x) * x,
                      [np.random.default_rng(3).normal(size=(4, 5))])


def test_large_outputs_reuse_a_buffer_only_when_nobody_holds_it():
    x = T.dvector("x")
    with backend("c"):
        f = function([x], T.exp(x) * 2 + 1)
    a = np.linspace(0, 1, 1 << 16)
    kept = f(a)
    view = f(a)[::2]  # a view keeps its base alive
    again = f(a * 0)
    assert not np.shares_memory(kept, again) and not np.shares_memory(view, again)
    np.testing.assert_allclose(kept, np.exp(a) * 2 + 1)
    np.testing.assert_allclose(view, (np.exp(a) * 2 + 1)[::2])
    first_id = id(f(a))  # dropped at once: the next call writes into the same buffer
    second = f(a + 1)
    assert id(second) == first_id  # the cached buffer (still alive in the kernel's cache)
    np.testing.assert_allclose(second, np.exp(a + 1) * 2 + 1)


def test_updates_are_computed_in_place_and_copies_stay_intact():
    from core import shared

    p = shared(np.zeros(1 << 16), name="p")
    v = T.dvector("v")
    with backend("c"):
        f = function([v], [], updates=[(p, p * 0.5 + v)])
    ones = np.ones(1 << 16)
    f(ones)
    kept = p.get_value()  # a copy: never written again
    buffers, want = set(), 1.0
    for _ in range(6):
        f(ones)
        want = want * 0.5 + 1
        buffers.add(id(p.get_value(borrow=True)))
        np.testing.assert_array_equal(p.get_value(borrow=True), want)
    np.testing.assert_array_equal(kept, 1.0)
    assert len(buffers) == 1  # the update overwrites the old value: no buffer per call


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mask_products_are_exact_selects(dtype):
    # x * (cond) is computed as a select: subnormal x passes unchanged, and the product's
    # IEEE results are kept (nan * 0 is nan, -x * 0 is -0)
    x, a = T.vectors("x", "a", dtype=dtype)
    with backend("c"):
        f = function([x, a], x * (a >= 0))
        g = function([x, a], x * 3 * (a > 0) * (a < 2))
    assert "bool" in {i.dtype for n in f.maker.fgraph.toposort() for i in n.op.scalar_op.fgraph.inputs
                      + [v for m in n.op.scalar_op.fgraph.apply_nodes for v in m.outputs]}
    tiny = np.finfo(dtype).tiny
    xv = np.array([tiny / 4, -tiny / 8, 1.5, -2.0, np.nan, np.inf, -3.0, 7.0] * 200, dtype)
    av = np.array([1.0, 0.5, -1.0, 3.0, -1.0, -2.0, -0.5, 1.0] * 200, dtype)
    with np.errstate(invalid="ignore"):
        want, want_g = xv * (av >= 0), xv * 3 * (av > 0) * (av < 2)
    got = f(xv, av)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    np.testing.assert_array_equal(g(xv, av), want_g)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_momentum_update_in_place_matches_numpy_backend(dtype):
    from core import shared

    results = {}
    for name in ("c", "numpy"):
        w, v = shared(np.ones((300, 70), dtype)), shared(np.zeros((300, 70), dtype))
        a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
        v_new = 0.9 * v - 0.01 * T.dot(a, b)  # a Gemm into v's buffer, then w += v in place
        with backend(name):
            f = function([a, b], [], updates=[(v, v_new), (w, w + v_new)])
        assert sum(bool(n.op.destroy_map) for n in f.maker.fgraph.toposort()) == 2
        data = np.random.default_rng(4).normal(size=(3, 300, 90)).astype(dtype)
        for d in data:
            f(d[:, :20], np.ascontiguousarray(d[:20, 20:]))
        results[name] = (w.get_value(), v.get_value())
    for a, b in zip(results["c"], results["numpy"]):
        assert_same(a, b, dtype, "two-output update")


def test_outputs_past_the_streaming_size_match_numpy():
    # 4.5M float64 elements: 36 MB outputs, written with streaming stores in L1-sized tiles
    rng = np.random.default_rng(7)
    n = (36 << 20) // 8 + 3  # not a whole number of tiles
    a = rng.uniform(-1, 1, n)
    x, s = T.dvector("x"), T.dscalar("s")
    with backend("c"):
        two = function([x, s], [x + x ** 10, T.exp(x) * s])  # two outputs, a scalar input
        got = two(a, 1.5)
        np.testing.assert_allclose(got[0], a + a ** 10, rtol=1e-14, atol=1e-15)  # cancels near -1
        np.testing.assert_allclose(got[1], np.exp(a) * 1.5, rtol=1e-14)
        # an output that starts off a vector boundary: the streamed part is aligned after
        # a plain head
        node = T.exp(x).owner
        ck, nk = c_and_numpy_kernels([node])
        view = a[1:]
        assert_same(ck[0](view), nk[0](view), "float64")


def test_integer_powers_by_squaring_match_numpy():
    rng = np.random.default_rng(8)
    a = rng.uniform(-1.5, 1.5, 5000)
    x = T.dvector("x")
    with backend("c"):
        for k in (2, 3, 5, 7, 10, 13, 16, -3):
            np.testing.assert_allclose(function([x], x ** k)(a), a ** k, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("dtype", ["bool", "int32", "float32"])
def test_streamed_outputs_of_every_element_size(dtype):
    # past the streaming size, with a head before the first 64-byte boundary and a tail
    n = (32 << 20) // np.dtype(dtype).itemsize + 37
    rng = np.random.default_rng(9)
    a = rng.integers(-5, 5, n + 3).astype("float32")[3:]  # starts off a vector boundary
    x = T.fvector("x")
    expr = {"bool": x > 0, "int32": T.cast(x * 3, "int32"), "float32": x * x + 1}[dtype]
    with backend("c"):
        got = function([x], expr)(a)
    want = {"bool": a > 0, "int32": (a * 3).astype("int32"), "float32": a * a + 1}[dtype]
    np.testing.assert_array_equal(got, want)


def test_integer_power_errors_are_reported_from_the_streamed_loop():
    n = (32 << 20) // 8 + 5
    x, y = T.lvector("x"), T.lvector("y")
    (kc,), _ = c_and_numpy_kernels([(x ** y).owner])
    exponents = np.full(n, 2)
    np.testing.assert_array_equal(kc(np.full(n, 3), exponents), np.full(n, 9))
    exponents[n // 2] = -1
    with pytest.raises(ValueError, match="negative integer powers"):
        kc(np.full(n, 3), exponents)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_column_broadcast_runs_per_row_with_the_column_as_a_scalar(dtype):
    """A (rows, 1) input beside full arrays (softmax's normalization, a per-row scale) gets
    its own entry, and agrees with numpy: rank 2 and 3, several columns, a scalar, in
    place, empty, and layouts the entry does not take (they go through the strided loop)."""
    from backends.c.elemwise import elemwise_spec

    rng = np.random.default_rng(2)
    m, m2 = TensorType(dtype, (None, None))("m"), TensorType(dtype, (None, None))("m2")
    col, col2 = TensorType(dtype, (None, 1))("c"), TensorType(dtype, (None, 1))("c2")
    t3, c3 = TensorType(dtype, (None, None, None))("t3"), TensorType(dtype, (None, None, 1))("c3")
    s = TensorType(dtype, ())("s")
    fused = function([m, col, col2, m2, s], T.exp(m - col) * col2 + m2 * s).maker.fgraph
    (composite,) = [n for n in fused.toposort() if isinstance(n.op, Elemwise)]
    nodes = [Elemwise(ps.true_div).make_node(m, col), composite,
             Elemwise(ps.sub).make_node(t3, c3),
             Elemwise(ps.mul, {0: 0}).make_node(m, col)]
    assert all(any(name == "q" for name, _ in elemwise_spec(n).symbols) for n in nodes)
    shapes = [[(7, 9), (7, 1)], [(7, 9), (7, 1), (7, 1), (7, 9), ()], [(2, 3, 33), (2, 3, 1)],
              [(5, 4), (5, 1)]]
    ck, nk = c_and_numpy_kernels(nodes)
    for node, kc, kn, sh in zip(nodes, ck, nk, shapes):
        for rows in (None, 0):
            sizes = [s if rows is None or not s else (rows,) + s[1:] for s in sh]
            args = [_data(rng, dtype, z, positive=True) for z in sizes]
            expected = kn(*[a.copy() for a in args])
            assert_same(kc(*[a.copy() for a in args]), expected, dtype, f"{node} {sizes}")
    kc, kn = ck[0], nk[0]
    a, c = _data(rng, dtype, (6, 8), positive=True), _data(rng, dtype, (6, 1), positive=True)
    assert_same(kc(a[:, ::2], c), kn(a[:, ::2], c), dtype, "strided rows")
    assert_same(kc(np.asfortranarray(a), c), kn(a, c), dtype, "fortran")
    with pytest.raises(ValueError, match="broadcast"):
        kc(a, c[:3])


def test_an_unpickled_arrays_dtype_takes_the_contiguous_loop(monkeypatch):
    # An unpickled array (process 0's weights broadcast through MPI) has a dtype equal to
    # numpy's float32 but not the same object: it must not fall to the strided loop.
    import pickle

    import backends.c.elemwise as c_elemwise

    def refuse(node, *args):
        raise AssertionError(f"strided loop for {node.op}")

    monkeypatch.setattr(c_elemwise, "_strided_call", refuse)
    x, b = T.fmatrix("x"), T.fvector("b")
    with backend("c"):
        f = function([x, b], T.maximum(x + b, 0) * 2)
    # (large enough for the C loop: small arrays go to numpy)
    xv = pickle.loads(pickle.dumps(np.linspace(-1, 1, 64 * 256, dtype="float32").reshape(64, 256)))
    bv = pickle.loads(pickle.dumps(np.full(256, 0.25, "float32")))
    assert xv.dtype == np.float32 and xv.dtype is not np.dtype("float32")
    np.testing.assert_allclose(f(xv, bv), np.maximum(xv + bv, 0) * 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_column_major_operands_run_flat_and_inplace_outputs_stay_where_they_lie(dtype):
    # a column-split weight's block (stored transposed) and a block of columns of a
    # row-major matrix, updated in place: the momentum step's pass, out0 -> w, out1 -> m
    from core.tensor.composite import Composite

    rng = np.random.default_rng(4)
    m, w = T.matrix("m", dtype=dtype), T.matrix("w", dtype=dtype)
    i0, i1 = ps.ScalarType(dtype)(), ps.ScalarType(dtype)()
    scale = ps.scalar_constant(0.9, dtype)
    step = Composite([i0, i1], [ps.add(i1, ps.mul(scale, i0)), ps.mul(scale, i0)])
    node = Elemwise(step, inplace_pattern={0: 1, 1: 0}).make_node(m, w)
    (kc,), (kn,) = c_and_numpy_kernels([node])
    for make in (lambda: rng.normal(size=(9, 6)).astype(dtype)[2:6].T,
                 lambda: rng.normal(size=(6, 9)).astype(dtype)[:, 2:6]):
        mv, wv = make(), make()
        want = kn(mv.copy(), wv.copy())
        got_w, got_m = kc(mv, wv)
        assert got_w is wv and got_m is mv
        assert_same(got_w, want[0], dtype)
        assert_same(got_m, want[1], dtype)
    a, b = np.asfortranarray(rng.normal(size=(5, 7)).astype(dtype)), np.asfortranarray(
        rng.normal(size=(5, 7)).astype(dtype))
    (kc,), _ = c_and_numpy_kernels([Elemwise(ps.add).make_node(T.matrix(dtype=dtype),
                                                               T.matrix(dtype=dtype))])
    out = kc(a, b)
    assert out.flags.f_contiguous
    assert_same(out, a + b, dtype)


def test_an_inplace_output_is_written_where_its_input_lies_only_when_that_is_safe():
    # the strided runner writes outputs contiguously along its innermost axis: an input
    # laid out otherwise (transposed against the others, reversed), or one another input
    # views (x + x.T into x), gets a fresh output instead
    rng = np.random.default_rng(6)
    a, b = T.dmatrix("a"), T.dmatrix("b")
    (kc,), _ = c_and_numpy_kernels([Elemwise(ps.add, inplace_pattern={0: 0}).make_node(a, b)])
    base = rng.normal(size=(5, 7))
    other = rng.normal(size=(5, 7))
    stepped = rng.normal(size=(10, 14))[::2, ::2]
    for target in (np.asfortranarray(base), base[:, ::-1].copy()[:, ::-1], stepped):
        want = target + other
        assert_same(kc(target, other), want, "float64")
    square = rng.normal(size=(40, 40))  # more rows than one tile of the runner
    want = square + square.T
    assert_same(kc(square[::-1][::-1], square.T), want, "float64")
    wide = np.asfortranarray(rng.normal(size=(5, 8)))  # column-major views one column apart
    want = wide[:, 1:5] + wide[:, 0:4]
    assert_same(kc(wide[:, 1:5], wide[:, 0:4]), want, "float64")
