"""Where the kernel's time goes: ``cProfile`` of ``simulate`` grouped by kernel function.

Only a few thousand Python calls happen per run (the work is inside numpy), so cProfile's
overhead is small and its cumulative times split the run by rule.
"""

from __future__ import annotations

import cProfile
import pstats
import time

from mutualsim import simulate

from .common import Plan, Section

# (label, module path suffix, function name); cumulative time of each.
PARTS = (
    ("draw_year (random numbers)", "rng.py", "draw_year"),
    ("generators + initial_state", "rng.py", "generators"),
    ("generators + initial_state", "kernel/setup.py", "initial_state"),
    ("economy", "kernel/economy.py", "update_economy"),
    ("citizens", "kernel/citizens.py", "update_citizens"),
    ("citizens", "kernel/citizens.py", "council_means"),
    ("pipeline: propose", "kernel/pipeline.py", "propose"),
    ("pipeline: prepare (+ spin_out)", "kernel/pipeline.py", "prepare"),
    ("pipeline: decide_incubation", "kernel/pipeline.py", "decide_incubation"),
    ("step: spin-out count, masks", "kernel/__init__.py", "step"),
    ("tendering", "kernel/tendering.py", "run_tenders"),
    ("finance: grow_income", "kernel/finance.py", "grow_income"),
    ("finance: settle_accounts", "kernel/finance.py", "settle_accounts"),
    ("capability: learn", "kernel/capability.py", "learn"),
    ("capability: drift_quality", "kernel/capability.py", "drift_quality"),
    ("exits", "kernel/exits.py", "apply_exits"),
    ("record (panel row)", "kernel/record.py", "record"),
    ("histories_frame", "simulate.py", "histories_frame"),
    ("panel_frame", "simulate.py", "panel_frame"),
    ("pd.concat of blocks", "pandas/core/reshape/concat.py", "concat"),
)
INNER = {"step"}  # its own line counts only what the listed rules do not


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
    step_total = 0.0
    for (path, _, fn), (_, _, _, ct, _) in stats.items():
        path = path.replace("\\", "/")
        for label, suffix, name in PARTS:
            if fn == name and path.endswith(suffix):
                if name in INNER:
                    step_total += ct
                else:
                    cum[label] = cum.get(label, 0.0) + ct
    outside_step = ("draw_year", "generators", "histories", "panel", "pd.")
    rules = sum(v for k, v in cum.items() if not k.startswith(outside_step))
    cum["step: spin-out count, masks"] = max(step_total - rules, 0.0)
    accounted = sum(cum.values())
    cum["other (Python, pandas, Results)"] = max(total - accounted, 0.0)
    rows = [{"part": label, "seconds": seconds, "share (%)": 100 * seconds / total}
            for label, seconds in sorted(cum.items(), key=lambda kv: -kv[1])]
    rows.append({"part": "total (simulate, wall time under cProfile)", "seconds": total,
                 "share (%)": 100.0})
    return Section(f"Profile: where the kernel's time goes ({sc.councils} councils, "
                   f"{sc.years} years, {n:,} replications)", rows,
                   ["cProfile cumulative time per function (the rules are called once per "
                    "year each; numpy does the work inside them). 'step: ...' is what "
                    "`kernel.step` does itself besides calling the rules."])
