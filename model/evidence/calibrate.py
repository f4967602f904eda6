"""Approximate Bayesian computation by rejection over a Latin-hypercube prior.

Why rejection ABC on an LHS: the model has no likelihood, only a handful of published
aggregate figures, and each run is cheap; a stratified prior sample run through the sweep
layer is parallel and resumable, and keeping the closest points (by normalised squared
error to the targets) is the simplest estimator whose assumptions a reader can check.

A prior point with a missing (NaN) target outcome has no distance: it is dropped before
acceptance, never filled in, and the count is printed and stored (``calibration.json``,
the result manifest). The accepted share is of the points that have a distance.
"""

from __future__ import annotations

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
from .publish import check_target, publish, sweeps_root
from .sweeps import check_stage, point_outcomes, run_stage

DEFAULT_EXPERIMENT = "calibration"  # the shipped experiments/calibration.toml
DEFAULT_ACCEPT = 0.05


@dataclass(frozen=True)
class Target:
    """A published figure the model should reproduce, and how far off still counts as close."""

    outcome: str
    value: float
    scale: float
    source: str


TARGETS: tuple[Target, ...] = (
    Target("trading_2012", 19.0, 3.0,
           "seed 004 para 81: 'around 19 live mutuals that have spun out from local "
           "authorities' (Feb 2013)"),
    Target("councils_exploring_2012", 75.0, 10.0,
           "seed 004 para 79: 'engaged over 70 local authorities who are actively exploring "
           "mutuals' (May 2012 - Feb 2013)"),
    Target("spinouts_2010", 0.0, 2.0,
           "seed 004 Introduction: the programme starts in 2010 (close to none spun out yet)"),
    Target("S5", 0.76, 0.05,
           "Co-operatives UK: about 72-80% of co-operatives survive five years (centre 0.76); "
           "well above ONS Business Demography (2012 cohort 43.2%, 2007 cohort 44.6%)"),
)


def distance(outcomes: pd.DataFrame, targets: Sequence[Target] = TARGETS) -> pd.Series:
    """Sum over targets of ((model - target) / scale)^2; NaN where any target outcome is
    missing (such a point has no distance: :func:`accept` drops and counts it)."""
    total = pd.Series(0.0, index=outcomes.index)
    for t in targets:
        total = total + ((outcomes[t.outcome].astype(float) - t.value) / t.scale) ** 2
    return total


def accept(distances: pd.Series, fraction: float = DEFAULT_ACCEPT,
           minimum: int = 1) -> pd.Index:
    """Index of the closest ``ceil(fraction * n)`` points (at least ``minimum``), closest first.

    ``n`` counts the points with a distance: missing (NaN) distances are dropped, never
    accepted (``distances.isna().sum()`` of them). Ties are broken by position (a stable
    sort), so the accepted set is reproducible. InputError if no point has a distance.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"must be in (0, 1], got {fraction}", source="accept fraction")
    valid = distances.dropna()
    if valid.empty:
        raise InputError(f"none of the {len(distances)} prior points has every target "
                         "outcome (all distances missing); nothing to accept",
                         source="calibration")
    k = min(len(valid), max(minimum, math.ceil(fraction * len(valid))))
    order = np.argsort(valid.to_numpy(float), kind="stable")[:k]
    return valid.index[order]


def sweep_outcomes(root: Path, experiment: Experiment) -> pd.DataFrame:
    """One row per design point: factor values and outcomes (finished tasks only)."""
    return point_outcomes(root, experiment)


def summarise(posterior: pd.DataFrame, factors: Sequence[str],
              outcomes: Sequence[str] = ()) -> pd.DataFrame:
    """Mean, median and 5-95% of each parameter (and outcome) over the accepted set."""
    cols = [*factors, *outcomes]
    q = posterior[cols].astype(float)
    return pd.DataFrame({"mean": q.mean(), "median": q.median(), "q05": q.quantile(0.05),
                         "q95": q.quantile(0.95)}).rename_axis("name")


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
    design = data.get("design", {})
    if not isinstance(design, dict) or design.get("kind") != "lhs":
        raise InputError("calibration needs [design] kind = \"lhs\" (the prior)",
                         source=str(path))
    if samples is not None:
        data["design"] = {**design, "samples": samples}
    return parse_experiment(data, str(path), path.parent, replications,
                            size_check=size_check)


@dataclass
class Calibration:
    """What a calibration run produced (``complete`` False: nothing was published)."""

    outcomes: pd.DataFrame
    posterior: pd.DataFrame
    summary: pd.DataFrame
    calibrated: dict[str, Any]
    complete: bool
    dropped: int = 0
    report: Any = None
    sweep: Path | None = None


def run_key(experiment: Experiment, fraction: float) -> str:
    """What identifies a calibration run: the experiment (its hash) and the accepted share."""
    return f"{experiment.hash}-accept{fraction:g}"


def check_calibration(experiment: Experiment, out: Path, fraction: float = DEFAULT_ACCEPT,
                      force: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    """Every check before work (InputError, nothing written); the sweep folder to use."""
    check_target(out, "calibrate", run_key(experiment, fraction), force, inputs)
    root = sweeps_root(out, experiment.hash)
    check_stage(experiment, root)
    return root


def calibrate(experiment: Experiment, out: Path, executor: Any, capacity: Any = 4,
              fraction: float = DEFAULT_ACCEPT, progress: bool = False,
              force: bool = False, description: str = "") -> Calibration:
    """Run (or resume) the prior sweep and publish the posterior to ``out`` (whole).

    The prior runs as a sweep in ``<out>.sweeps/<experiment hash>/`` (resumable, readable
    with ``open_sweep``); ``out`` gets prior_outcomes.parquet, posterior.parquet,
    posterior_summary.csv, calibrated.csv, calibration.json and manifest.json, all at once,
    only when every task finished.
    """
    out = Path(out)
    root = check_calibration(experiment, out, fraction, force)
    report = run_stage(experiment, root, executor, capacity, progress, description)
    frame = sweep_outcomes(root, experiment)
    frame["distance"] = distance(frame)
    if not report.ok:
        return Calibration(frame, frame.iloc[:0], pd.DataFrame(), {}, False, report=report,
                           sweep=root)
    dropped = int(frame["distance"].isna().sum())
    chosen = accept(frame["distance"], fraction)
    posterior = frame.loc[chosen].reset_index(drop=True)
    summary = summarise(posterior, experiment.factors, [t.outcome for t in TARGETS])
    whole = {n: isinstance(getattr(experiment.base, n), int) for n in experiment.factors}
    calibrated = {n: round_sensibly(summary.loc[n, "median"], whole[n])
                  for n in experiment.factors}
    info = {"label": f"experiment {experiment.name} (hash {experiment.hash}), accept "
                     f"{fraction:g}",
            "experiment_file": experiment.source, "experiment_hash": experiment.hash,
            "accept": fraction, "prior_points": len(frame), "dropped_missing": dropped,
            "used_points": len(frame) - dropped, "accepted": len(posterior),
            "sweep": str(root),
            "targets": [{"outcome": t.outcome, "value": t.value, "scale": t.scale}
                        for t in TARGETS]}
    with publish(out, "calibrate", run_key(experiment, fraction), info, force) as work:
        write_parquet_atomic(work / "prior_outcomes.parquet", frame)
        write_parquet_atomic(work / "posterior.parquet", posterior)
        summary.to_csv(work / "posterior_summary.csv", float_format="%.4g")
        pd.Series(calibrated, name="calibrated").to_csv(work / "calibrated.csv")
        (work / "calibration.json").write_text(json.dumps(info, indent=2) + "\n")
    return Calibration(frame, posterior, summary, calibrated, True, dropped, report, root)
