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
    side); NaN where any target outcome is missing (such a point has no distance:
    :func:`accept` drops and counts it)."""
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
    data.pop("targets", None)  # read by load_targets
    design = data.get("design", {})
    if not isinstance(design, dict) or design.get("kind") != "lhs":
        raise InputError("calibration needs [design] kind = \"lhs\" (the prior)",
                         source=str(path))
    if samples is not None:
        data["design"] = {**design, "samples": samples}
    return parse_experiment(data, str(path), path.parent, replications,
                            size_check=size_check)


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

    outcomes: pd.DataFrame
    posterior: pd.DataFrame
    summary: pd.DataFrame
    calibrated: dict[str, Any]
    complete: bool
    dropped: int = 0
    report: Any = None
    sweep: Path | None = None


def run_key(experiment: Experiment, fraction: float,
            targets: Sequence[Target] = TARGETS) -> str:
    """What identifies a calibration run: the experiment (its hash), the accepted share and
    the targets (the default targets keep the key of earlier runs)."""
    key = f"{experiment.hash}-accept{fraction:g}"
    return key if tuple(targets) == TARGETS else f"{key}-targets{targets_key(targets)}"


def check_calibration(experiment: Experiment, out: Path, fraction: float = DEFAULT_ACCEPT,
                      force: bool = False, inputs: tuple[Path, ...] = (),
                      targets: Sequence[Target] = TARGETS) -> Path:
    """Every check before work (InputError, nothing written); the sweep folder to use."""
    check_target(out, "calibrate", run_key(experiment, fraction, targets), force, inputs)
    root = sweeps_root(out, experiment.hash)
    check_stage(experiment, root)
    return root


def calibrate(experiment: Experiment, out: Path, executor: Any, capacity: Any = 4,
              fraction: float = DEFAULT_ACCEPT, progress: bool = False,
              force: bool = False, description: str = "",
              targets: Sequence[Target] = TARGETS) -> Calibration:
    """Run (or resume) the prior sweep and publish the posterior to ``out`` (whole).

    The prior runs as a sweep in ``<out>.sweeps/<experiment hash>/`` (resumable, readable
    with ``open_sweep``); ``out`` gets prior_outcomes.parquet, posterior.parquet,
    posterior_summary.csv, calibrated.csv, calibration.json and manifest.json, all at once,
    only when every task finished.
    """
    out = Path(out)
    root = check_calibration(experiment, out, fraction, force, targets=targets)
    report = run_stage(experiment, root, executor, capacity, progress, description)
    frame = sweep_outcomes(root, experiment)
    frame["distance"] = distance(frame, targets)
    if not report.ok:
        return Calibration(frame, frame.iloc[:0], pd.DataFrame(), {}, False, report=report,
                           sweep=root)
    dropped = int(frame["distance"].isna().sum())
    chosen = accept(frame["distance"], fraction)
    posterior = frame.loc[chosen].reset_index(drop=True)
    summary = summarise(posterior, experiment.factors, [t.outcome for t in targets])
    whole = {n: isinstance(getattr(experiment.base, n), int) for n in experiment.factors}
    calibrated = {n: round_sensibly(summary.loc[n, "median"], whole[n])
                  for n in experiment.factors}
    info = {"label": f"experiment {experiment.name} (hash {experiment.hash}), accept "
                     f"{fraction:g}",
            "experiment_file": experiment.source, "experiment_hash": experiment.hash,
            "accept": fraction, "prior_points": len(frame), "dropped_missing": dropped,
            "used_points": len(frame) - dropped, "accepted": len(posterior),
            "sweep": str(root),
            "targets": [t.to_dict() for t in targets]}
    with publish(out, "calibrate", run_key(experiment, fraction, targets), info,
                 force) as work:
        write_parquet_atomic(work / "prior_outcomes.parquet", frame)
        write_parquet_atomic(work / "posterior.parquet", posterior)
        summary.to_csv(work / "posterior_summary.csv", float_format="%.4g")
        pd.Series(calibrated, name="calibrated").to_csv(work / "calibrated.csv")
        (work / "calibration.json").write_text(json.dumps(info, indent=2) + "\n")
    return Calibration(frame, posterior, summary, calibrated, True, dropped, report, root)
