"""Sensitivity pipeline: Morris screening -> Sobol indices -> PRIM scenario discovery.

Why this order: Morris is cheap enough for every numeric parameter and ranks them; Sobol
then apportions the variance among the few that matter; PRIM turns a policy question ("which
lever settings keep survival high whatever austerity does?") into a readable box. Every
design point runs ``run_model`` with the same seed (common random numbers), so differences
between points are not blurred by independent simulation noise.
"""

from __future__ import annotations

import json
import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..params import STYLE_PRESETS, Scenario
from ..sweep.designs import Range, to_range
from .outcomes import run_model
from .prim import prim

SKIP_SECTIONS = ("run",)
STYLES = tuple(STYLE_PRESETS)  # ordinal: cost_led < strategic < cooperative
MORRIS_OUTCOMES = ("S10", "council_spend")
LEVERS: dict[str, Range] = {
    "protection_years": Range(0, 7, True), "incubation_years": Range(0, 3, True),
    "support_level": Range(0.0, 1.0, False), "mentoring_clauses": Range(0, 1, True),
    "lots": Range(1, 4, True), "style": Range(0, 2, True),
}
UNCERTAINTIES: dict[str, Range] = {
    "austerity_rate": Range(0.0, 0.06, False), "recession_enter": Range(0.0, 0.3, False),
    "recession_exit": Range(0.2, 0.8, False),
    "recession_trading_penalty": Range(0.0, 0.5, False),
}


@dataclass(frozen=True)
class Settings:
    """Sizes of one pipeline run (``quick`` is for tests and a setup check)."""

    base: dict[str, Any]
    replications: int
    trajectories: int
    noise_seeds: int
    sobol_factors: int
    sobol_n: int
    prim_samples: int
    threshold: float = 0.7
    seed: int = 2026

    @classmethod
    def full(cls) -> Settings:
        return cls({}, 10, 10, 10, 5, 128, 300)

    @classmethod
    def quick(cls) -> Settings:
        return cls({"councils": 20, "years": 12}, 3, 2, 3, 3, 8, 40)


def numeric_factors(base: Scenario | None = None) -> dict[str, Range]:
    """Every numeric parameter outside the run set-up, over +-50% of its default (whole
    numbers +-2), clipped to its allowed range; zero defaults get the lowest tenth."""
    base = base or Scenario()
    out: dict[str, Range] = {}
    for f in fields(Scenario):
        value = getattr(base, f.name)
        meta = f.metadata
        if meta["section"] in SKIP_SECTIONS or value is None or isinstance(value, bool | str):
            continue
        lo, hi = meta["lo"], meta["hi"]
        if isinstance(value, int):
            r = Range(max(lo, value - 2), min(hi, value + 2), True)
        elif value == 0:
            r = Range(lo, lo + 0.1 * (hi - lo), False)
        else:
            r = Range(max(lo, 0.5 * value), min(hi, 1.5 * value), False)
        if r.high > r.low:
            out[f.name] = r
    return out


def problem_of(ranges: dict[str, Range]) -> dict[str, Any]:
    """A SALib problem on the unit cube (values are mapped to ranges by ``to_range``)."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [[0.0, 1.0]] * len(ranges)}


def _scenario_values(point: dict[str, Any]) -> dict[str, Any]:
    point = dict(point)
    if "style" in point:
        point["commissioning_style"] = STYLES[int(point.pop("style"))]
    if "mentoring_clauses" in point:
        point["mentoring_clauses"] = bool(point["mentoring_clauses"])
    return point


def _run_point(job: tuple[dict[str, Any], int, int]) -> dict[str, float]:
    point, replications, seed = job
    return run_model(seed=seed, replications=replications, **_scenario_values(point))


def evaluate(points: Sequence[dict[str, Any]], replications: int, seed: int,
             workers: int | None = None) -> pd.DataFrame:
    """Outcomes of every point (in order), on local processes."""
    jobs = [(p, replications, seed) for p in points]
    if workers == 1 or len(jobs) < 4:
        return pd.DataFrame([_run_point(j) for j in jobs])
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return pd.DataFrame(list(pool.map(_run_point, jobs, chunksize=4)))


def morris_indices(problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
                   levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """mu*, its bootstrap CI and sigma per factor, sorted by mu*."""
    from SALib.analyze import morris
    res = morris.analyze(problem, np.asarray(x, float), np.asarray(y, float),
                         num_levels=levels, seed=seed)
    frame = pd.DataFrame({"mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                          "sigma": res["sigma"]}, index=pd.Index(problem["names"], name="name"))
    return frame.sort_values("mu_star", ascending=False)


def morris_screen(func: Callable[[np.ndarray], pd.DataFrame], problem: dict[str, Any],
                  trajectories: int, levels: int = 4, seed: int = 0
                  ) -> tuple[np.ndarray, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Sample Morris trajectories, evaluate ``func`` on the sample (rows of X -> a frame of
    outcomes) and analyse every outcome column."""
    from SALib.sample import morris
    x = morris.sample(problem, trajectories, num_levels=levels, seed=seed)
    y = func(x)
    # SALib's Morris turns one NaN into NaN for every factor: impute the outcome's mean
    # (a NaN S(t) means no follow-up that long) and record how many there were.
    y.attrs["nan_points"] = {c: int(y[c].isna().sum()) for c in y.columns}
    y = y.fillna(y.mean())
    return x, y, {c: morris_indices(problem, x, y[c].to_numpy(float), levels, seed)
                  for c in y.columns}


def sobol_indices(func: Callable[[np.ndarray], pd.DataFrame], problem: dict[str, Any],
                  n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """First-order and total Sobol indices with 95% CIs (Saltelli sampling, no 2nd order)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample
    x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = func(x)
    out = {}
    for c in y.columns:
        v = y[c].to_numpy(float)
        v = np.where(np.isfinite(v), v, np.nanmean(v))
        res = analyze.analyze(problem, v, calc_second_order=False, seed=seed)
        out[c] = pd.DataFrame({k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
                              index=pd.Index(problem["names"], name="name"))
    return out


def _model_func(ranges: dict[str, Range], s: Settings, workers: int | None,
                outcomes: Sequence[str]) -> Callable[[np.ndarray], pd.DataFrame]:
    def func(unit: np.ndarray) -> pd.DataFrame:
        points = [{**s.base, **p} for p in to_range(np.asarray(unit), ranges)]
        return evaluate(points, s.replications, s.seed, workers)[list(outcomes)]
    return func


def noise(s: Settings, workers: int | None) -> pd.Series:
    """S.d. of each outcome at the base point across ``noise_seeds`` independent seeds."""
    points = [dict(s.base)] * s.noise_seeds
    frame = pd.DataFrame([_run_point((p, s.replications, s.seed + 1 + k))
                          for k, p in enumerate(points)])
    return frame[list(MORRIS_OUTCOMES)].std(ddof=1)


def run_pipeline(out: Path, quick: bool = False, workers: int | None = None,
                 settings: Settings | None = None) -> dict[str, Any]:
    """Morris, Sobol and PRIM; tables (CSV, JSON) and figures (PNG) into ``out``."""
    from . import figures
    s = settings or (Settings.quick() if quick else Settings.full())
    out.mkdir(parents=True, exist_ok=True)
    ranges = numeric_factors(Scenario().replace(**s.base))
    problem = problem_of(ranges)
    mx, my, morris = morris_screen(_model_func(ranges, s, workers, MORRIS_OUTCOMES), problem,
                                   s.trajectories, 4, s.seed)
    pd.concat([pd.DataFrame(mx, columns=problem["names"]), my], axis=1).to_parquet(
        out / "morris_points.parquet")
    sd = noise(s, workers)
    delta = 4 / (2 * (4 - 1))
    for name, table in morris.items():
        table["ee_noise"] = math.sqrt(2) * sd[name] / delta
        table.to_csv(out / f"morris_{name}.csv", float_format="%.5g")
    top = list(morris["S10"].index[:s.sobol_factors])
    sub = {n: ranges[n] for n in top}
    sobol = sobol_indices(_model_func(sub, s, workers, MORRIS_OUTCOMES), problem_of(sub),
                          s.sobol_n, s.seed)
    for name, table in sobol.items():
        table.to_csv(out / f"sobol_{name}.csv", float_format="%.5g")
    prim_ranges = {**LEVERS, **UNCERTAINTIES}
    rng = np.random.default_rng(s.seed)
    from scipy.stats import qmc
    unit = qmc.LatinHypercube(d=len(prim_ranges), rng=rng).random(s.prim_samples)
    points = to_range(unit, prim_ranges)
    y = evaluate([{**s.base, **p} for p in points], s.replications, s.seed, workers)
    xs = pd.DataFrame(points)
    data = pd.concat([xs, y], axis=1)
    data.to_csv(out / "prim_data.csv", index=False, float_format="%.5g")
    good = (data["S10"] >= s.threshold).to_numpy(float)
    box, traj = prim(xs, good, alpha=0.05, min_support=0.05, min_coverage=0.5)
    traj.to_csv(out / "prim_trajectory.csv", index=False, float_format="%.4g")
    summary = {
        "settings": {k: v for k, v in s.__dict__.items()},
        "morris_noise_sd": sd.to_dict(), "morris_top_S10": top,
        "morris_nan_points": my.attrs.get("nan_points", {}),
        "prim": {"threshold": s.threshold, "base_rate": float(good.mean()),
                 "box": box.restricted(xs.to_numpy(float), list(xs.columns)),
                 "coverage": box.coverage, "density": box.density, "support": box.support},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    figures.morris_figure(morris, out / "morris.png")
    figures.sobol_figure(sobol["S10"], out / "sobol_S10.png")
    figures.prim_figure(traj, box, out / "prim_tradeoff.png")
    return {"morris": morris, "sobol": sobol, "prim": box, "trajectory": traj,
            "summary": summary}
