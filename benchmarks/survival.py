"""``mutualsim.survival.kaplan_meier`` against ``scipy.stats.ecdf`` on many histories.

The histories are resampled (with replacement, fixed seed) from the spun-out mutuals of the
kernel's 1,000-replication baseline run, so durations and censoring look like the model's.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

from mutualsim.survival import kaplan_meier

from .common import Plan, Section, Target, timed


def sample_histories(shared: dict, plan: Plan, n: int) -> tuple[np.ndarray, np.ndarray]:
    h = shared["kernel"][plan.ratio_replications].histories
    spun = h[h["spinout_year"].notna()]
    durations = spun["duration_years"].to_numpy(np.int64)
    events = (~spun["censored"]).to_numpy(np.int64)
    pick = np.random.default_rng(0).integers(0, len(durations), n)
    return durations[pick], events[pick]


def scipy_ecdf(durations: np.ndarray, events: np.ndarray, ci: bool = False):
    data = stats.CensoredData(uncensored=durations[events == 1],
                              right=durations[events == 0])
    res = stats.ecdf(data)
    if ci:
        with warnings.catch_warnings():  # scipy warns where the band is undefined (S = 1)
            warnings.simplefilter("ignore", RuntimeWarning)
            res.sf.confidence_interval(method="log-log")
    return res


def survival(plan: Plan, shared: dict) -> Section:
    rows, targets = [], []
    for n in plan.survival_sizes:
        d, e = sample_histories(shared, plan, n)
        reps = plan.repeats if n <= 1_000_000 else 1
        ours = timed(lambda d=d, e=e: kaplan_meier(d, e), plan.repeats)
        sp = timed(lambda d=d, e=e: scipy_ecdf(d, e), reps)
        sp_ci = timed(lambda d=d, e=e: scipy_ecdf(d, e, ci=True), reps)
        km = ours.result.set_index("time")["survival"]
        times = km.index.to_numpy()
        gap = float(np.max(np.abs(sp.result.sf.evaluate(times) - km.to_numpy())))
        rows.append({"histories": n, "kaplan_meier (s)": ours.seconds,
                     "scipy ecdf (s)": sp.seconds, "scipy ecdf + log-log CI (s)": sp_ci.seconds,
                     "speed-up vs ecdf": sp.seconds / ours.seconds,
                     "speed-up vs ecdf + CI": sp_ci.seconds / ours.seconds,
                     "max |S diff|": gap})
        if n == max(plan.survival_sizes):
            targets.append(Target(f"survival estimators >= 10x scipy.stats.ecdf at "
                                  f"{n:,} histories", sp.seconds / ours.seconds, 10.0, "x"))
    return Section("Survival estimators vs scipy.stats.ecdf", rows,
                   ["kaplan_meier returns the curve and its log-log band; the ecdf column "
                    "times `ecdf(CensoredData(...))` alone (the curve), the next one adds "
                    "scipy's band. 'max |S diff|' checks both give the same curve."],
                   targets)
