"""Issue 15's latency: the workshop page answering a changed setting at 1,000 replications
(150 councils, 30 years), and a setting already seen coming back from the page's cache.

What the page runs for a change: :func:`mutualsim.app.results.compute` of the new
:class:`~mutualsim.app.settings.Settings` in a warm process (the compiled kernel loaded,
the baseline arm already in the cache), so one new arm of 1,000 replications is simulated
and summarised on every core. Each protection value below is a new arm; the times are wall
seconds of that call, with its CPU seconds beside them (two threads: CPU is about twice
wall when both cores are free). Run alone: ``python -m benchmarks --only page``.
"""

from __future__ import annotations

import statistics
import time

from .common import Plan, Section, Target

GOAL_SECONDS = 1.0
CHANGES = (7, 15, 5, 0, 10, 4)   # protection years: each a setting not seen before


def page_latency(plan: Plan, shared: dict) -> Section:
    from mutualsim.app.results import arm, compute
    from mutualsim.app.settings import Settings

    replications = 20 if plan.quick else 1000
    arm.cache_clear()
    first = Settings(replications=replications, seed=1, protection_years=3)
    start = time.perf_counter()
    compute(first)  # loads the kernel, fills the baseline arm and protection 3
    warm = time.perf_counter() - start
    rows, walls = [], []
    for years in CHANGES:
        settings = Settings(replications=replications, seed=1, protection_years=years)
        start, cpu = time.perf_counter(), time.process_time()
        compute(settings)
        wall = time.perf_counter() - start
        walls.append(wall)
        rows.append({"change": f"protection {years} years (new arm)",
                     "replications": replications, "wall s": wall,
                     "CPU s": time.process_time() - cpu})
    start = time.perf_counter()
    compute(Settings(replications=replications, seed=1, protection_years=CHANGES[0]))
    cached = time.perf_counter() - start
    rows.append({"change": f"protection {CHANGES[0]} years again (cached)",
                 "replications": replications, "wall s": cached, "CPU s": float("nan")})
    median = statistics.median(walls)
    notes = [f"First call (kernel load, baseline arm and protection 3): {warm:.2f} s. "
             "The page answers each change in a worker thread; the figures are the "
             "computation it waits for (the charts then redraw in the browser).",
             f"Median of {len(walls)} changes: {median:.2f} s wall "
             f"(range {min(walls):.2f}-{max(walls):.2f}); a setting already seen: "
             f"{cached * 1e3:.0f} ms."]
    targets = [Target("page: a changed setting at 1,000 replications (wall, median)",
                      median, GOAL_SECONDS, "s", lower_is_better=True,
                      note="quick run: 20 replications" if plan.quick else "")]
    return Section("Workshop page latency (issue 15)", rows, notes, targets)
