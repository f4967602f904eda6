"""Calibration by ABC-SMC (population Monte Carlo ABC) on the sweep layer.

Why ABC-SMC: the model has no likelihood, only a handful of published aggregate figures.
The first calibration kept the closest 5% of a 400-point Latin hypercube (rejection ABC):
simple, but 95% of the runs were spent where the targets rule the parameters out, and the
tolerance stayed at the 20th-closest point. ABC-SMC (Beaumont et al. 2009; Toni et al.
2009; ``mutualsim.evidence.abcsmc``) starts from the same prior sample, then proposes new
points around the accepted ones under a shrinking tolerance, with importance weights that
keep the result a posterior of the prior. docs/CALIBRATION.md argues the choice of our own
compact implementation over pyabc (which the tests use as a cross-check).

Every model run goes through the sweep layer: each generation's batch of proposals is a
sweep stage in ``<out>.sweeps/<run>/gNNbMM/`` (parallel on ``--workers``, resumable); the
proposals are a deterministic function of the seed and the finished stages, so a killed
calibration resumes where it stopped. A proposal with a missing (NaN) target outcome has no
distance: it is never accepted, never filled in, and counted (``calibration.json``).

After the last generation a posterior-predictive stage draws ``predictive`` particles by
weight and simulates them on fresh random numbers (seed + 1): each target's distribution
in one simulated world (one replication) is set against its published value.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import write_parquet_atomic
from ..params import read_toml
from ..shipped import resolve
from ..sweep import Experiment, parse_experiment
from ..sweep.experiment import Design, DesignPoint, scenario_id
from .abcsmc import (
    Prior,
    SmcResult,
    SmcSettings,
    identification,
    parse_settings,
    run_smc,
    weighted_quantile,
)
from .publish import check_target, publish, sweeps_root
from .sweeps import check_stage, point_outcomes, run_stage

DEFAULT_EXPERIMENT = "calibration"  # the shipped experiments/calibration.toml


SIDES = ("both", "at_least", "at_most")


@dataclass(frozen=True)
class Target:
    """A published figure the model should reproduce, and how far off still counts as close.

    ``side`` "both": any departure counts; "at_least" / "at_most": a bound, only a value
    below / above ``value`` counts (e.g. survival must exceed all businesses'). Every
    target obeys the evidence rule (docs/CALIBRATION.md): published up to the end of 2013,
    or general economics.
    """

    outcome: str
    value: float
    scale: float
    source: str
    side: str = "both"

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {self.side!r}")
        if not self.scale > 0:
            raise ValueError(f"scale must be > 0, got {self.scale!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "value": self.value, "scale": self.scale,
                "side": self.side, "source": self.source}


#: Local-authority spin-outs as a share of all public service mutuals in early 2013
#: (seed 004: ~19 of 66), used to scale the all-sector 2010 count (assumption: constant).
LA_SHARE_2013 = 19 / 66

#: The targets of the shipped calibration (also in experiments/calibration.toml
#: ``[targets]``, which a calibration file may replace). Counts per replication of the
#: default 150-council system; the model's year 2012 ends in January 2013.
SEED_004 = ("seed 004: Government response to the CLG Select Committee's report 'Mutual "
            "and co-operative approaches to delivering local services', Feb 2013, ISBN "
            "9780101854726")
TARGETS: tuple[Target, ...] = (
    Target("trading_2012", 19.0, 3.0,
           f"{SEED_004}, 'Specific recommendations' (seed text line 81): 'There are now "
           "around 19 live mutuals that have spun out from local authorities'"),
    Target("councils_exploring_2012", 75.0, 10.0,
           f"{SEED_004}, line 79: 'since May 2012, the Cabinet Office has engaged over 70 "
           "local authorities who are actively exploring mutuals' ('over 70' read as ~75)"),
    Target("trading_2010", round(9 * LA_SHARE_2013, 1), 2.0,
           f"{SEED_004}, Introduction (line 51): 'from nine in 2010 to 66 in January 2013' "
           "(all sectors); local authorities' share in early 2013 (19 of 66) applied to "
           "2010: 9 x 19/66 = 2.6 (assumption: constant share)"),
    Target("S5", 0.561, 0.05,
           "ONS, Business Demography 2012 (statistical bulletin, Dec 2013): 5-year survival "
           "of enterprises born in 2007, health 56.1% (all industries 44.6%); a spin-out "
           "with a protected contract should survive at least as well (lower bound)",
           side="at_least"),
)


def distance(outcomes: pd.DataFrame, targets: Sequence[Target] = TARGETS) -> pd.Series:
    """Sum over targets of ((model - target) / scale)^2 (a bound counts only on its wrong
    side); NaN where any target outcome is missing (such a point has no distance: it is
    never accepted, and counted)."""
    total = pd.Series(0.0, index=outcomes.index)
    for t in targets:
        gap = outcomes[t.outcome].astype(float) - t.value
        if t.side == "at_least":
            gap = gap.where(gap.isna() | (gap < 0), 0.0)
        elif t.side == "at_most":
            gap = gap.where(gap.isna() | (gap > 0), 0.0)
        total = total + (gap / t.scale) ** 2
    return total


def parse_targets(data: Any, source: str) -> tuple[Target, ...]:
    """``[targets.<outcome>]`` tables (value, scale, source, optional side) -> Targets.

    One clear InputError naming the key for anything else; an outcome must be one of
    ``outcomes.OUTCOMES``.
    """
    from .outcomes import OUTCOMES
    if not isinstance(data, dict) or not data:
        raise InputError("key 'targets' must be a table of [targets.<outcome>] tables",
                         source=source)
    out = []
    for name, spec in data.items():
        key = f"targets.{name}"
        if name not in OUTCOMES:
            raise InputError(f"{key}: unknown outcome; allowed: {', '.join(OUTCOMES)}",
                             source=source)
        if not isinstance(spec, dict):
            raise InputError(f"{key} must be a table with value, scale and source",
                             source=source)
        extra = sorted(set(spec) - {"value", "scale", "source", "side"})
        if extra:
            raise InputError(f"{key}: unknown key {extra[0]!r}; allowed: value, scale, "
                             "source, side", source=source)
        for k in ("value", "scale"):
            v = spec.get(k)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(f"{key}.{k} must be a number, got {v!r}", source=source)
        if not spec["scale"] > 0:
            raise InputError(f"{key}.scale must be > 0, got {spec['scale']!r}",
                             source=source)
        text = spec.get("source")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{key}.source must name the published figure (text)",
                             source=source)
        side = spec.get("side", "both")
        if side not in SIDES:
            raise InputError(f"{key}.side must be one of {', '.join(SIDES)}, got {side!r}",
                             source=source)
        out.append(Target(name, float(spec["value"]), float(spec["scale"]), text, side))
    return tuple(out)


def targets_key(targets: Sequence[Target]) -> str:
    """A short hash of the targets (part of what identifies a calibration run)."""
    import hashlib
    text = json.dumps([[t.outcome, t.value, t.scale, t.side] for t in targets])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def sweep_outcomes(root: Path, experiment: Experiment) -> pd.DataFrame:
    """One row per design point: factor values and outcomes (finished tasks only)."""
    return point_outcomes(root, experiment)


def summarise(posterior: pd.DataFrame, factors: Sequence[str],
              outcomes: Sequence[str] = ()) -> pd.DataFrame:
    """Weighted mean, median and 5-95% of each parameter (and outcome) over the particles
    (column ``weight``; equal weights if absent)."""
    w = (posterior["weight"].to_numpy(float) if "weight" in posterior
         else np.ones(len(posterior)))
    rows = {}
    for col in [*factors, *outcomes]:
        x = posterior[col].to_numpy(float)
        ok = ~np.isnan(x)
        ww = w[ok] / w[ok].sum() if ok.any() else w[ok]
        q05, q50, q95 = (weighted_quantile(x[ok], ww, np.array([0.05, 0.5, 0.95]))
                         if ok.any() else (np.nan,) * 3)
        rows[col] = {"mean": float(ww @ x[ok]) if ok.any() else np.nan, "median": q50,
                     "q05": q05, "q95": q95}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("name")


def round_sensibly(value: float, whole: bool = False) -> float | int:
    """Two significant figures: enough for a parameter known this loosely."""
    if whole:
        return int(round(value))
    if value == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return round(float(value), digits)


def experiment_path(path: str | Path | None) -> Path:
    """The experiment file: as given, or the shipped one it names (default: calibration)."""
    return resolve(DEFAULT_EXPERIMENT if path is None else path, "experiments")


def load_calibration_experiment(path: str | Path | None, replications: int | None = None,
                                samples: int | None = None, *,
                                size_check: bool = True) -> Experiment:
    """The calibration experiment file; ``samples`` overrides the LHS size.

    ``path`` None (or a bare name such as ``calibration``) reads the shipped file.
    """
    path = experiment_path(path)
    data = read_toml(path, "experiment")
    data.pop("targets", None)  # read by load_targets
    data.pop("abc", None)  # read by load_settings
    if "uncertainty" in data:
        raise InputError("[uncertainty] applies to mutualsim sweep only (a calibration "
                         "estimates the posterior; it does not draw from one)",
                         source=str(path))
    design = data.get("design", {})
    if not isinstance(design, dict) or design.get("kind") != "lhs":
        raise InputError("calibration needs [design] kind = \"lhs\" (the prior)",
                         source=str(path))
    if samples is not None:
        data["design"] = {**design, "samples": samples}
    experiment = parse_experiment(data, str(path), path.parent, replications,
                                  size_check=size_check)
    whole = [n for n, r in experiment.design.factors.items() if getattr(r, "whole", False)]
    if whole:
        raise InputError(f"factors.{whole[0]}: a whole-number parameter cannot be "
                         "calibrated by ABC-SMC (its kernel is continuous); set it in "
                         "[base_overrides]", source=str(path))
    return experiment


def load_settings(path: str | Path | None, experiment: Experiment,
                  particles: int | None = None, generations: int | None = None,
                  max_simulations: int | None = None) -> SmcSettings:
    """The file's ``[abc]`` table with the command line's overrides; the prior sample
    (generation 0) is the experiment's Latin hypercube and the seed is its seed."""
    path = experiment_path(path)
    data = read_toml(path, "experiment")
    return parse_settings(data.get("abc"), f"{path} [abc]" if "abc" in data else str(path),
                          particles=particles, generations=generations,
                          max_simulations=max_simulations, initial=len(experiment.points),
                          seed=experiment.seed)


def load_targets(path: str | Path | None) -> tuple[Target, ...]:
    """The calibration file's ``[targets]`` (see :func:`parse_targets`), or ``TARGETS``."""
    path = experiment_path(path)
    data = read_toml(path, "experiment")
    if "targets" not in data:
        return TARGETS
    return parse_targets(data["targets"], str(path))


@dataclass
class Calibration:
    """What a calibration run produced (``complete`` False: nothing was published)."""

    outcomes: pd.DataFrame          # every simulated proposal, with outcomes and weights
    posterior: pd.DataFrame         # the final particles, with outcomes and ``weight``
    summary: pd.DataFrame
    calibrated: dict[str, Any]
    complete: bool
    dropped: int = 0
    report: Any = None
    sweep: Path | None = None
    smc: SmcResult | None = None
    checks: pd.DataFrame | None = None
    identified: pd.DataFrame | None = None


class StageIncomplete(Exception):
    """A sweep stage ended with failed or unrun tasks (its report is attached)."""

    def __init__(self, report: Any, root: Path) -> None:
        super().__init__(str(root))
        self.report, self.root = report, root


def run_key(experiment: Experiment, settings: SmcSettings,
            targets: Sequence[Target] = TARGETS) -> str:
    """What identifies a calibration run: the experiment (its hash), the ABC-SMC settings
    and the targets (the default targets add nothing to the key)."""
    import hashlib
    text = json.dumps(settings.to_dict(), sort_keys=True)
    key = f"{experiment.hash}-smc{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return key if tuple(targets) == TARGETS else f"{key}-targets{targets_key(targets)}"


def check_calibration(experiment: Experiment, out: Path, settings: SmcSettings,
                      force: bool = False, inputs: tuple[Path, ...] = (),
                      targets: Sequence[Target] = TARGETS) -> Path:
    """Every check before work (InputError, nothing written); the run's sweeps folder
    (stages ``gNNbMM`` and ``predictive`` below it)."""
    key = run_key(experiment, settings, targets)
    check_target(out, "calibrate", key, force, inputs)
    root = sweeps_root(out, key)
    check_stage(experiment, root / stage_name(0, 0))
    return root


def stage_name(generation: int, batch: int) -> str:
    return f"g{generation:02d}b{batch:02d}"


def prior_of(experiment: Experiment) -> Prior:
    """The uniform prior box of the experiment's Latin-hypercube factors."""
    return Prior.from_ranges({n: (r.low, r.high)
                              for n, r in experiment.design.factors.items()})


def points_like(experiment: Experiment, name: str, names: Sequence[str],
                theta: np.ndarray, seed: int | None = None) -> Experiment:
    """The experiment over explicit points (rows of ``theta``), same base and sizes."""
    values = [{n: float(v) for n, v in zip(names, row, strict=True)} for row in theta]
    design = Design("points", {n: tuple(float(x) for x in theta[:, j])
                               for j, n in enumerate(names)})
    points = []
    for i, v in enumerate(values):
        scenario = experiment.base.replace(**v)
        points.append(DesignPoint(i, v, scenario, scenario_id(scenario)))
    return dataclasses.replace(experiment, name=name, design=design, points=tuple(points),
                               seed=experiment.seed if seed is None else seed)


def _stage(experiment: Experiment, root: Path, executor: Any, capacity: Any, progress: bool,
           description: str, blocks: int = 1) -> pd.DataFrame:
    check_stage(experiment, root)
    report = run_stage(experiment, root, executor, capacity, progress, description)
    if not report.ok:
        raise StageIncomplete(report, root)
    frame = point_outcomes(root, experiment, blocks=blocks)
    return frame.set_index("design_index", drop=False).sort_index()


def predictive_checks(ppd: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Each target's posterior-predictive 5/50/95% in one simulated world against its
    published value (worlds weighted by column ``weight``, equal if absent); ``p_below`` is
    the weighted share of worlds below it. A two-sided target is reproduced when it lies
    inside the 5-95% band; for a bound, the share of worlds that meet it is given."""
    w_all = (ppd["weight"].to_numpy(float) if "weight" in ppd else np.ones(len(ppd)))
    rows = []
    for t in targets:
        x = ppd[t.outcome].to_numpy(float)
        ok = ~np.isnan(x)
        x, w = x[ok], w_all[ok] / w_all[ok].sum() if ok.any() else w_all[ok]
        q05, q50, q95 = (weighted_quantile(x, w, np.array([0.05, 0.5, 0.95])) if len(x)
                         else (np.nan,) * 3)
        below = float(w @ (x < t.value)) if len(x) else np.nan
        if t.side == "both":
            verdict = "inside 5-95%" if q05 <= t.value <= q95 else "outside 5-95%"
        else:
            meets = 1 - below if t.side == "at_least" else float(w @ (x <= t.value))
            verdict = f"bound met in {meets:.0%} of worlds"
        rows.append({"target": t.outcome, "published": t.value, "side": t.side,
                     "q05": q05, "median": q50, "q95": q95, "p_below": below,
                     "worlds": int(ok.sum()), "missing": int((~ok).sum()),
                     "verdict": verdict})
    return pd.DataFrame(rows).set_index("target")


def _say(progress: bool, text: str) -> None:
    if progress:
        import sys
        sys.stderr.write(text + "\n")


def calibrate(experiment: Experiment, out: Path, executor: Any, capacity: Any = 4,
              settings: SmcSettings | None = None, progress: bool = False,
              force: bool = False, description: str = "",
              targets: Sequence[Target] = TARGETS) -> Calibration:
    """Run (or resume) ABC-SMC and publish the posterior to ``out`` (whole).

    The model runs are sweep stages in ``<out>.sweeps/<run key>/`` (resumable, readable
    with ``open_sweep``); ``out`` gets, all at once and only when every stage finished:
    prior_outcomes.parquet (generation 0), simulations.parquet (every proposal), generations
    .csv, posterior.parquet and posterior.csv (the weighted particles), posterior_summary
    .csv, identification.csv, predictive.parquet, predictive_checks.csv and .png,
    calibrated.csv, report.md, calibration.json and manifest.json.
    """
    out = Path(out)
    settings = settings or SmcSettings(initial=len(experiment.points), seed=experiment.seed)
    root = check_calibration(experiment, out, settings, force, targets=targets)
    prior = prior_of(experiment)
    names = prior.names
    frames: dict[tuple[int, int], pd.DataFrame] = {}

    def simulate(t: int, b: int, theta: np.ndarray) -> np.ndarray:
        exp = experiment if t == 0 else points_like(
            experiment, f"{experiment.name}-{stage_name(t, b)}", names, theta)
        _say(progress, f"generation {t}, batch {b}: {len(theta)} points")
        frame = _stage(exp, root / stage_name(t, b), executor, capacity, progress,
                       description)
        frame["distance"] = distance(frame, targets)
        frame.insert(0, "generation", t)
        frame.insert(1, "batch", b)
        frames[(t, b)] = frame
        # Ten significant figures: a resumed stage that sums the same runs in another order
        # must give the same acceptances and weights, hence the same next proposals.
        return np.array([float(f"{d:.10g}") for d in frame["distance"]])

    initial = np.array([[p.values[n] for n in names] for p in experiment.points])
    try:
        smc = run_smc(simulate, prior, settings, initial=initial)
        g = smc.final
        pexp = points_like(dataclasses.replace(experiment, replications=settings.predictive),
                           f"{experiment.name}-predictive", names, g.theta,
                           seed=experiment.seed + 1)
        _say(progress, f"posterior predictive: {len(g.theta)} particles x "
                       f"{settings.predictive} fresh replications")
        ppd = _stage(pexp, root / f"predictive-g{g.index:02d}", executor, capacity,
                     progress, description, blocks=settings.predictive)
        # One row per simulated world; its weight: the particle's over its replications.
        ppd["weight"] = g.weights[ppd["design_index"].to_numpy()] / settings.predictive
    except StageIncomplete as err:
        empty = pd.DataFrame()
        return Calibration(empty, empty, empty, {}, False, report=err.report, sweep=err.root)
    outcomes = pd.concat(frames.values(), ignore_index=True)
    outcomes = outcomes.drop(columns=[*names], errors="ignore").rename(
        columns={"design_index": "row"})
    sims = smc.proposals.merge(outcomes.drop(columns="distance"),
                               on=["generation", "batch", "row"], how="left",
                               validate="one_to_one")
    posterior = sims[(sims["generation"] == g.index) & (sims["weight"] > 0)].reset_index(
        drop=True)
    dropped = int(sims["distance"].isna().sum())
    summary = summarise(posterior, names, [t.outcome for t in targets])
    ident = identification(smc)
    checks = predictive_checks(ppd, targets)
    calibrated = {n: round_sensibly(summary.loc[n, "median"]) for n in names}
    table = smc.table()
    info = {"label": f"experiment {experiment.name} (hash {experiment.hash}), ABC-SMC "
                     f"{settings.particles} particles",
            "method": "ABC-SMC (Beaumont et al. 2009), adaptive epsilon",
            "experiment_file": experiment.source, "experiment_hash": experiment.hash,
            "settings": settings.to_dict(), "prior_points": len(experiment.points),
            "simulations": len(sims), "replications_per_point": experiment.replications,
            "dropped_missing": dropped, "generations": len(smc.generations),
            "stopped": smc.stopped, "final_epsilon": g.epsilon,
            "accepted": len(posterior), "ess": g.ess, "sweep": str(root),
            "predictive_particles": len(g.theta),
            "predictive_replications": settings.predictive,
            "predictive_seed": experiment.seed + 1,
            "not_identified": [n for n in names if ident.loc[n, "verdict"].startswith("not")],
            "targets": [t.to_dict() for t in targets]}
    from .figures import predictive_figure
    with publish(out, "calibrate", run_key(experiment, settings, targets), info,
                 force) as work:
        write_parquet_atomic(work / "prior_outcomes.parquet",
                             sims[sims["generation"] == 0].reset_index(drop=True))
        write_parquet_atomic(work / "simulations.parquet", sims)
        write_parquet_atomic(work / "posterior.parquet", posterior)
        posterior[[*names, "weight"]].to_csv(work / "posterior.csv", index=False,
                                             float_format="%.6g")
        write_parquet_atomic(work / "predictive.parquet", ppd.reset_index(drop=True))
        table.to_csv(work / "generations.csv", index=False, float_format="%.4g")
        summary.to_csv(work / "posterior_summary.csv", float_format="%.4g")
        ident.to_csv(work / "identification.csv", float_format="%.4g")
        checks.to_csv(work / "predictive_checks.csv", float_format="%.4g")
        pd.Series(calibrated, name="calibrated").to_csv(work / "calibrated.csv")
        predictive_figure(ppd, checks, work / "predictive_checks.png")
        (work / "report.md").write_text(report_text(info, table, summary, ident, checks))
        (work / "calibration.json").write_text(json.dumps(info, indent=2) + "\n")
    return Calibration(sims, posterior, summary, calibrated, True, dropped, None, root, smc,
                       checks, ident)


def _md(frame: pd.DataFrame) -> str:
    cols = [frame.index.name or "", *frame.columns]
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join(lines)


def report_text(info: dict[str, Any], table: pd.DataFrame, summary: pd.DataFrame,
                ident: pd.DataFrame, checks: pd.DataFrame) -> str:
    """The calibration report (Markdown): generations, posterior, checks, identification."""
    s = info["settings"]
    weak = [n for n in ident.index if ident.loc[n, "verdict"].startswith("weakly")]
    text = [
        f"# Calibration report: {info['label']}", "",
        f"ABC-SMC, {s['particles']} particles, prior sample {info['prior_points']} points, "
        f"{info['replications_per_point']} replications per point, {info['simulations']} "
        f"points simulated in {info['generations']} generations (stopped: "
        f"{info['stopped']}); {info['dropped_missing']} proposals had a missing target "
        "outcome (never accepted, not filled in).", "",
        "## Generations", "", _md(table.set_index("generation")), "",
        "## Posterior (weighted particles)", "", _md(summary), "",
        "## Posterior-predictive checks", "",
        f"Every particle of the posterior ({info['predictive_particles']}) simulated "
        f"{info['predictive_replications']} times on fresh random numbers (seed "
        f"{info['predictive_seed']}); quantiles are over single simulated worlds (one "
        "replication each, weighted by the particle's weight), the scale of the one "
        "published value.", "", _md(checks), "",
        "## What the targets identify", "",
        "sd_ratio = posterior s.d. / prior s.d. (uniform prior); below 0.5 identified, "
        "0.5-0.8 weakly, above 0.8 not identified.", "",
        _md(ident[["prior_low", "prior_high", "median", "q05", "q95", "sd_ratio",
                   "verdict"]]), "",
        "**Not identified by the targets (posterior ~ prior):** "
        + (", ".join(info["not_identified"]) or "none") + ".",
        "**Weakly identified:** " + (", ".join(weak) or "none") + ".", ""]
    return "\n".join(text)
