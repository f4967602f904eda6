"""Where ``simulate``'s time goes: ``cProfile`` grouped by phase.

The rules run inside one compiled loop per replication (``kernel.run``), which cProfile
cannot see into; it splits the run into setup, the compiled loops and building the frames.
"""

from __future__ import annotations

import cProfile
import pstats
import time

from mutualsim import simulate

from .common import Plan, Section

# (label, module path suffix, function name); cumulative time of each.
PARTS = (
    ("generators + initial_state", "rng.py", "generators"),
    ("generators + initial_state", "kernel/setup.py", "initial_state"),
    ("compiled yearly loops (every rule and draw)", "kernel/__init__.py", "run"),
    ("histories_frame", "simulate.py", "histories_frame"),
    ("panel_frame", "simulate.py", "panel_frame"),
    ("pd.concat of blocks", "pandas/core/reshape/concat.py", "concat"),
)


def profile(plan: Plan, shared: dict) -> Section:
    sc, n = plan.scenario, plan.ratio_replications
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    simulate(sc, n, seed=0)
    prof.disable()
    total = time.perf_counter() - start  # wall time of the profiled call
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    cum: dict[str, float] = {}
    for (path, _, fn), (_, _, _, ct, _) in stats.items():
        path = path.replace("\\", "/")
        for label, suffix, name in PARTS:
            if fn == name and path.endswith(suffix):
                cum[label] = cum.get(label, 0.0) + ct
    accounted = sum(cum.values())
    cum["other (Python, pandas, Results)"] = max(total - accounted, 0.0)
    rows = [{"part": label, "seconds": seconds, "share (%)": 100 * seconds / total}
            for label, seconds in sorted(cum.items(), key=lambda kv: -kv[1])]
    rows.append({"part": "total (simulate, wall time under cProfile)", "seconds": total,
                 "share (%)": 100.0})
    return Section(f"Profile: where the kernel's time goes ({sc.councils} councils, "
                   f"{sc.years} years, {n:,} replications)", rows,
                   ["cProfile cumulative time per phase, in the calling thread (the "
                    "compiled loops run on `simulate`'s default threads; their line is "
                    "the wall time the caller waits for them)."])
