"""The process's worker threads for the C kernels' dense products and large elementwise
loops: blocks that the calling thread and the workers take one at a time, with no wait for
a worker that never started.

OpenMP's and OpenBLAS's threads split a product into fixed parts and wait at its end for
every thread of the team. On a machine whose cores also run other processes a worker may
not get its core for a whole time slice (milliseconds), and a training step makes a dozen
such waits: the MLP step took 20-35 ms at 2 threads against 4.3 ms at 1 on the shared
2-core machine. Here the calling thread wakes the workers and starts taking blocks
itself; a worker that wakes late finds them taken and goes back to sleep, so a step
waits at most for the blocks a worker had started. When a worker lost its core in the
middle of a block (the caller waited longer than half its own work), the caller runs the
next jobs alone for a while (10 ms, doubling while it recurs). Each block of a product is
one single-threaded BLAS call: the caller sets OpenBLAS's count to 1 from before it
publishes a job until every block is done (``openblas_set_num_threads_local`` sets the
process's count in OpenBLAS's pthreads builds, numpy's wheels), and workers set it at their
start (where it is thread-local): BLAS's own threads, once woken, spin on the other core.

Every generated module carries ``POOL_API_C`` (through ``blas.GEMM_C``): ``lg_pool_run``,
null until ``attach(lib)`` hands it this module's ``lg_run_blocks``; while null, products
run as one BLAS call (numpy's BLAS threads, as before). The module builds only where
more than one thread is wanted (``wanted()``).
"""
from __future__ import annotations

import ctypes
import os
import threading

# In every generated module: how a kernel reaches the pool.
POOL_API_C = """
typedef void (*lg_block_fn)(void *ctx, int64_t block, int thread);
typedef int (*lg_run_blocks_fn)(lg_block_fn f, void *ctx, int64_t blocks, int threads);
/* the worker pool (backends/c/workers.py), once set: lg_pool_run(f, ctx, n, T) runs
   f(ctx, b, t) for b in [0, n) on up to T threads, t in [0, T) the thread's index (for
   per-thread scratch), and returns 1; or returns 0 having run nothing, when the caller had
   better run the whole job alone (the workers' cores are busy, or it is nested); weak: a module compiled as several translation units (pieces.py)
   has one of each */
__attribute__((weak, visibility("hidden"))) lg_run_blocks_fn lg_pool_run;
/* openblas_set_num_threads_local (or null): with the pool, every BLAS call here is
   single-threaded (BLAS's own threads, once woken, spin for a while on the other core) */
__attribute__((weak, visibility("hidden"))) int (*lg_blas_local)(int);
__attribute__((weak)) void lg_set_pool(void *run, void *local) {
    lg_pool_run = (lg_run_blocks_fn)run;
    lg_blas_local = (int (*)(int))local;
}
/* threads a kernel may use now: the OpenMP limit (core.config.threads sets it) */
static int lg_threads(void) {
#ifdef _OPENMP
    return lg_pool_run && !omp_in_parallel() ? omp_get_max_threads() : 1;
#else
    return 1;
#endif
}
/* f(ctx, b, t) for b in [0, n) on up to T of the pool's threads (blocks taken one at a
   time, t the thread's scratch slot), or all on this thread (t = 0) */
__attribute__((unused)) static void lg_run_all(lg_block_fn f, void *ctx, int64_t n, int T) {
    if (T > 1 && n > 1 && lg_pool_run && lg_pool_run(f, ctx, n, T)) return;
    for (int64_t b = 0; b < n; b++) f(ctx, b, 0);
}
"""

_SOURCE = r"""
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef void (*lg_block_fn)(void *ctx, int64_t block, int thread);
enum { MAX_WORKERS = 63 };
/* a worker's wait for the next job before it sleeps: a training step's kernels come
   0.05-0.3 ms apart, and waking a sleeping worker took 66 us on average (measured over
   a VGG step's jobs, 9 in 10 of which found it asleep after 2000 pauses: 22 us) */
#define WORKER_SPIN_S 300e-6
#define CALLER_SPIN_S 100e-6  /* the caller's for the workers' last blocks (waking it: 66 us) */
#if defined(__x86_64__) || defined(__i386__)
#define PAUSE() __builtin_ia32_pause()
#else
#define PAUSE() ((void)0)
#endif

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;  /* guards the job and the counts */
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;  /* one caller's job at a time */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;  /* a worker's block, for a waiting caller */
static _Atomic int caller_waits;
static lg_block_fn job_f;
static void *job_ctx;
static int64_t job_blocks;
static int job_helpers, workers, sleepers;
static uint64_t gen;               /* the job's number (under mu) */
static _Atomic uint64_t claim;     /* (job number << 32) | next block: one CAS takes a block */
static _Atomic uint64_t seen_gen;  /* the job number, for spinning workers (no lock) */
static _Atomic int64_t helped;     /* blocks the workers finished of the current job */
static int (*blas_local)(int);     /* openblas_set_num_threads_local, or null */
static _Thread_local int inside;   /* a worker, or a caller already running a job */
static double alone_until, backoff = 0.01;  /* contention: the caller alone until then */
static int clean;  /* pooled jobs since the last long wait */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int64_t take(uint32_t g, int64_t blocks) {
    uint64_t v = atomic_load(&claim);
    while ((uint32_t)(v >> 32) == g && (int64_t)(v & 0xffffffffu) < blocks)
        if (atomic_compare_exchange_weak(&claim, &v, v + 1))
            return (int64_t)(v & 0xffffffffu);
    return -1;
}

static void *worker(void *arg) {
    const int id = (int)(intptr_t)arg;
    inside = 1;
    if (blas_local) blas_local(1);
    pthread_mutex_lock(&mu);
    uint64_t seen = gen;
    pthread_mutex_unlock(&mu);
    for (;;) {
        /* jobs come in bursts (a training step's kernels): spin a while before sleeping */
        const double until = now() + WORKER_SPIN_S;
        for (int s = 0; atomic_load(&seen_gen) == seen; s++) {
            PAUSE();
            if (s % 64 == 63 && now() > until) break;
        }
        pthread_mutex_lock(&mu);
        while (gen == seen) {
            sleepers++;
            pthread_cond_wait(&wake, &mu);
            sleepers--;
        }
        seen = gen;
        const lg_block_fn f = job_f;
        void *ctx = job_ctx;
        const int64_t blocks = job_blocks;
        const int helpers = job_helpers;
        pthread_mutex_unlock(&mu);
        if (id >= helpers) continue;
        for (int64_t b; (b = take((uint32_t)seen, blocks)) >= 0;) {
            f(ctx, b, id + 1);
            atomic_fetch_add(&helped, 1);
            if (atomic_load(&caller_waits)) {
                pthread_mutex_lock(&mu);
                pthread_cond_signal(&finished);
                pthread_mutex_unlock(&mu);
            }
        }
    }
    return 0;
}

/* Run f(ctx, 0 .. blocks-1) on this thread and up to threads - 1 workers and return 1;
   or return 0 at once, for the caller to run the job its own way on this thread alone. */
int lg_run_blocks(lg_block_fn f, void *ctx, int64_t blocks, int threads) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    if (threads < 2 || blocks < 2 || inside || pthread_mutex_trylock(&owner))
        return 0;  /* nested in a job, or another caller's job runs */
    const double start = now();
    if (start < alone_until) {  /* the workers' cores were busy a moment ago */
        pthread_mutex_unlock(&owner);
        return 0;
    }
    /* BLAS single-threaded until every block is done: OpenBLAS's "thread-local" count is
       the process's in its pthreads builds (numpy's wheels), so a count restored as soon
       as the caller's own blocks end sent a worker's next product to BLAS's threads */
    const int old = blas_local ? blas_local(1) : 0;
    pthread_mutex_lock(&mu);
    while (workers < threads - 1) {
        pthread_t t;
        if (pthread_create(&t, 0, worker, (void *)(intptr_t)workers)) break;
        pthread_detach(t);
        workers++;
    }
    job_f = f, job_ctx = ctx, job_blocks = blocks, job_helpers = threads - 1;
    atomic_store(&helped, 0);
    const uint32_t g = (uint32_t)++gen;
    atomic_store(&claim, (uint64_t)g << 32);
    atomic_store(&seen_gen, gen);
    if (sleepers) pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    inside = 1;
    int64_t mine = 0;
    for (int64_t b; (b = take(g, blocks)) >= 0; mine++) f(ctx, b, 0);
    inside = 0;
    /* every block is taken: wait only for those a worker is still running */
    const double mid = now();
    for (int s = 0; atomic_load(&helped) + mine < blocks; s++) {  /* a worker's last block */
        PAUSE();
        if (s % 64 == 63 && now() > mid + CALLER_SPIN_S) break;
    }
    if (atomic_load(&helped) + mine < blocks) {
        /* then sleep, not spin: this core goes idle and the scheduler may move the worker,
           waiting behind another process on its own core, here */
        pthread_mutex_lock(&mu);
        atomic_store(&caller_waits, 1);
        while (atomic_load(&helped) + mine < blocks) pthread_cond_wait(&finished, &mu);
        atomic_store(&caller_waits, 0);
        pthread_mutex_unlock(&mu);
    }
    if (blas_local) blas_local(old);
    /* A wait longer than half the caller's own work and than 0.5 ms means a worker lost
       its core to another process in the middle of a block (waking a sleeping worker
       and its last block of a small job take 0.1-0.3 ms: at 20 us these short waits sent
       the caller alone for a third of a VGG step): the caller works alone for a while
       (10 ms, doubling each time it happens again, up to 0.5 s; halved after 64 jobs
       without such a wait), then tries again. */
    const double end = now();
    if (end - mid > 0.5 * (mid - start) + 0.5e-3) {
        alone_until = end + backoff;
        backoff = backoff < 0.25 ? 2 * backoff : 0.5;
        clean = 0;
    } else if (++clean >= 64) {
        backoff = backoff > 0.02 ? 0.5 * backoff : 0.01;
        clean = 0;
    }
    pthread_mutex_unlock(&owner);
    return 1;
}

/* A forked child has none of the workers, and a lock a worker held at the fork stays held:
   it starts over (workers are created again at its first job). */
static void after_fork_in_child(void) {
    pthread_mutex_init(&mu, 0);
    pthread_mutex_init(&owner, 0);
    pthread_cond_init(&wake, 0);
    pthread_cond_init(&finished, 0);
    workers = sleepers = 0;
    atomic_store(&caller_waits, 0);
    inside = 0;
}

void lg_workers_init(void *local) {
    blas_local = (int (*)(int))local;
    pthread_atfork(0, 0, after_fork_in_child);
}

static void *lg_table[] = {(void *)lg_run_blocks, (void *)lg_workers_init};
void *lg_get(int i) { return lg_table[i]; }
"""

_run_address: list = []  # [address of lg_run_blocks] once built, [0] when it cannot be
_alongside: list = []  # the thread compiling the pool's module beside a kernel module


def wanted() -> bool:
    """True when the C kernels may use more than one thread: ``core.config.threads`` > 1, or
    0 (the environment decides) with ``OMP_NUM_THREADS`` unset or > 1 on several cores."""
    from core.config import config

    from .pieces import usable_cores

    if config.threads:
        return config.threads > 1
    try:
        return int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]) > 1
    except ValueError:
        return usable_cores() > 1


def build_alongside(source: str) -> None:
    """Start compiling the pool's module in a thread, if a module about to be compiled from
    ``source`` takes the pool, it is wanted and not cached: the two compilers run at once
    (one cold compile saved on an idle core). ``run_address`` waits for it."""
    if _run_address or _alongside or "lg_set_pool" not in source or not wanted():
        return
    from . import compiler

    if compiler.is_built(source) or compiler.is_built(_SOURCE):
        return
    thread = threading.Thread(target=compiler.build_quietly, args=(_SOURCE,), daemon=True)
    thread.start()
    _alongside.append(thread)


def run_address() -> int:
    """Address of ``lg_run_blocks`` (the pool's module built once), or 0 where it does not
    compile."""
    if not _run_address:
        for thread in _alongside:
            thread.join()
        from .blas import blas_thread_local
        from .compiler import CompileError, load_module

        try:
            run, init = load_module(_SOURCE, 2)
        except CompileError:
            run = init = 0
        if init:
            ctypes.CFUNCTYPE(None, ctypes.c_void_p)(init)(blas_thread_local() or None)
        _run_address.append(run or 0)
    return _run_address[0]


def attach(lib) -> None:
    """Give a loaded module (a ``ctypes.CDLL``) the pool, where it takes one and more than
    one thread is wanted."""
    setter = getattr(lib, "lg_set_pool", None)
    if setter is None or not wanted():
        return
    run = run_address()
    if run:
        from .blas import blas_thread_local

        setter.argtypes, setter.restype = [ctypes.c_void_p, ctypes.c_void_p], None
        setter(run, blas_thread_local() or None)
