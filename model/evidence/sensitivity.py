"""Sensitivity pipeline: Morris screening -> Sobol indices -> PRIM scenario discovery.

Why this order: Morris is cheap enough for every numeric parameter and ranks them; Sobol
then apportions the variance among the few that matter; PRIM turns a policy question ("which
lever settings keep survival high whatever austerity does?") into a readable box. Every
design point runs the model with the same seed (common random numbers), so differences
between points are not blurred by independent simulation noise.

Every model run goes through the sweep layer (``evidence/sweeps.py``): the command takes
``--workers``, ``--scheduler`` and ``--cluster local`` like ``mutualsim sweep``, shows its
progress bar and resumes after a kill; the result folder is published whole
(``evidence/publish.py``). Missing outputs are never filled in: Morris trajectories and
Saltelli blocks with a missing outcome, and PRIM points without one, are dropped and counted
next to the result (CSV columns, ``summary.json``, the printed report).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import write_parquet_atomic
from ..params import STYLE_PRESETS, Scenario
from ..sweep.designs import Range, to_range
from ..sweep.experiment import Experiment
from .extras import require
from .outcomes import OUTCOMES
from .prim import prim
from .publish import check_target, publish, sweeps_root
from .sweeps import check_stage, point_outcomes, points_experiment, run_stage

SKIP_SECTIONS = ("run",)
STYLES = tuple(STYLE_PRESETS)  # ordinal: cost_led < strategic < cooperative
# The four outputs screened and apportioned (evidence/outcomes.py): 10-year survival,
# restricted mean survival over 15 years, council spend and step-in cost.
MORRIS_OUTCOMES = ("S10", "RMST15", "council_spend", "step_in_cost")
# Fields left out of the screening, and why (docs/SENSITIVITY.md repeats this list):
# the "run" section sets the time frame (start_year, years) and the array dimensions
# (councils, services_per_council, private_bidders, citizens_per_council): these size the
# per-year random-number block, so varying them would break common random numbers and
# change what a replication *is*; booleans and strings are categorical switches (no
# elementary effect on a scale); fields whose default is None (the commissioning-style
# weights) are set by the style preset and have no default to vary around. Seeds and
# replications are not Scenario fields.
LEVERS: dict[str, Range] = {
    "protection_years": Range(0, 7, True), "incubation_years": Range(0, 3, True),
    "support_level": Range(0.0, 1.0, False), "mentoring_clauses": Range(0, 1, True),
    "lots": Range(1, 4, True), "style": Range(0, 2, True),
}
UNCERTAINTIES: dict[str, Range] = {
    "austerity_rate": Range(0.0, 0.06, False), "recession_enter_prob": Range(0.0, 0.3, False),
    "recession_exit_prob": Range(0.2, 0.8, False),
    "recession_trading_penalty": Range(0.0, 0.5, False),
}


FULL_REPLICATIONS = 4     # replications per design point (common seed at every point)
FULL_TRAJECTORIES = 10    # Morris trajectories: 10 x (180 + 1) points
FULL_SOBOL_N = 128        # Saltelli base samples: 128 x (10 + 2) points


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
    factors: tuple[str, ...] | None = None  # Morris factors (default: every numeric one)

    @classmethod
    def full(cls) -> Settings:
        """The published run (docs/SENSITIVITY.md): 9 min 26 s wall with one worker on this
        2-core machine (30 November 2026; about 24 min with two workers on a busier machine)."""
        return cls({}, FULL_REPLICATIONS, FULL_TRAJECTORIES, 10, 10, FULL_SOBOL_N, 100)

    @classmethod
    def quick(cls) -> Settings:
        return cls({"councils": 20, "years": 20}, 3, 2, 3, 3, 8, 40)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def key(self) -> str:
        """A short hash of the settings: what identifies one run of the pipeline."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return (f"settings {self.key}: {self.replications} replications, "
                f"{self.trajectories} trajectories, base {self.base or 'default'}")


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


def scenario_values(point: dict[str, Any]) -> dict[str, Any]:
    """PRIM lever values as scenario fields (``style`` ordinal -> preset, switch -> bool)."""
    point = dict(point)
    if "style" in point:
        point["commissioning_style"] = STYLES[int(point.pop("style"))]
    if "mentoring_clauses" in point:
        point["mentoring_clauses"] = bool(point["mentoring_clauses"])
    return point


def _missing(v: np.ndarray) -> np.ndarray:
    return ~np.isfinite(np.asarray(v, float))


def _complete_blocks(y: np.ndarray, step: int, what: str, source: str
                     ) -> tuple[np.ndarray, int]:
    """Rows of the blocks of ``step`` outputs (a Morris trajectory, a Saltelli base sample)
    with no missing output, and how many blocks were dropped; never filled in.
    InputError (naming ``what``) if every block has a missing output."""
    n = len(y) // step
    keep = ~_missing(y).reshape(n, step).any(axis=1)
    if not keep.any():
        raise InputError(f"every one of the {n} {what} has a missing output; nothing to "
                         "analyse (give the model longer follow-up)", source=source)
    return np.repeat(keep, step), int(n - keep.sum())


def _complete(y: pd.Series, step: int) -> bool:
    """Whether some block of ``step`` outputs has no missing value (the output can be
    analysed at all); an output with none is reported as not analysable, not filled in."""
    v = y.to_numpy(float)
    return bool((~_missing(v).reshape(len(v) // step, step).any(axis=1)).any())


def morris_indices(problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
                   levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """mu*, its bootstrap CI and sigma per factor, sorted by mu*.

    Morris elementary effects need whole trajectories of ``num_vars + 1`` rows: a trajectory
    with a missing (NaN) outcome is dropped, never filled in. The table's columns
    ``trajectories`` and ``dropped_trajectories`` say how many were used and dropped (also in
    ``.attrs``). InputError if none is left.
    """
    from SALib.analyze import morris
    x, y = np.asarray(x, float), np.asarray(y, float)
    step = problem["num_vars"] + 1
    rows, dropped = _complete_blocks(y, step, "Morris trajectories", "Morris screening")
    used = int(rows.sum()) // step
    res = morris.analyze(problem, x[rows], y[rows], num_levels=levels, seed=seed)
    frame = pd.DataFrame({"mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                          "sigma": res["sigma"]}, index=pd.Index(problem["names"], name="name"))
    frame["trajectories"] = used
    frame["dropped_trajectories"] = dropped
    frame = frame.sort_values("mu_star", ascending=False, kind="stable")
    frame.attrs.update(trajectories=used, dropped=dropped)
    return frame


def morris_sample(problem: dict[str, Any], trajectories: int, levels: int = 4,
                  seed: int = 0) -> np.ndarray:
    """SALib Morris trajectories on ``problem`` ((num_vars + 1) * trajectories rows)."""
    from SALib.sample import morris
    return morris.sample(problem, trajectories, num_levels=levels, seed=seed)


def morris_screen(func: Callable[[np.ndarray], pd.DataFrame], problem: dict[str, Any],
                  trajectories: int, levels: int = 4, seed: int = 0
                  ) -> tuple[np.ndarray, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Sample Morris trajectories, evaluate ``func`` on the sample (rows of X -> a frame of
    outcomes) and analyse every outcome column (see :func:`morris_indices` for missing
    outcomes)."""
    x = morris_sample(problem, trajectories, levels, seed)
    y = func(x)
    return x, y, {c: morris_indices(problem, x, y[c].to_numpy(float), levels, seed)
                  for c in y.columns}


def sobol_sample(problem: dict[str, Any], n: int, seed: int = 0) -> np.ndarray:
    """Saltelli's sample for first-order and total indices: ``n * (num_vars + 2)`` rows."""
    from SALib.sample import sobol
    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def sobol_table(problem: dict[str, Any], y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% CIs from a Saltelli sample's outputs.

    The sample is made of blocks of ``num_vars + 2`` rows, one per base sample: a block with
    a missing (NaN) output is dropped whole, never filled in; columns ``base_samples`` and
    ``dropped_base_samples`` count them (also in ``.attrs``). InputError if none is left.
    """
    from SALib.analyze import sobol as analyze
    y = np.asarray(y, float)
    step = problem["num_vars"] + 2
    rows, dropped = _complete_blocks(y, step, "Saltelli base samples", "Sobol indices")
    used = int(rows.sum()) // step
    res = analyze.analyze(problem, y[rows], calc_second_order=False,
                          seed=seed)
    frame = pd.DataFrame({k: res[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
                         index=pd.Index(problem["names"], name="name"))
    frame["base_samples"] = used
    frame["dropped_base_samples"] = dropped
    frame.attrs.update(base_samples=used, dropped=dropped)
    return frame


def sobol_indices(func: Callable[[np.ndarray], pd.DataFrame], problem: dict[str, Any],
                  n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """First-order and total Sobol indices with 95% CIs (Saltelli sampling, no 2nd order)."""
    x = sobol_sample(problem, n, seed)
    y = func(x)
    return {c: sobol_table(problem, y[c].to_numpy(float), seed) for c in y.columns}


def top_factors(morris: dict[str, pd.DataFrame], k: int) -> list[str]:
    """The ``k`` factors with the largest mu* on any outcome, mu* scaled per outcome by its
    largest value (outcomes have different units); ties keep the first outcome's order.

    One Saltelli design then serves every outcome: the cost is that an outcome's own
    top-k may include a factor outside the set, whose effect its Sobol indices then do not
    see (it stays at its default). The published tables say which factors were chosen.
    """
    scaled = pd.concat([t["mu_star"] / t["mu_star"].max() for t in morris.values()], axis=1)
    score = scaled.max(axis=1).sort_values(ascending=False, kind="stable")
    return list(score.index[:k])


def sample_sizes(n: int, smallest: int = 16) -> list[int]:
    """Powers of two from ``smallest`` up to ``n`` (and ``n`` itself): the base-sample sizes
    at which convergence is shown."""
    sizes = [m for m in (2 ** i for i in range(4, 31)) if smallest <= m < n]
    return [*sizes, n]


def sobol_convergence(problem: dict[str, Any], y: np.ndarray, sizes: Sequence[int],
                      seed: int = 0) -> pd.DataFrame:
    """S1 and ST with 95% CIs from the first ``n`` base samples, for each ``n`` in ``sizes``.

    SALib's Saltelli sample of ``N`` base samples starts with the sample of any smaller
    power of two (the same scrambled Sobol' sequence, block by block), so the prefixes are
    the designs one would have drawn with the smaller ``N``: convergence costs no extra
    model run. Missing outputs are handled as in :func:`sobol_table` (block dropped,
    counted in ``dropped_base_samples``). Long format: one row per (n, factor).
    """
    step = problem["num_vars"] + 2
    y = np.asarray(y, float)
    frames = []
    for n in sizes:
        try:
            t = sobol_table(problem, y[: n * step], seed).reset_index()
        except InputError:                      # every block of this prefix is incomplete
            t = pd.DataFrame({"name": problem["names"], "S1": np.nan, "S1_conf": np.nan,
                              "ST": np.nan, "ST_conf": np.nan, "base_samples": 0,
                              "dropped_base_samples": n})
        t.insert(0, "n", n)
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


def morris_stability(problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
                     levels: int = 4, seed: int = 0, top: int = 10) -> pd.DataFrame:
    """How stable the mu* ranking is against the number of trajectories ``r``.

    Two measures per ``r`` (trajectories with a missing output dropped, as in
    :func:`morris_indices`):

    * ``prefix_*``: the first ``r`` trajectories against all of them (reaches 1 at the
      full ``r`` by construction; shows how early the final ranking is reached);
    * ``split_*`` (``r`` up to half the total): two disjoint sets of ``r`` trajectories
      against each other, i.e. how far two independent screenings of that size agree.

    ``*_spearman`` is the rank correlation of mu* over all factors; ``*_top`` the share of
    the ``top`` factors that the two rankings have in common.
    """
    from scipy.stats import spearmanr
    step = problem["num_vars"] + 1
    x, y = np.asarray(x, float), np.asarray(y, float)
    total = len(y) // step

    def mu(lo: int, hi: int) -> pd.Series:
        rows = slice(lo * step, hi * step)
        return morris_indices(problem, x[rows], y[rows], levels, seed)["mu_star"]

    def agree(a: pd.Series, b: pd.Series) -> tuple[float, float]:
        b = b.reindex(a.index)
        rho = float(spearmanr(a.to_numpy(), b.to_numpy()).statistic)
        common = len(set(a.sort_values(ascending=False).index[:top])
                     & set(b.sort_values(ascending=False).index[:top]))
        return rho, common / min(top, len(a))

    full = mu(0, total)
    rows = []
    for r in range(2, total + 1):
        row: dict[str, Any] = {"trajectories": r}
        try:
            row["prefix_spearman"], row["prefix_top"] = agree(mu(0, r), full)
        except InputError:
            row["prefix_spearman"] = row["prefix_top"] = np.nan
        if 2 * r <= total:
            try:
                row["split_spearman"], row["split_top"] = agree(mu(0, r), mu(r, 2 * r))
            except InputError:
                row["split_spearman"] = row["split_top"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["trajectories", "prefix_spearman", "prefix_top",
                                       "split_spearman", "split_top"])


# ------------------------------------------------------------------ the pipeline as sweeps
@dataclass(frozen=True)
class Plan:
    """The design of one stage: unit-cube sample, factor values and the sweep to run them."""

    unit: np.ndarray
    values: list[dict[str, Any]]
    experiment: Experiment


def _plan(name: str, s: Settings, unit: np.ndarray, ranges: dict[str, Range],
          description: str) -> Plan:
    values = to_range(np.asarray(unit), ranges)
    experiment = points_experiment(f"sensitivity_{name}", s.base,
                                   [scenario_values(v) for v in values], s.seed,
                                   s.replications, description)
    return Plan(np.asarray(unit), values, experiment)


def plan_morris(s: Settings) -> tuple[dict[str, Range], Plan]:
    ranges = numeric_factors(Scenario().replace(**s.base))
    if s.factors is not None:
        unknown = sorted(set(s.factors) - set(ranges))
        if unknown:
            raise InputError(f"{unknown[0]!r} is not a numeric parameter that can be screened; "
                             f"allowed: {', '.join(ranges)}", source="sensitivity factors")
        ranges = {n: ranges[n] for n in s.factors}
    unit = morris_sample(problem_of(ranges), s.trajectories, 4, s.seed)
    return ranges, _plan("morris", s, unit, ranges, "Morris screening of every numeric "
                         "parameter")


def plan_noise(s: Settings) -> Experiment:
    """The base point, ``noise_seeds`` blocks of independent replications."""
    return points_experiment("sensitivity_noise", s.base, [{}],
                             s.seed + 1, s.noise_seeds * s.replications,
                             "simulation noise at the base point", block_size=s.replications)


def plan_sobol(s: Settings, ranges: dict[str, Range], top: Sequence[str]) -> Plan:
    sub = {n: ranges[n] for n in top}
    return _plan("sobol", s, sobol_sample(problem_of(sub), s.sobol_n, s.seed), sub,
                 f"Sobol indices of {', '.join(top)}")


def plan_prim(s: Settings) -> Plan:
    from scipy.stats import qmc
    ranges = {**LEVERS, **UNCERTAINTIES}
    unit = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(s.seed)).random(
        s.prim_samples)
    return _plan("prim", s, unit, ranges, "PRIM: levers under uncertain austerity")


def _outcomes(plan_or_exp: Plan | Experiment, root: Path, blocks: int = 1) -> pd.DataFrame:
    """The outcome columns (``OUTCOMES``) of every design point, in design order.

    Taken by position, the last columns of ``point_outcomes``: a factor may carry an
    outcome's name (the parameter ``step_in_cost``, GBP m per step-in, and the outcome
    ``step_in_cost``, GBP m/year), and selecting by name would return both."""
    exp = plan_or_exp.experiment if isinstance(plan_or_exp, Plan) else plan_or_exp
    frame = point_outcomes(root, exp, blocks).reset_index(drop=True)
    out = frame.iloc[:, -len(OUTCOMES):]
    assert list(out.columns) == list(OUTCOMES)
    return out


def _check_size(s: Settings, stages: Sequence[Experiment], workers: int | None,
                out: Path) -> None:
    """Refuse (InputError, before any work) a run that does not fit this machine; the Sobol
    stage, planned after Morris, is counted as its size at the base scenario."""
    from ..guard import Estimate, check_estimate, estimate_sweep
    n = workers or 1
    sobol = [Scenario().replace(**s.base)] * (s.sobol_n * (s.sobol_factors + 2))
    parts = [estimate_sweep([p.scenario for p in exp.scenarios], exp.replications,
                            exp.block_size, n) for exp in stages]
    parts.append(estimate_sweep(sobol, s.replications, s.replications, n))
    total = Estimate(max(e.memory for e in parts), sum(e.disk for e in parts),
                     sum(e.seconds for e in parts))
    points = sum(len(exp.scenarios) for exp in stages) + len(sobol)
    check_estimate(total, f"sensitivity ({points:,} model points)", out=out,
                   source="sensitivity")


class Incomplete(Exception):
    """A stage's sweep did not finish (failed or unrun tasks); re-running resumes it."""

    def __init__(self, stage: str, failed: int, not_run: int, root: Path) -> None:
        self.stage, self.root = stage, root
        super().__init__(f"{stage}: {failed} tasks failed and {not_run} were not run "
                         f"(details in {root}/tasks/); run the same command again to retry")


def run_pipeline(out: Path, quick: bool = False, workers: int | None = None,
                 settings: Settings | None = None, *, scheduler: str | None = None,
                 cluster: str | None = None, progress: bool = False,
                 force: bool = False, size_check: bool = True) -> dict[str, Any]:
    """Morris, Sobol and PRIM; tables (CSV, JSON) and figures (PNG) published to ``out``.

    Model runs are resumable sweeps in ``<out>.sweeps/<settings key>/{morris,noise,prim,
    sobol}``; the result folder appears whole at the end (with ``manifest.json``) or not at
    all. Raises InputError before any work for an ``out`` that may not be replaced (see
    ``publish.check_target``) or a missing SALib / Dask; :class:`Incomplete` if a stage's
    tasks failed.
    """
    from ..sweep.executors import open_pool
    from . import figures, sensitivity_tables
    require("SALib", "sensitivity")
    if scheduler is not None or cluster is not None:
        require("distributed", "--scheduler" if scheduler is not None else "--cluster local")
    s = settings or (Settings.quick() if quick else Settings.full())
    out = Path(out)
    check_target(out, "sensitivity", s.key, force)
    root = sweeps_root(out, s.key)
    ranges, morris_plan = plan_morris(s)
    noise_exp, prim_plan = plan_noise(s), plan_prim(s)
    for name, exp in (("morris", morris_plan.experiment), ("noise", noise_exp),
                      ("prim", prim_plan.experiment)):
        check_stage(exp, root / name)
    if size_check:
        _check_size(s, (morris_plan.experiment, noise_exp, prim_plan.experiment), workers, out)

    with open_pool(workers, scheduler, cluster,
                   tasks=sum(len(e.scenarios) for e in (morris_plan.experiment, noise_exp,
                                                         prim_plan.experiment))) as pool:
        if progress:
            sys.stderr.write(f"sensitivity ({s.label}) on {pool.description}; model runs "
                             f"resumable in {root}/\n")

        def stage(name: str, exp: Experiment) -> None:
            report = run_stage(exp, root / name, pool.executor, pool.capacity, progress,
                               pool.description)
            if not report.ok:
                raise Incomplete(name, len(report.failed), report.not_run, root / name)

        stage("morris", morris_plan.experiment)
        stage("noise", noise_exp)
        stage("prim", prim_plan.experiment)
        problem = problem_of(ranges)
        my = _outcomes(morris_plan, root / "morris")[list(MORRIS_OUTCOMES)]
        step = problem["num_vars"] + 1
        usable = [c for c in MORRIS_OUTCOMES if _complete(my[c], step)]
        if not usable:
            raise InputError("every Morris trajectory has a missing value of every outcome "
                             f"({', '.join(MORRIS_OUTCOMES)}); nothing to analyse (give the "
                             "model longer follow-up)", source="Morris screening")
        morris = {c: morris_indices(problem, morris_plan.unit, my[c].to_numpy(float), 4,
                                    s.seed) for c in usable}
        top = top_factors(morris, s.sobol_factors)
        sobol_plan = plan_sobol(s, ranges, top)
        check_stage(sobol_plan.experiment, root / "sobol")
        stage("sobol", sobol_plan.experiment)

    noise_frame = _outcomes(noise_exp, root / "noise", s.noise_seeds)
    sd = noise_frame[list(MORRIS_OUTCOMES)].std(ddof=1)
    noise_counts = {c: int(noise_frame[c].notna().sum()) for c in MORRIS_OUTCOMES}
    delta = 4 / (2 * (4 - 1))
    for name, table in morris.items():
        table["ee_noise"] = math.sqrt(2) * sd[name] / delta
    sy = _outcomes(sobol_plan, root / "sobol")
    sobol_problem = problem_of({n: ranges[n] for n in top})
    sobol_usable = [c for c in MORRIS_OUTCOMES if _complete(sy[c], len(top) + 2)]
    sobol = {c: sobol_table(sobol_problem, sy[c].to_numpy(float), s.seed)
             for c in sobol_usable}
    sizes = sample_sizes(s.sobol_n)
    convergence = {c: sobol_convergence(sobol_problem, sy[c].to_numpy(float), sizes, s.seed)
                   for c in sobol_usable}
    stability = pd.concat(
        [morris_stability(problem, morris_plan.unit, my[c].to_numpy(float), 4, s.seed)
         .assign(outcome=c) for c in morris], ignore_index=True)

    xs = pd.DataFrame(prim_plan.values)
    y = _outcomes(prim_plan, root / "prim")
    data = pd.concat([xs, y[list(OUTCOMES)]], axis=1)
    ok = data["S10"].notna().to_numpy()
    dropped_prim = int((~ok).sum())
    if not ok.any():
        raise InputError(f"all {len(ok)} PRIM points have a missing S10; nothing to analyse",
                         source="PRIM")
    good = (data.loc[ok, "S10"] >= s.threshold).to_numpy(float)
    box, traj = prim(xs[ok].reset_index(drop=True), good, alpha=0.05, min_support=0.05,
                     min_coverage=0.5)
    missing = {
        "morris_dropped_trajectories": {c: morris[c].attrs["dropped"] if c in morris
                                        else s.trajectories for c in MORRIS_OUTCOMES},
        "not_analysable": {"morris": [c for c in MORRIS_OUTCOMES if c not in morris],
                           "sobol": [c for c in MORRIS_OUTCOMES if c not in sobol]},
        "morris_trajectories": s.trajectories,
        "morris_missing_points": {c: int(my[c].isna().sum()) for c in MORRIS_OUTCOMES},
        "morris_points": len(my),
        "sobol_missing_points": {c: int(sy[c].isna().sum()) for c in MORRIS_OUTCOMES},
        "sobol_points": len(sy),
        "sobol_dropped_base_samples": {c: sobol[c].attrs["dropped"] if c in sobol
                                       else s.sobol_n for c in MORRIS_OUTCOMES},
        "sobol_base_samples": s.sobol_n,
        "noise_repeats_used": noise_counts,
        "prim_dropped_points": dropped_prim, "prim_points": len(ok),
    }
    summary = {
        "settings": s.to_dict(), "morris_noise_sd": sd.to_dict(),
        "morris_top": {c: list(t.index[:s.sobol_factors]) for c, t in morris.items()},
        "sobol_factors": top,
        "missing_outputs": missing,
        "prim": {"threshold": s.threshold, "points_used": int(ok.sum()),
                 "dropped_points": dropped_prim, "base_rate": float(good.mean()),
                 "box": box.restricted(xs[ok].to_numpy(float), list(xs.columns)),
                 "coverage": box.coverage, "density": box.density, "support": box.support},
    }
    run = {"label": s.label, "settings": s.to_dict(), "sweeps": str(root),
           "missing_outputs": missing}
    with publish(out, "sensitivity", s.key, run, force) as work:
        # x_<factor>: the point on the unit cube (to_range maps it to the factor's range);
        # then the outcomes (a factor may share an outcome's name, hence the prefix).
        write_parquet_atomic(work / "morris_points.parquet", pd.concat(
            [pd.DataFrame(morris_plan.unit, columns=[f"x_{n}" for n in problem["names"]]),
             my], axis=1))
        for name, table in morris.items():
            table.to_csv(work / f"morris_{name}.csv", float_format="%.5g")
        for name, table in sobol.items():
            table.to_csv(work / f"sobol_{name}.csv", float_format="%.5g")
            convergence[name].to_csv(work / f"sobol_convergence_{name}.csv", index=False,
                                     float_format="%.5g")
            figures.sobol_figure(table, work / f"sobol_{name}.png", name)
            figures.sobol_convergence_figure(convergence[name], work /
                                             f"sobol_convergence_{name}.png", name)
        stability.to_csv(work / "morris_stability.csv", index=False, float_format="%.4g")
        (work / "tables.md").write_text(sensitivity_tables.markdown(
            morris, sobol, stability, missing, MORRIS_OUTCOMES))
        figures.morris_stability_figure(stability, work / "morris_stability.png")
        data.to_csv(work / "prim_data.csv", index=False, float_format="%.5g")
        traj.to_csv(work / "prim_trajectory.csv", index=False, float_format="%.4g")
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
        figures.morris_figure(morris, work / "morris.png")
        figures.prim_figure(traj, box, work / "prim_tradeoff.png")
    return {"morris": morris, "sobol": sobol, "convergence": convergence,
            "stability": stability, "prim": box, "trajectory": traj,
            "summary": summary, "sweeps": root}


def missing_lines(summary: dict[str, Any]) -> list[str]:
    """How many points each step dropped for a missing outcome, for the printed report."""
    m = summary["missing_outputs"]
    return [
        "missing outputs (never filled in): Morris points "
        + ", ".join(f"{c} {n} of {m['morris_points']}"
                    for c, n in m["morris_missing_points"].items())
        + "; Sobol points "
        + ", ".join(f"{c} {n} of {m['sobol_points']}"
                    for c, n in m["sobol_missing_points"].items()),
        "dropped for them: Morris trajectories "
        + ", ".join(f"{c} {n} of {m['morris_trajectories']}"
                    for c, n in m["morris_dropped_trajectories"].items())
        + "; Sobol base samples "
        + ", ".join(f"{c} {n} of {m['sobol_base_samples']}"
                    for c, n in m["sobol_dropped_base_samples"].items())
        + f"; PRIM points {m['prim_dropped_points']} of {m['prim_points']}"]
