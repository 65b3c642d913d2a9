"""Plan for the data-parallel step on one machine: two schemes in plain numpy, next to one process.

The MLP 784-512-512-10 step (global batch 256, SGD momentum, float32, one BLAS thread per
process), written in numpy with an MPI shared-memory window, to weigh a design before
building it into the library:

- ``one``: one process, batch 256; ``half``: one process, batch 128 (a process's share);
- ``allreduce`` (today's design): each process writes its weight gradients into its
  segment of the window, a barrier, then every process updates all weights reading every
  segment;
- ``split``: each process writes its slice's activations and deltas into the window; after
  a barrier each computes the weight gradient of its half of every layer's columns over
  the whole global batch (one product with K = 256 instead of two with K = 128, no sum of
  gradients) and updates that half of the weights, which live in the window; a second
  barrier before the next forward pass.

Run: mpiexec -n 1 python benchmarks/dp_schemes.py one|half, then
     mpiexec -n 2 python benchmarks/dp_schemes.py allreduce|split
"""
import os, sys, time
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np
from mpi4py import MPI
comm = MPI.COMM_WORLD; rank, size = comm.Get_rank(), comm.Get_size()
scheme = sys.argv[1]; B = 256; sizes = [784, 512, 512, 10]; f32 = np.float32
rng = np.random.default_rng(0)
nW = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))

def window(nfloats):
    win = MPI.Win.Allocate_shared(nfloats * 4 if rank == 0 else 0, 4, comm=comm)
    buf, _ = win.Shared_query(0)
    return win, np.frombuffer(buf, dtype=f32, count=nfloats)

def views(flat, shapes):
    out, o = [], 0
    for s in shapes:
        n = int(np.prod(s)); out.append(flat[o:o + n].reshape(s)); o += n
    return out

wshapes = [(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
X = rng.standard_normal((B, 784)).astype(f32); Y = rng.integers(0, 10, B)
lr, mu = 0.01, 0.9

def softmax_grad(z, y):
    z = z - z.max(1, keepdims=True); e = np.exp(z); p = e / e.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1; return p / B

if scheme in ("one", "half"):  # 1 process, batch 256 (or 128, a process's share alone)
    if scheme == "half":
        X, Y = X[:128], Y[:128]
    W = [rng.standard_normal(s).astype(f32) * 0.05 for s in wshapes]; V = [np.zeros_like(w) for w in W]
    def step():
        h1 = np.maximum(X @ W[0], 0); h2 = np.maximum(h1 @ W[1], 0); z = h2 @ W[2]
        d3 = softmax_grad(z, Y)
        g2 = h2.T @ d3; d2 = (d3 @ W[2].T) * (h2 > 0)
        g1 = h1.T @ d2; d1 = (d2 @ W[1].T) * (h1 > 0)
        g0 = X.T @ d1
        for w, v, g in zip(W, V, (g0, g1, g2)):
            v *= mu; v -= lr * g; w += v
elif scheme == "allreduce":  # today's design: grads in shared memory, barrier, full update reads both
    lo, hi = rank * B // size, (rank + 1) * B // size
    Xl, Yl = X[lo:hi], Y[lo:hi]
    W = [rng.standard_normal(s).astype(f32) * 0.05 for s in wshapes]; V = [np.zeros_like(w) for w in W]
    win, G = window(size * nW)
    mine = views(G[rank * nW:(rank + 1) * nW], wshapes)
    alls = [views(G[p * nW:(p + 1) * nW], wshapes) for p in range(size)]
    def step():
        h1 = np.maximum(Xl @ W[0], 0); h2 = np.maximum(h1 @ W[1], 0); z = h2 @ W[2]
        d3 = softmax_grad(z, Yl)
        np.matmul(h2.T, d3, out=mine[2]); d2 = (d3 @ W[2].T) * (h2 > 0)
        np.matmul(h1.T, d2, out=mine[1]); d1 = (d2 @ W[1].T) * (h1 > 0)
        np.matmul(Xl.T, d1, out=mine[0])
        comm.Barrier()
        for k, (w, v) in enumerate(zip(W, V)):
            v *= mu; v -= lr * alls[0][k]; v -= lr * alls[1][k]; w += v
        comm.Barrier()  # (segments reused next step)
elif scheme == "split":  # activations + deltas shared; each process: dW for its columns over all rows
    lo, hi = rank * B // size, (rank + 1) * B // size
    Yl = Y[lo:hi]
    acts = [(B, 784), (B, 512), (B, 512)]; dels = [(B, 512), (B, 512), (B, 10)]
    win1, A = window(sum(a * b for a, b in acts + dels) + nW)
    parts = views(A, acts + dels + wshapes)
    H, D, W = parts[0:3], parts[3:6], parts[6:9]
    if rank == 0:
        for w in W: w[...] = rng.standard_normal(w.shape).astype(f32) * 0.05
        H[0][...] = X
    comm.Barrier()
    cols = [slice(s * rank // size, s * (rank + 1) // size) for s in sizes[1:]]
    V = [np.zeros((w.shape[0], c.stop - c.start), f32) for w, c in zip(W, cols)]
    def step():
        x = H[0][lo:hi]
        np.maximum(x @ W[0], 0, out=H[1][lo:hi]); np.maximum(H[1][lo:hi] @ W[1], 0, out=H[2][lo:hi])
        z = H[2][lo:hi] @ W[2]
        D[2][lo:hi] = softmax_grad(z, Yl)
        D[1][lo:hi] = (D[2][lo:hi] @ W[2].T) * (H[2][lo:hi] > 0)
        D[0][lo:hi] = (D[1][lo:hi] @ W[1].T) * (H[1][lo:hi] > 0)
        comm.Barrier()
        for k in range(3):
            g = H[k].T @ D[k][:, cols[k]]
            V[k] *= mu; V[k] -= lr * g; W[k][:, cols[k]] += V[k]
        comm.Barrier()
for _ in range(20): step()
reps = []
for r in range(5):
    comm.Barrier(); t = time.perf_counter()
    for _ in range(100): step()
    comm.Barrier(); reps.append((time.perf_counter() - t) / 100)
if rank == 0:
    best = min(reps); print(f"{scheme:10s} procs={size} step {best*1e3:.2f} ms  samples/s {B/best if scheme!='half' else 128/best:,.0f}"
                            + (f"  (as a process's share: {256/best:,.0f})" if scheme == "half" else ""))
