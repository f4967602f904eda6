"""Approximate Bayesian computation by rejection over a Latin-hypercube prior.

Why rejection ABC on an LHS: the model has no likelihood, only a handful of published
aggregate figures, and each run is cheap; a stratified prior sample run through the sweep
layer is parallel and resumable, and keeping the closest points (by normalised squared
error to the targets) is the simplest estimator whose assumptions a reader can check.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..sweep import Experiment, SweepStore, open_sweep, parse_experiment, run_sweep
from ..sweep.results import Sweep
from .outcomes import OUTCOMES, outcomes_from

HIST_COLUMNS = ["scenario_id", "replication", "council_id", "origin", "proposal_year",
                "spinout_year", "censored", "duration_years"]
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
    """Sum over targets of ((model - target) / scale)^2; NaN outcomes count as infinitely far."""
    total = pd.Series(0.0, index=outcomes.index)
    for t in targets:
        z = ((outcomes[t.outcome].astype(float) - t.value) / t.scale) ** 2
        total = total + z.fillna(np.inf)
    return total


def accept(distances: pd.Series, fraction: float = DEFAULT_ACCEPT,
           minimum: int = 1) -> pd.Index:
    """Index of the closest ``ceil(fraction * n)`` points (at least ``minimum``), closest first.

    Ties are broken by position (a stable sort), so the accepted set is reproducible.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"must be in (0, 1], got {fraction}", source="accept fraction")
    k = max(minimum, math.ceil(fraction * len(distances)))
    order = np.argsort(distances.to_numpy(float), kind="stable")[:k]
    return distances.index[order]


def sweep_outcomes(sweep: Sweep, experiment: Experiment) -> pd.DataFrame:
    """One row per design point: factor values and outcomes (finished tasks only)."""
    hist = sweep.histories(columns=HIST_COLUMNS)
    panel = sweep.panel()
    hist_by = dict(tuple(hist.groupby("scenario_id", observed=True)))
    panel_by = dict(tuple(panel.groupby("scenario_id", observed=True)))
    rows = []
    for p in experiment.scenarios:
        if p.scenario_id not in panel_by:
            continue
        h = hist_by.get(p.scenario_id, hist.iloc[:0])
        rows.append({"design_index": p.index, "scenario_id": p.scenario_id, **p.values,
                     **outcomes_from(h, panel_by[p.scenario_id], p.scenario)})
    return pd.DataFrame(rows, columns=["design_index", "scenario_id", *experiment.factors,
                                       *OUTCOMES])


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


def load_calibration_experiment(path: str | Path, replications: int | None = None,
                                samples: int | None = None) -> Experiment:
    """The calibration experiment file; ``samples`` overrides the LHS size."""
    path = Path(path)
    if not path.is_file():
        raise InputError("experiment file not found", source=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid TOML: {err}", source=str(path)) from None
    design = data.get("design", {})
    if not isinstance(design, dict) or design.get("kind") != "lhs":
        raise InputError("calibration needs [design] kind = \"lhs\" (the prior)",
                         source=str(path))
    if samples is not None:
        data["design"] = {**design, "samples": samples}
    return parse_experiment(data, str(path), path.parent, replications)


@dataclass
class Calibration:
    """What a calibration run produced."""

    outcomes: pd.DataFrame
    posterior: pd.DataFrame
    summary: pd.DataFrame
    calibrated: dict[str, Any]
    complete: bool


def calibrate(experiment: Experiment, out: Path, executor: Any, capacity: Any = 4,
              fraction: float = DEFAULT_ACCEPT, progress: bool = False) -> Calibration:
    """Run (or resume) the prior sweep into ``out/sweep`` and write the posterior to ``out``."""
    from ..io import write_parquet_atomic
    store = SweepStore(out / "sweep")
    report = run_sweep(experiment, store, executor, capacity=capacity, progress=progress)
    frame = sweep_outcomes(open_sweep(out / "sweep"), experiment)
    frame["distance"] = distance(frame)
    chosen = accept(frame["distance"], fraction)
    posterior = frame.loc[chosen].reset_index(drop=True)
    summary = summarise(posterior, experiment.factors, [t.outcome for t in TARGETS])
    whole = {n: isinstance(getattr(experiment.base, n), int) for n in experiment.factors}
    calibrated = {n: round_sensibly(summary.loc[n, "median"], whole[n])
                  for n in experiment.factors}
    write_parquet_atomic(out / "prior_outcomes.parquet", frame)
    write_parquet_atomic(out / "posterior.parquet", posterior)
    summary.to_csv(out / "posterior_summary.csv", float_format="%.4g")
    pd.Series(calibrated, name="calibrated").to_csv(out / "calibrated.csv")
    return Calibration(frame, posterior, summary, calibrated, report.ok)
