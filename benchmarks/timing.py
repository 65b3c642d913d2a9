"""Interleaved timing shared by every benchmark script (no side effects on import)."""
from __future__ import annotations

import time

import numpy as np


def interleaved_medians(fns: dict, repeats: int, min_round: float = 0.0,
                        clock=time.perf_counter, warmup: int = 1) -> dict:
    """Median seconds per call of each callable, timed in turn round after round, so that
    load on the machine falls on all of them alike.

    Each callable is first called ``warmup`` times. With ``min_round`` a round calls a
    function ``k`` times (chosen once so a round lasts about ``min_round`` seconds), so that
    short calls are not dominated by the clock. ``clock``: ``time.perf_counter`` (wall) or
    ``time.process_time`` (CPU time of the process, faithful on a loaded machine).
    """
    loops = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        loops[name] = 1
        if min_round > 0:
            t0 = clock()
            fn()
            loops[name] = max(1, int(min_round / max(clock() - t0, 1e-7)))
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            k = loops[name]
            start = clock()
            for _ in range(k):
                fn()
            times[name].append((clock() - start) / k)
    return {name: float(np.median(t)) for name, t in times.items()}
