"""Robustness across futures: policies x futures on common random numbers -> regret, PRIM.

``mutualsim robust EXPERIMENT.toml`` asks which policy holds up whatever the future brings
(Lempert, Popper & Bankes 2003, *Shaping the Next One Hundred Years*, RAND MR-1626: robust
decision making; Kwakkel & Pruyt 2013, *Technol. Forecast. Soc. Change* 80:419, for PRIM
as scenario discovery). The experiment file is a sweep experiment file (docs/SWEEPS.md)
whose design is over the policy *levers* (each design point is one policy), plus:

``[futures]``
    a second design over the *uncertainties* (any sweep design kind; usually
    ``kind = "lhs"`` with ``samples``), its ranges in ``[futures.factors]``. A future may
    not set a lever or a key of ``[base_overrides]``.
``[threshold]``
    what a policy must achieve in a future, e.g. ``S10 = { at_least = 0.6 }`` or
    ``council_spend = { at_most = 900.0 }``; with several conditions a policy meets the
    threshold only when it meets all of them.
``policy_names``
    optional: one name per policy, in design order.

Every (policy, future) pair runs replications ``0..R-1`` of the experiment seed through the
sweep layer (one ``kind = "points"`` sweep, resumable, local processes or Dask). Replication
``i`` draws only from the stream ``(seed, i)`` (:mod:`mutualsim.rng`), so **the same future
and replication have the same random numbers under every policy** (common random numbers:
policy differences within a future are not blurred by independent noise). Levers or
uncertainties that change how many numbers a replication draws per year (councils, services
per council, citizens per council) are refused, because they would break
that pairing. Futures share the streams as well, so the spread across futures is the
futures' effect, not different luck.

Outcomes per (policy, future), pooled over the R replications:

* ``S10``: Kaplan-Meier share of ventures still trading 10 years after the start of their
  risk: spin-out, or the start of Teckal incubation for an incubated service, whose
  take-back at the end of incubation counts as a failure (``origin="incubation"`` of
  :meth:`~mutualsim.survival.SurvivalCounts.from_histories`; without incubation this is
  survival from spin-out), so incubation is not credited with years its ventures could
  not fail in;
* ``RMST15``: restricted mean survival time over 15 years on the same clock (expected years
  trading out of the first 15, :func:`mutualsim.survival.rmst`);
* ``council_spend``: mean council spend on the services, GBP m a year (lower is better).

Regret (Savage 1951, *J. Am. Stat. Assoc.* 46:55): in future ``f`` the regret of policy
``p`` on an outcome is how far it falls short of the best policy *in that future*, in the
outcome's units and never negative::

    higher is better (S10, RMST15):   regret(p, f) = max_q y(q, f) - y(p, f)
    lower is better (council_spend):  regret(p, f) = y(p, f) - min_q y(q, f)

and a policy's *maximum regret* is the largest over the futures. A future where some policy
has no value of the outcome (no spin-out to follow) is left out of that outcome's regret and
counted, never filled in.

Failure boxes: for each policy, the futures where it misses the threshold are the "cases of
interest" for PRIM (:mod:`mutualsim.evidence.prim`, Friedman & Fisher 1999) over the
uncertainties; the box is reported with its coverage (share of the policy's failing futures
inside the box) and density (share of the futures inside the box where it fails). A policy
failing in fewer than ``PRIM_MIN_CASES`` futures gets no box (a box around one or two
points describes noise, not a region).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import FIELDS, Scenario, read_toml, show
from ..sweep.experiment import Experiment, _design, _table, canonical_json, parse_experiment
from .outcomes import OUTCOME_UNITS, OUTCOMES
from .prim import Box, prim

RMST_TAU = 15
#: The outcomes reported for every policy, whether higher is better, and their units.
REPORTED: dict[str, tuple[bool, str]] = {
    "S10": (True, "share surviving 10 years from start of risk"),
    "RMST15": (True, f"years trading out of the first {RMST_TAU}"),
    "council_spend": (False, "GBP m/year"),
}
#: Outcomes a threshold may name: the reported ones and every outcome of run_model.
THRESHOLD_OUTCOMES = tuple(dict.fromkeys([*REPORTED, *OUTCOMES]))
BOUNDS = {"at_least": ">=", "at_most": "<="}
#: Fields that set how many random numbers a replication draws a year (rng.Layout).
LAYOUT_FIELDS = ("councils", "services_per_council", "citizens_per_council")
ROBUST_KEYS = ("futures", "threshold", "policy_names")
PRIM_ALPHA = 0.05          # share peeled per step
PRIM_MIN_SUPPORT = 0.05    # smallest box, as a share of the futures
PRIM_MIN_COVERAGE = 0.5    # the box chosen is the densest that keeps half the failures
PRIM_MIN_CASES = 3         # fewer failing futures than this: listed, no box (noise-level)


@dataclass(frozen=True)
class Condition:
    """One part of the threshold: ``outcome`` at least / at most ``value``."""

    outcome: str
    side: str          # "at_least" or "at_most"
    value: float

    def met(self, y: np.ndarray) -> np.ndarray:
        return y >= self.value if self.side == "at_least" else y <= self.value

    def __str__(self) -> str:
        return f"{self.outcome} {BOUNDS[self.side]} {self.value:g}"


@dataclass(frozen=True)
class RobustExperiment:
    """A validated robustness experiment: policies, futures, threshold and the one sweep
    (every policy in every future) that runs them."""

    source: str
    name: str
    description: str
    policy_names: tuple[str, ...]
    policies: tuple[dict[str, Any], ...]      # lever values of each policy
    uncertainties: tuple[str, ...]
    futures: tuple[dict[str, Any], ...]       # uncertainty values of each future
    threshold: tuple[Condition, ...]
    experiment: Experiment                    # point f * n_policies + p
    base_file: str | None

    @property
    def levers(self) -> tuple[str, ...]:
        return tuple(self.policies[0]) if self.policies else ()

    def index(self, future: int, policy: int) -> int:
        return future * len(self.policies) + policy

    @property
    def key(self) -> str:
        """What identifies one robust run: the model runs and the threshold."""
        spec = {"experiment": self.experiment.hash, "policies": self.policy_names,
                "threshold": [[c.outcome, c.side, c.value] for c in self.threshold],
                "prim": [PRIM_ALPHA, PRIM_MIN_SUPPORT, PRIM_MIN_COVERAGE, PRIM_MIN_CASES]}
        return hashlib.sha256(canonical_json(spec).encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return (f"{self.name}: {len(self.policies)} policies x {len(self.futures)} futures "
                f"x {self.experiment.replications} replications, threshold "
                f"{' and '.join(map(str, self.threshold))}")


# ----------------------------------------------------------------------------- parsing
def _unknown_fields(names: Sequence[str], what: str, source: str) -> None:
    for name in names:
        if name not in FIELDS:
            raise InputError(f"unknown {what} {name!r}; {what}s must be scenario fields "
                             "(see docs/ODD.md)", source=source)


def _threshold(data: Any, source: str) -> tuple[Condition, ...]:
    src = f"{source} [threshold]"
    if data is None:
        raise InputError("missing table [threshold], e.g. S10 = { at_least = 0.6 }",
                         source=source)
    data = _table(data, source, "threshold")
    if not data:
        raise InputError("[threshold] is empty; give at least one condition, e.g. "
                         "S10 = { at_least = 0.6 }", source=src)
    out = []
    for outcome, spec in data.items():
        if outcome not in THRESHOLD_OUTCOMES:
            raise InputError(f"unknown outcome {outcome!r}; allowed: "
                             f"{', '.join(THRESHOLD_OUTCOMES)}", source=src)
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in BOUNDS:
            raise InputError(f"key {outcome!r} must be {{ at_least = x }} or "
                             f"{{ at_most = x }}, got {show(spec)}", source=src)
        side, value = next(iter(spec.items()))
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise InputError(f"key {outcome!r}: {side} must be a finite number, got "
                             f"{show(value)}", source=src)
        out.append(Condition(outcome, side, float(value)))
    return tuple(out)


def _futures(data: Any, seed: int, source: str, samples: int | None,
             taken: dict[str, str]) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    src = f"{source} [futures]"
    if data is None:
        raise InputError("missing table [futures] (the uncertainties: kind = \"lhs\", "
                         "samples = N and ranges in [futures.factors])", source=source)
    data = dict(_table(data, source, "futures"))
    factors = data.pop("factors", None)
    if not factors:
        raise InputError("no futures: [futures.factors] is missing or empty; give at "
                         "least one uncertainty, e.g. austerity_rate = { low = 0.0, "
                         "high = 0.06 }", source=src)
    factors = _table(factors, src, "futures.factors")
    _unknown_fields(list(factors), "uncertainty", f"{source} [futures.factors]")
    for name in factors:
        if name in taken:
            raise InputError(f"key {name!r} is both an uncertainty and {taken[name]}; "
                             "keep one", source=f"{source} [futures.factors]")
        if name in LAYOUT_FIELDS:
            raise InputError(f"key {name!r} changes how many random numbers a replication "
                             "draws, so futures would not share streams; use another "
                             f"uncertainty (not {', '.join(LAYOUT_FIELDS)})",
                             source=f"{source} [futures.factors]")
    if samples is not None:
        if data.get("kind") != "lhs":
            raise InputError("--futures applies only to [futures] kind = \"lhs\"",
                             source="--futures")
        data["samples"] = samples
    try:
        design = _design(data, factors, seed, source)
        values = design.points(f"{source} [futures]")
    except InputError as err:  # the design parser names [design]/[factors]: say [futures]
        text = str(err).replace(" [design]", " [futures]").replace(
            " [factors]", " [futures.factors]")
        raise InputError(text) from None
    if not values:
        raise InputError("the futures design has no points", source=src)
    return tuple(design.factors), values


def _policy_names(data: Any, policies: Sequence[dict[str, Any]], source: str
                  ) -> tuple[str, ...]:
    if data is None:
        names = [", ".join(f"{k}={v}" for k, v in p.items()) or "base" for p in policies]
        return tuple(dict.fromkeys(names)) if len(set(names)) == len(names) else tuple(
            f"policy {i}: {n}" for i, n in enumerate(names))
    if not isinstance(data, list) or not all(isinstance(n, str) and n for n in data):
        raise InputError(f"key 'policy_names' must be a list of non-empty texts, got "
                         f"{show(data)}", source=source)
    if len(data) != len(policies):
        raise InputError(f"key 'policy_names' has {len(data)} names for {len(policies)} "
                         "policies (one per point of [design], in order)", source=source)
    if len(set(data)) != len(data):
        raise InputError("key 'policy_names' names a policy twice", source=source)
    return tuple(data)


def _check_pairing(points: Sequence[Scenario], n_policies: int, source: str,
                   levers: Sequence[str]) -> None:
    """Every policy of one future must draw the same random numbers each year."""
    from ..rng import Layout

    def shape(sc: Scenario) -> tuple[Any, ...]:
        lay = Layout.for_scenario(sc)
        return (lay.uniform, lay.normal, lay.n_keys)

    for start in range(0, len(points), n_policies):
        shapes = {shape(sc) for sc in points[start:start + n_policies]}
        if len(shapes) > 1:
            raise InputError("the policies change how many random numbers a replication "
                             f"draws (levers {', '.join(levers)}), so they could not share "
                             "common random numbers; do not vary "
                             f"{', '.join(LAYOUT_FIELDS)}", source=f"{source} [factors]")


def parse_robust(data: dict[str, Any], source: str, base_dir: Path | None = None,
                 replications: int | None = None, samples: int | None = None, *,
                 size_check: bool = True) -> RobustExperiment:
    """Validate TOML-shaped robustness data (see the module docstring for the keys).

    ``replications`` overrides the replications per (policy, future), ``samples`` the
    number of futures of an LHS futures design. Every problem is an InputError naming the
    file and key, raised before anything is run.
    """
    base_dir = Path(".") if base_dir is None else Path(base_dir)
    if not isinstance(data.get("design"), dict):
        raise InputError("missing table [design]: the policies, a design over the levers "
                         "(e.g. kind = \"points\" with one list per lever in [factors])",
                         source=source)
    factors = data.get("factors")
    if not isinstance(factors, dict) or not factors:
        raise InputError("[factors] is missing or empty: give the levers the policies set, "
                         "e.g. protection_years = [3, 7]", source=source)
    _unknown_fields(list(factors), "lever", f"{source} [factors]")
    if "uncertainty" in data:
        raise InputError("[uncertainty] applies to mutualsim sweep only (robust runs the "
                         "policies at one parameter set in every future)", source=source)
    # The policies: the sweep layer's own experiment parser and validation.
    sweep_data = {k: v for k, v in data.items() if k not in ROBUST_KEYS}
    policy_exp = parse_experiment(sweep_data, source, base_dir, replications,
                                  size_check=size_check)
    policies = [dict(p.values) for p in policy_exp.points]
    names = _policy_names(data.get("policy_names"), policies, source)
    taken = {k: "a lever in [factors]" for k in policy_exp.factors}
    taken.update({k: "in [base_overrides]" for k in policy_exp.base_overrides})
    uncertainties, futures = _futures(data.get("futures"), policy_exp.seed, source, samples,
                                      taken)
    threshold = _threshold(data.get("threshold"), source)

    # Every policy in every future: one sweep of explicit points (future-major).
    rows = [{**p, **f} for f in futures for p in policies]
    columns = {k: [r[k] for r in rows] for k in [*policy_exp.factors, *uncertainties]}
    combined = {k: v for k, v in sweep_data.items() if k not in ("design", "factors")}
    combined.update(name=f"robust_{policy_exp.name}", replications=policy_exp.replications,
                    block_size=policy_exp.block_size, design={"kind": "points"},
                    factors=columns)
    experiment = parse_experiment(combined, source, base_dir, size_check=size_check)
    _check_pairing([p.scenario for p in experiment.points], len(policies), source,
                   policy_exp.factors)
    return RobustExperiment(
        source=source, name=policy_exp.name, description=policy_exp.description,
        policy_names=names, policies=tuple(policies), uncertainties=uncertainties,
        futures=tuple(futures), threshold=threshold, experiment=experiment,
        base_file=policy_exp.base_file)


def load_robust(path: str | Path, replications: int | None = None,
                samples: int | None = None, *, size_check: bool = True) -> RobustExperiment:
    """Read and validate a robustness experiment file (a bare name finds a shipped one)."""
    from ..shipped import resolve
    path = resolve(Path(path), "experiments")
    data = read_toml(path, "experiment")
    return parse_robust(data, str(path), path.parent, replications, samples,
                        size_check=size_check)


# ---------------------------------------------------------------------------- analysis
def point_table(spec: RobustExperiment, outcomes: pd.DataFrame,
                survival: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per (policy, future): names, uncertainty values and outcomes.

    ``outcomes`` is :func:`mutualsim.evidence.sweeps.point_outcomes` of the sweep
    (``design_index`` = future * n_policies + policy); ``survival`` maps scenario id to its
    S10 and RMST15 from the start of risk (:func:`survival_by_scenario`), which replace
    ``point_outcomes``' S10 from spin-out. Points whose tasks did not finish are absent.
    """
    n = len(spec.policies)
    frame = outcomes.copy()
    frame["future"] = frame["design_index"] // n
    frame["policy"] = pd.Categorical([spec.policy_names[i % n] for i in frame["design_index"]],
                                     categories=spec.policy_names)
    for name in ("S10", "RMST15"):
        frame[name] = frame["scenario_id"].map(
            lambda sid, name=name: survival.get(sid, {}).get(name, np.nan)).astype(float)
    keep = ["policy", "future", *spec.uncertainties, *REPORTED,
            *[c.outcome for c in spec.threshold if c.outcome not in REPORTED]]
    return frame[keep].sort_values(["future", "policy"]).reset_index(drop=True)


def regret(table: pd.DataFrame, outcome: str, higher_is_better: bool
           ) -> tuple[pd.DataFrame, list[int]]:
    """Regret of every policy in every future (futures x policies, outcome units, >= 0).

    Futures where some policy has no value of ``outcome`` are left out (never filled in);
    their numbers are returned second.
    """
    wide = table.pivot(index="future", columns="policy", values=outcome)
    wide = wide.reindex(columns=table["policy"].cat.categories)
    missing = [int(f) for f in wide.index[wide.isna().any(axis=1)]]
    wide = wide.dropna()
    if higher_is_better:
        out = wide.rsub(wide.max(axis=1), axis=0)
    else:
        out = wide.sub(wide.min(axis=1), axis=0)
    out.columns = out.columns.astype(str)
    return out, missing


def fails(table: pd.DataFrame, threshold: Sequence[Condition]) -> pd.Series:
    """1.0 where a (policy, future) misses the threshold, 0.0 where it meets it, NaN where
    an outcome the threshold needs is missing."""
    ok = np.ones(len(table), bool)
    known = np.ones(len(table), bool)
    for c in threshold:
        y = table[c.outcome].to_numpy(float)
        known &= ~np.isnan(y)
        with np.errstate(invalid="ignore"):
            ok &= c.met(y)
    out = np.where(known, (~ok).astype(float), np.nan)
    return pd.Series(out, index=table.index, name="fails")


@dataclass(frozen=True)
class FailureBox:
    """Where one policy misses the threshold: a PRIM box over the uncertainties."""

    policy: str
    futures: int            # futures with a known verdict
    failing: int
    missing: int            # futures without one (an outcome missing): left out
    box: Box | None         # None if the policy never fails (or always: see ``always``)
    limits: dict[str, tuple[float, float]]
    trajectory: pd.DataFrame | None

    @property
    def always(self) -> bool:
        return self.futures > 0 and self.failing == self.futures

    def describe(self, ranges: dict[str, tuple[float, float]] | None = None) -> str:
        if self.futures == 0:
            return "no future with a verdict"
        if self.failing == 0:
            return "never fails"
        if self.always:
            return "fails in every future"
        if self.failing < PRIM_MIN_CASES:
            return (f"fails in {self.failing} future{'s' if self.failing > 1 else ''} "
                    f"(too few for a box)")
        if self.box is None or not self.limits:
            return "no box: failures spread over the whole space"
        parts = []
        for name, (lo, hi) in self.limits.items():
            full = (ranges or {}).get(name)
            if full is not None and lo <= full[0]:
                parts.append(f"{name} <= {hi:.3g}")
            elif full is not None and hi >= full[1]:
                parts.append(f"{name} >= {lo:.3g}")
            else:
                parts.append(f"{lo:.3g} <= {name} <= {hi:.3g}")
        return " and ".join(parts)


def failure_box(table: pd.DataFrame, policy: str, uncertainties: Sequence[str],
                failed: pd.Series) -> FailureBox:
    """PRIM over the futures of one ``policy`` with ``failed`` as the cases of interest."""
    rows = (table["policy"] == policy).to_numpy()
    y = failed[rows].to_numpy(float)
    x = table.loc[rows, list(uncertainties)].reset_index(drop=True)
    known = ~np.isnan(y)
    x, y = x[known].reset_index(drop=True), y[known]
    failing = int(y.sum())
    missing = int((~known).sum())
    if failing < PRIM_MIN_CASES or failing == len(y):
        return FailureBox(policy, len(y), failing, missing, None, {}, None)
    box, trajectory = prim(x, y, alpha=PRIM_ALPHA, min_support=PRIM_MIN_SUPPORT,
                           min_coverage=PRIM_MIN_COVERAGE)
    limits = box.restricted(x.to_numpy(float), list(x.columns))
    return FailureBox(policy, len(y), failing, missing, box, limits, trajectory)


def summary_table(table: pd.DataFrame, spec: RobustExperiment
                  ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[FailureBox],
                             dict[str, list[int]]]:
    """Per policy: each reported outcome's median, 5% and 95% across futures, its maximum
    regret (and the future where it occurs), the futures failing the threshold and the
    PRIM box of those failures. Also returns the regret frames, the boxes and the futures
    left out of each outcome's regret."""
    regrets: dict[str, pd.DataFrame] = {}
    left_out: dict[str, list[int]] = {}
    for outcome, (higher, _) in REPORTED.items():
        regrets[outcome], left_out[outcome] = regret(table, outcome, higher)
    failed = fails(table, spec.threshold)
    boxes = [failure_box(table, name, spec.uncertainties, failed)
             for name in spec.policy_names]
    ranges = {u: (float(table[u].min()), float(table[u].max())) for u in spec.uncertainties}
    rows = []
    for name, fb in zip(spec.policy_names, boxes, strict=True):
        sub = table[table["policy"] == name]
        row: dict[str, Any] = {"policy": name}
        for outcome in REPORTED:
            y = sub[outcome].dropna()
            row[f"{outcome}_median"] = float(y.median()) if len(y) else np.nan
            row[f"{outcome}_p05"] = float(y.quantile(0.05)) if len(y) else np.nan
            row[f"{outcome}_p95"] = float(y.quantile(0.95)) if len(y) else np.nan
            row[f"{outcome}_missing"] = int(sub[outcome].isna().sum())
            r = regrets[outcome][name] if name in regrets[outcome] else pd.Series(dtype=float)
            row[f"{outcome}_max_regret"] = float(r.max()) if len(r) else np.nan
            row[f"{outcome}_max_regret_future"] = int(r.idxmax()) if len(r) else -1
            row[f"{outcome}_mean_regret"] = float(r.mean()) if len(r) else np.nan
        row.update(futures=fb.futures, failing=fb.failing, verdict_missing=fb.missing,
                   fail_share=fb.failing / fb.futures if fb.futures else np.nan,
                   box=fb.describe(ranges),
                   box_coverage=fb.box.coverage if fb.box is not None else np.nan,
                   box_density=fb.box.density if fb.box is not None else np.nan,
                   box_futures=fb.box.support if fb.box is not None else 0)
        rows.append(row)
    return pd.DataFrame(rows), regrets, boxes, left_out


def _fmt(v: float, digits: int) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.{digits}f}"


DIGITS = {"S10": 3, "RMST15": 2, "council_spend": 1}


def markdown_table(summary: pd.DataFrame, spec: RobustExperiment) -> str:
    """The robustness table (Markdown), one row per policy."""
    head = ["policy", "S(10) median [5%, 95%]", f"RMST {RMST_TAU} y median [5%, 95%]",
            "council spend GBP m/y median [5%, 95%]", "max regret S(10)",
            f"max regret RMST {RMST_TAU} (y)", "max regret spend (GBP m/y)",
            "fails threshold", "where it fails (PRIM box)", "coverage", "density"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in summary.iterrows():
        cells = [str(r["policy"])]
        for o in REPORTED:
            d = DIGITS[o]
            cells.append(f"{_fmt(r[f'{o}_median'], d)} [{_fmt(r[f'{o}_p05'], d)}, "
                         f"{_fmt(r[f'{o}_p95'], d)}]")
        cells += [_fmt(r[f"{o}_max_regret"], DIGITS[o]) for o in REPORTED]
        cells += [f"{r['failing']} of {r['futures']}", str(r["box"]),
                  _fmt(r["box_coverage"], 2), _fmt(r["box_density"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the run
class Incomplete(Exception):
    """The sweep did not finish (failed or unrun tasks); re-running resumes it."""

    def __init__(self, failed: int, not_run: int, root: Path) -> None:
        self.root = root
        super().__init__(f"{failed} tasks failed and {not_run} were not run (details in "
                         f"{root}/tasks/); run the same command again to retry")


def sweeps_dir(spec: RobustExperiment, out: Path) -> Path:
    """Where the model runs live: ``<out>.sweeps/<experiment hash>``, shared by runs that
    differ only in their threshold or policy names."""
    from .publish import sweeps_root
    return sweeps_root(out, spec.experiment.hash[:12])


def check_robust(spec: RobustExperiment, out: Path, force: bool,
                 inputs: Sequence[Path] = ()) -> Path:
    """Refuse (before any work) an ``--out`` this run may not replace, or a sweep folder
    holding another experiment; return the sweep folder."""
    from .publish import check_target
    from .sweeps import check_stage
    check_target(out, "robust", spec.key, force, tuple(inputs))
    root = sweeps_dir(spec, out)
    check_stage(spec.experiment, root)
    return root


SURVIVAL_COLUMNS = ["scenario_id", "duration_years", "censored", "exit_cause", "exit_year",
                    "at_risk_duration_years", "incubation_outcome"]


def survival_by_scenario(root: Path, spec: RobustExperiment) -> dict[str, dict[str, float]]:
    """S10 and RMST15 of every finished scenario, time counted from the start of each
    venture's risk (``origin="incubation"``: the start of Teckal incubation if the service
    was incubated, else spin-out; a take-back at the end of incubation is a failure), so an
    incubation policy is not credited with the years its ventures could not fail in
    (immortal-time bias). Without incubation this is survival from spin-out. NaN where
    nothing spun out or follow-up is shorter than the horizon: missing, never guessed."""
    from ..survival import SurvivalCounts, survival_at
    from ..survival.rmst import rmst_parts
    from ..sweep import open_sweep
    hist = open_sweep(root).histories(columns=SURVIVAL_COLUMNS)
    years = {p.scenario_id: p.scenario.years for p in spec.experiment.points}
    out: dict[str, dict[str, float]] = {}
    for sid, h in hist.groupby("scenario_id", observed=True):
        counts = SurvivalCounts.from_histories(h, max_time=years[str(sid)],
                                               origin="incubation")
        row = {"S10": float("nan"), "RMST15": float("nan")}
        if counts.n > 0:
            row["S10"] = float(survival_at(counts, [10])[10])
            try:
                row["RMST15"] = rmst_parts(counts, RMST_TAU)[0]
            except ValueError:
                pass
        out[str(sid)] = row
    return out


def analyse(spec: RobustExperiment, root: Path) -> dict[str, Any]:
    """Tables of a finished sweep: points, summary, regrets, boxes."""
    from .sweeps import point_outcomes
    outcomes = point_outcomes(root, spec.experiment)
    table = point_table(spec, outcomes, survival_by_scenario(root, spec))
    summary, regrets, boxes, left_out = summary_table(table, spec)
    return {"table": table, "summary": summary, "regrets": regrets, "boxes": boxes,
            "left_out": left_out}


def run_robust(spec: RobustExperiment, out: Path, executor: Any, capacity: Any, *,
               progress: bool = False, force: bool = False, description: str = "",
               inputs: Sequence[Path] = ()) -> dict[str, Any]:
    """Run (or resume) every policy in every future, analyse, and publish ``out`` whole.

    Model runs are a resumable sweep in ``<out>.sweeps/<hash>/``; the result folder (CSV
    tables, ``robustness.md``, ``summary.json``, figures, ``manifest.json``) appears at the
    end or not at all. Raises :class:`Incomplete` if tasks failed.
    """
    from . import robust_figures as figures
    from .publish import publish
    from .sweeps import run_stage
    root = check_robust(spec, out, force, inputs)
    report = run_stage(spec.experiment, root, executor, capacity, progress, description)
    if not report.ok:
        raise Incomplete(len(report.failed), report.not_run, root)
    result = analyse(spec, root)
    table, summary = result["table"], result["summary"]
    md = markdown_table(summary, spec)
    units = {o: u for o, (_, u) in REPORTED.items()}
    units.update({c.outcome: OUTCOME_UNITS.get(c.outcome, REPORTED.get(c.outcome, ("", ""))[1])
                  for c in spec.threshold})
    info = {
        "experiment": spec.name, "source": spec.source, "policies": list(spec.policy_names),
        "levers": {n: p for n, p in zip(spec.policy_names, spec.policies, strict=True)},
        "uncertainties": list(spec.uncertainties), "futures": len(spec.futures),
        "replications": spec.experiment.replications, "seed": spec.experiment.seed,
        "threshold": [str(c) for c in spec.threshold], "units": units,
        "regret": "regret(p, f) = best outcome among policies in future f minus p's (lower "
                  "is better: p's minus the best), in the outcome's units; max over futures",
        "prim": {"alpha": PRIM_ALPHA, "min_support": PRIM_MIN_SUPPORT,
                 "min_coverage": PRIM_MIN_COVERAGE, "min_failing_futures": PRIM_MIN_CASES},
        "futures_left_out_of_regret": result["left_out"],
        "policies_summary": json.loads(summary.to_json(orient="records")),
    }
    run = {"label": spec.label, "sweeps": str(root), "experiment_hash": spec.experiment.hash}
    with publish(out, "robust", spec.key, run, force) as work:
        table.to_csv(work / "outcomes.csv", index=False, float_format="%.6g")
        summary.to_csv(work / "robustness.csv", index=False, float_format="%.6g")
        for outcome, frame in result["regrets"].items():
            frame.to_csv(work / f"regret_{outcome}.csv", float_format="%.6g")
        boxes = [{"policy": b.policy, "futures": b.futures, "failing": b.failing,
                  "missing": b.missing, "limits": b.limits,
                  "coverage": b.box.coverage if b.box else None,
                  "density": b.box.density if b.box else None,
                  "support": b.box.support if b.box else None} for b in result["boxes"]]
        info["boxes"] = boxes
        (work / "robustness.md").write_text(
            f"{spec.label}\n\n{md}\n", encoding="utf-8")
        (work / "summary.json").write_text(json.dumps(info, indent=2, default=float),
                                           encoding="utf-8")
        figures.outcomes_figure(table, spec.policy_names, work / "outcomes.png")
        figures.regret_figure(result["regrets"], work / "regret.png")
        figures.prim_figure(table, result["boxes"], spec, work / "prim.png")
    return {**result, "markdown": md, "sweeps": root, "info": info}
