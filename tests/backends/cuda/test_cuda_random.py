"""The CUDA random streams without a GPU: the generated Philox4x32-10 code built for the
host by the C++ compiler matches Random123's known answers and a numpy model of the
kernels; the draws (uniform, normal, binomial) computed from that model with numpy
standing in for cupy repeat for a state, move on with the counter, and have the right
moments."""
import shutil
import subprocess
import numpy as np
import pytest

from backends.cuda.codegen import PHILOX, uniform_source

from numpy_as_cupy import numpy_as_cupy

CXX = shutil.which("c++") or shutil.which("g++")
M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = np.uint64(0xFFFFFFFF)


def philox(c, k0, k1):
    """Philox4x32-10 on uint64 arrays holding 32-bit words (vectorized over blocks)."""
    c = [np.asarray(w, np.uint64) & MASK for w in c]
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & MASK, (p0 >> np.uint64(32)) ^ c[3] ^ k1,
             p0 & MASK]
        k0, k1 = (k0 + np.uint64(W0)) & MASK, (k1 + np.uint64(W1)) & MASK
    return c


def model_uniforms(state, shape, dtype):
    """What ``lg_uniform_f32/f64`` write, computed with numpy."""
    key, counter = int(state[0]), int(state[1])
    n = int(np.prod(shape))
    per = 4 if np.dtype(dtype) == np.float32 else 2
    j = np.arange((n + per - 1) // per, dtype=np.uint64)
    c = philox([j & MASK, j >> np.uint64(32), np.full_like(j, counter & 0xFFFFFFFF),
                np.full_like(j, counter >> 32)], key & 0xFFFFFFFF, key >> 32)
    if per == 4:
        words = np.stack(c, axis=1).reshape(-1)
        out = (words >> np.uint64(8)).astype(np.float32) * np.float32(2.0 ** -24)
    else:
        a = np.stack([c[0], c[2]], axis=1).reshape(-1) >> np.uint64(5)
        b = np.stack([c[1], c[3]], axis=1).reshape(-1) >> np.uint64(6)
        out = (a.astype(np.float64) * 67108864.0 + b.astype(np.float64)) * 2.0 ** -53
    return out[:n].reshape(shape).astype(dtype)


def test_philox_model_matches_random123_known_answers():
    got = philox([0, 0, 0, 0], 0, 0)
    assert [int(w) for w in got] == [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    got = philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], 0xa4093822, 0x299f31d0)
    assert [int(w) for w in got] == [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]


HOST_MAIN = r"""
#include <cstdint>
#include <cstdio>
#define __device__
#define __forceinline__ inline
#define __global__
struct lg_dim { unsigned x; };
static const lg_dim blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
@SOURCE@
int main() {
    const uint64_t state[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    float f[11]; double d[7];
    lg_uniform_f32(11, f, state); lg_uniform_f64(7, d, state);
    for (int i = 0; i < 11; i++) printf("%.9g\n", f[i]);
    for (int i = 0; i < 7; i++) printf("%.17g\n", d[i]);
}
"""


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_generated_kernels_built_for_the_host_match_the_model(tmp_path):
    src = tmp_path / "philox.cpp"
    src.write_text(HOST_MAIN.replace("@SOURCE@", uniform_source()))
    subprocess.run([CXX, "-O1", str(src), "-o", str(tmp_path / "philox")], check=True)
    values = [float(v) for v in subprocess.run([str(tmp_path / "philox")], check=True,
                                                capture_output=True, text=True).stdout.split()]
    state = np.array([0x0123456789abcdef, 0xfedcba9876543210], np.uint64)
    np.testing.assert_array_equal(np.float32(values[:11]), model_uniforms(state, (11,), "float32"))
    np.testing.assert_array_equal(values[11:], model_uniforms(state, (7,), "float64"))
    assert "lg_philox" in PHILOX


@pytest.fixture(scope="module")
def random_kernel():
    """``backends.cuda.random.random_kernel`` with numpy as cupy and the numpy model in
    place of the generated uniform kernels (which need a GPU)."""
    with numpy_as_cupy():
        from backends.cuda import random as cuda_random

        cuda_random.uniforms = model_uniforms
        yield cuda_random.random_kernel


def _draw(random_kernel, dist, dtype, size, *params, state=(7, 0), replace=True):
    from core.tensor.random import RandomVariable
    import core.tensor as T

    ndim = len(size) + (dist == "permutation")
    node = RandomVariable(dist, dtype, ndim, replace).make_node(
        T.TensorType("uint64", (2,))(), T.lvector(), *[T.as_tensor_variable(np.asarray(p))
                                                      for p in params])
    new_state, sample = random_kernel(node)(np.array(state, np.uint64), np.array(size),
                                            *[np.asarray(p) for p in params])
    return new_state, sample


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_draws_repeat_for_a_state_and_have_the_right_moments(random_kernel, dtype):
    state, u = _draw(random_kernel, "uniform", dtype, (200, 100), 2.0, 4.0)
    assert u.dtype == dtype and u.shape == (200, 100) and list(state) == [7, 1]
    assert 2.0 <= u.min() and u.max() < 4.0 and abs(u.mean() - 3.0) < 0.02
    np.testing.assert_array_equal(u, _draw(random_kernel, "uniform", dtype, (200, 100), 2.0, 4.0)[1])
    assert not np.array_equal(u, _draw(random_kernel, "uniform", dtype, (200, 100), 2.0, 4.0,
                                       state=(7, 1))[1])
    _, z = _draw(random_kernel, "normal", dtype, (20000,), 1.0, 2.0)
    assert abs(z.mean() - 1.0) < 0.05 and abs(z.std() - 2.0) < 0.05
    _, b = _draw(random_kernel, "binomial", "int64", (20000,), 3, 0.25)
    assert b.dtype == np.int64 and set(np.unique(b)) <= {0, 1, 2, 3}
    assert abs(b.mean() - 0.75) < 0.03
    with pytest.raises(ValueError, match="std must be non-negative"):
        _draw(random_kernel, "normal", dtype, (3,), 0.0, -1.0)


def test_permutations_are_uniform_and_repeat_for_a_state(random_kernel):
    state, perms = _draw(random_kernel, "permutation", "int64", (6000,), 6)
    assert perms.shape == (6000, 6) and perms.dtype == np.int64 and list(state) == [7, 1]
    assert (np.sort(perms, axis=1) == np.arange(6)).all()
    for column in (0, 5):  # every item equally likely in every place
        np.testing.assert_allclose(np.bincount(perms[:, column], minlength=6) / 6000, 1 / 6,
                                   atol=0.02)
    np.testing.assert_array_equal(perms, _draw(random_kernel, "permutation", "int64", (6000,),
                                               6)[1])
    assert not np.array_equal(perms, _draw(random_kernel, "permutation", "int64", (6000,), 6,
                                           state=(7, 1))[1])


def test_choice_with_replacement_follows_p_and_takes_the_items_of_a_vector(random_kernel):
    p = np.array([0.1, 0.0, 0.6, 0.3])
    _, draws = _draw(random_kernel, "choice", "int64", (20000,), 4, p)
    assert draws.dtype == np.int64 and 1 not in draws
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, p, atol=0.015)
    _, items = _draw(random_kernel, "choice", "float64", (30, 40), np.array([10.0, 20.0, 30.0]))
    assert items.shape == (30, 40) and set(np.unique(items)) == {10.0, 20.0, 30.0}
    assert abs(items.mean() - 20.0) < 0.6


def test_choice_without_replacement_draws_distinct_items_weighted_by_p(random_kernel):
    _, items = _draw(random_kernel, "choice", "int64", (2, 3), 6, replace=False)
    assert items.shape == (2, 3) and sorted(items.ravel().tolist()) == list(range(6))
    p = np.array([0.5, 0.0, 0.2, 0.3])
    firsts = [int(_draw(random_kernel, "choice", "int64", (1,), 4, p, replace=False,
                        state=(3, c))[1][0]) for c in range(3000)]
    # the first item taken is item i with probability p[i], as when drawing one at a time
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 3000, p, atol=0.03)
    _, three = _draw(random_kernel, "choice", "int64", (3,), 4, p, replace=False)
    assert sorted(three.tolist()) == [0, 2, 3]  # never the item of p == 0


@pytest.mark.parametrize("size,params,replace,message", [
    ((5,), (4,), False, "cannot take 5 items from 4 without replacement"),
    ((2,), (3, np.array([0.5, 0.5])), True, "does not match the 3 items"),
    ((2,), (2, np.array([1.5, -0.5])), True, "non-negative and sum to 1"),
    ((2,), (3, np.array([1.0, 0.0, 0.0])), False, "fewer non-zero entries in p"),
])
def test_choice_refuses_what_numpy_refuses(random_kernel, size, params, replace, message):
    with pytest.raises(ValueError, match=message):
        _draw(random_kernel, "choice", "int64", size, *params, replace=replace)
