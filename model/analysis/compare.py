"""Compare survival across values of one policy lever, with common random numbers.

Every value is simulated with the same seed, so replication ``i`` sees the same random
draws whatever the lever: differences come from the policy, not from luck. Only small
summaries are kept per value (survival counts and a by-year income-share band), never
the raw histories, so a 1,000-replication comparison fits in little memory.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import FIELDS, Scenario, _type_of, check_value
from ..simulate import Results, block_counts, panel_frame, simulate_blocks
from ..state import CAUSE_NAMES
from ..survival import (
    ORIGINS,
    Estimate,
    SurvivalCounts,
    cause_names,
    cumulative_incidence,
    hazard,
    kaplan_meier,
    logrank,
    median_survival,
    rmst,
    rmst_difference,
    survival_difference,
    survival_estimates_at,
)
from .factors import FACTOR_ALIASES

__all__ = [
    "FACTOR_ALIASES",
    "HORIZONS",
    "ORIGIN_LABELS",
    "TAU",
    "Comparison",
    "Group",
    "check_origin",
    "compare",
    "default_origin",
    "income_share_band",
    "parse_values",
    "resolve_factor",
]

#: Short names accepted for the levers a workshop usually varies.
#: Human names used in labels and axis titles.
DISPLAY_NAMES: dict[str, str] = {
    "protection_years": "Protected initial contract",
    "incubation_years": "Teckal incubation",
    "commissioning_style": "Commissioning style",
    "support_level": "Council support level",
    "mentoring_clauses": "Mentoring clauses",
    "lots": "Lots per contract",
    "austerity_rate": "Austerity rate",
}
HORIZONS = (5, 10, 15)
TAU = 15
#: Exit causes in code order (1 insolvency, 2 wind_down, 3 takeover, 4-6 insolvency by the
#: shock that caused it).
CAUSES: tuple[str, ...] = tuple(CAUSE_NAMES[1:])
CAUSE_LABELS = {"insolvency": "Insolvency (structural deficit)", "wind_down": "Wound down",
                "takeover": "Taken over",
                "insolvency_cost_shock": "Insolvency after cost shocks",
                "insolvency_income_shock": "Insolvency after income shocks",
                "insolvency_lost_contract": "Insolvency after a lost contract",
                "taken_back": "Taken back in-house"}
#: Where survival time starts, as the table says it.
ORIGIN_LABELS = {"spinout": "spin-out", "incubation": "start of incubation"}


def default_origin(factor: str) -> str:
    """Survival's origin for a factor: the start of incubation when incubation itself is
    compared (time in incubation is time at risk; from spin-out it would be immortal time),
    else spin-out."""
    return "incubation" if factor == "incubation_years" else "spinout"


def check_origin(origin: str, source: str = "--origin") -> str:
    """``origin`` if it is one of :data:`mutualsim.survival.ORIGINS`, else InputError."""
    if origin not in ORIGINS:
        raise InputError(f"origin must be one of {', '.join(ORIGINS)}; got {origin!r}",
                         source=source)
    return origin
_NO_ESTIMATE = Estimate(float("nan"), float("nan"), float("nan"), float("nan"))


def resolve_factor(factor: str, source: str = "--factor") -> str:
    """Return the Scenario field a factor name (alias or field name) refers to."""
    name = FACTOR_ALIASES.get(factor, factor)
    if name not in FIELDS:
        allowed = ", ".join(sorted(FACTOR_ALIASES))
        raise InputError(f"unknown factor {factor!r}; use one of {allowed} or any scenario "
                         "parameter name (see docs/ODD.md)", source=source)
    if name in ("start_year", "years"):
        raise InputError(f"{name!r} changes the horizon, not a policy; pick another factor",
                         source=source)
    return name


def _parse_one(name: str, text: str, source: str) -> Any:
    kind = _type_of(FIELDS[name])
    text = text.strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise InputError(f"{name} takes true/false, got {text!r}", source=source)
    if kind is str:
        return text
    try:
        return float(text) if kind is float else int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{name} takes numbers, got {text!r}", source=source) from None
        return number


def parse_values(factor: str, text: str, source: str = "--values") -> tuple[Any, ...]:
    """Parse ``"0,3,5"`` into validated values of ``factor`` (a Scenario field name).

    Raises
    ------
    InputError
        One line naming the bad value and what is allowed.
    """
    parts = [p for p in text.split(",")]
    if not text.strip() or any(not p.strip() for p in parts):
        raise InputError(f"give comma-separated values, e.g. 0,3,5; got {text!r}",
                         source=source)
    return _check_values(factor, [_parse_one(factor, p, source) for p in parts], source)


def _check_values(name: str, values: Sequence[Any], source: str) -> tuple[Any, ...]:
    if len(values) == 0:
        raise InputError("give at least one value", source=source)
    checked = tuple(check_value(name, v, source) for v in values)
    if len(set(checked)) != len(checked):
        raise InputError(f"values repeat: {', '.join(map(str, values))}", source=source)
    return checked


def value_label(name: str, value: Any) -> str:
    """Short legend label, e.g. ``'3 years'``, ``'cost_led'``, ``'mentoring on'``."""
    unit = FIELDS[name].metadata["unit"] if name in FIELDS else ""
    if isinstance(value, bool | np.bool_):
        return f"{'with' if value else 'without'} {name.replace('_', ' ')}"
    if isinstance(value, str):
        return value.replace("_", "-")
    if unit in ("level", "switch", "preset", "", None):
        return f"{value:g}"
    return f"{value:g} {unit}"


def axis_label(name: str) -> str:
    """Axis title with unit, e.g. ``'Protected initial contract (years)'``."""
    meta = FIELDS[name].metadata if name in FIELDS else {}
    title = DISPLAY_NAMES.get(name, name.replace("_", " ").capitalize())
    unit = meta.get("unit")
    return f"{title} ({unit})" if unit and unit not in ("preset", "switch") else title


def income_share_band(panel: pd.DataFrame, column: str = "mean_parent_income_share",
                      low: float = 0.10, high: float = 0.90) -> pd.DataFrame:
    """Mean and 10-90% band across replications of a panel column, by calendar year.

    Years where a replication has no mutual trading (NaN) are left out of that year's
    statistics, never filled in; ``replications_without_mutuals`` says how many were left
    out of each year (``replications_with_mutuals`` how many remain).
    """
    grouped = panel.groupby("year")[column]
    kept = grouped.count().to_numpy()
    return pd.DataFrame({
        "year": np.asarray(list(grouped.groups), dtype=np.int64),
        "mean": grouped.mean().to_numpy(),
        "low": grouped.quantile(low).to_numpy(),
        "high": grouped.quantile(high).to_numpy(),
        "replications_with_mutuals": kept,
        "replications_without_mutuals": grouped.size().to_numpy() - kept,
    })


def _safe(fn: Callable[[], Estimate]) -> Estimate:
    """An estimate, or NaNs where it is undefined (e.g. beyond follow-up)."""
    try:
        return fn()
    except ValueError:
        return _NO_ESTIMATE


@dataclass
class Group:
    """What is kept of one simulated value: counts and an income-share band."""

    value: Any
    label: str
    counts: SurvivalCounts
    spinouts: int
    replications: int
    income_share: pd.DataFrame | None = None
    origin: str = "spinout"

    def km(self) -> pd.DataFrame:
        return kaplan_meier(counts=self.counts)

    def hazard(self) -> pd.DataFrame:
        return hazard(counts=self.counts)

    def incidence(self) -> pd.DataFrame:
        return cumulative_incidence(counts=self.counts, cause_names=cause_names(self.origin))

    def survival_at(self, t: int) -> Estimate:
        """S(t) with the Kaplan-Meier (log-log) band, as
        :func:`mutualsim.survival.survival_estimates_at` gives it (NaN where unknown)."""
        return survival_estimates_at(self.counts, [t])[t]


@dataclass
class Comparison:
    """Survival summaries per value of one factor, the first value being the reference.

    Attributes
    ----------
    factor : str
        Scenario field that was varied (or a description, for a sweep).
    groups : list of Group
        One per value, in the order given.
    scenario : Scenario or None
        The base scenario (None for a sweep with several bases).
    replications, seed : int or None
    elapsed : float
        Seconds spent simulating.
    origin : str
        Where survival time starts: ``"spinout"`` or ``"incubation"`` (the start of the
        at-risk period: Teckal incubation if incubated, else spin-out; a take-back is then
        a failure).
    """

    factor: str
    groups: list[Group]
    scenario: Scenario | None = None
    replications: int | None = None
    seed: int | None = None
    elapsed: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = "spinout"

    @property
    def values(self) -> list[Any]:
        return [g.value for g in self.groups]

    @property
    def labels(self) -> list[str]:
        return [g.label for g in self.groups]

    def table(self) -> pd.DataFrame:
        """One row per value: S(5/10/15), median, RMST(15) with CIs; differences vs first.

        Differences and log-rank are against the first value; its own differences are 0
        by definition (CIs left blank). Difference CIs treat the groups as independent,
        which is conservative (too wide) under common random numbers.
        """
        ref = self.groups[0].counts
        rows = []
        for i, g in enumerate(self.groups):
            row: dict[str, Any] = {"value": g.value, "label": g.label,
                                   "origin": g.origin,
                                   "replications": g.replications, "spinouts": g.spinouts}
            for t in HORIZONS:
                e = g.survival_at(t)
                row |= {f"S{t}": e.estimate, f"S{t}_low": e.ci_low, f"S{t}_high": e.ci_high}
            m = _safe(lambda g=g: median_survival(counts=g.counts))
            row |= {"median": m.estimate, "median_low": m.ci_low, "median_high": m.ci_high}
            r = _safe(lambda g=g: rmst(counts=g.counts, tau=TAU))
            row |= {f"rmst{TAU}": r.estimate, f"rmst{TAU}_low": r.ci_low,
                    f"rmst{TAU}_high": r.ci_high}
            if i == 0:
                d_s = d_r = Estimate(0.0, 0.0, float("nan"), float("nan"))
                chisq = pvalue = float("nan")
            else:
                d_s = _safe(lambda g=g: survival_difference(g.counts, ref, 10))
                d_r = _safe(lambda g=g: rmst_difference(g.counts, ref, TAU))
                try:
                    lr = logrank(counts=[ref, g.counts])
                    chisq, pvalue = lr.chisq, lr.pvalue
                except ValueError:
                    chisq = pvalue = float("nan")
            row |= {"dS10": d_s.estimate, "dS10_low": d_s.ci_low, "dS10_high": d_s.ci_high,
                    f"drmst{TAU}": d_r.estimate, f"drmst{TAU}_low": d_r.ci_low,
                    f"drmst{TAU}_high": d_r.ci_high,
                    "logrank_chisq": chisq, "logrank_p": pvalue}
            rows.append(row)
        return pd.DataFrame(rows)

    def income_share_table(self) -> pd.DataFrame:
        """Long table of every group's :func:`income_share_band` with ``value, label``.

        ``replications_without_mutuals`` counts the replications left out of a year
        because no mutual traded in them (their share is undefined, not zero).
        """
        frames = [g.income_share.assign(value=g.value, label=g.label)
                  for g in self.groups if g.income_share is not None]
        if not frames:
            return pd.DataFrame(columns=["value", "label", "year", "mean", "low", "high",
                                         "replications_with_mutuals",
                                         "replications_without_mutuals"])
        table = pd.concat(frames, ignore_index=True)
        first = ["value", "label"]
        return table[first + [c for c in table.columns if c not in first]]

    def survival_at_table(self) -> pd.DataFrame:
        """Long table ``value, t, survival, ci_low, ci_high`` for the S(t)-vs-factor plot."""
        rows = []
        for g in self.groups:
            for t in HORIZONS:
                e = g.survival_at(t)
                rows.append({"value": g.value, "label": g.label, "t": t,
                             "survival": e.estimate, "ci_low": e.ci_low,
                             "ci_high": e.ci_high})
        return pd.DataFrame(rows)


def summarise(results: Results, value: Any, label: str, max_time: int,
              origin: str = "spinout") -> Group:
    """Reduce one value's Results to a :class:`Group` (the histories are then dropped);
    survival time starts at ``origin`` (see :meth:`SurvivalCounts.from_histories`)."""
    counts = SurvivalCounts.from_histories(results.histories, max_time, origin=origin)
    return Group(value=value, label=label, counts=counts, spinouts=counts.n,
                 replications=int(results.panel["replication"].nunique()),
                 income_share=income_share_band(results.panel), origin=origin)


def simulate_group(scenario: Scenario, value: Any, label: str, replications: int,
                   seed: int, max_time: int, progress: bool = False,
                   origin: str = "spinout") -> Group:
    """Simulate one value block by block and keep only its :class:`Group` (the same as
    :func:`summarise` of :func:`mutualsim.simulate`'s Results; survival time starts at
    ``origin``): survival counts are counted straight from each block's state
    (:func:`mutualsim.simulate.block_counts`) and summed over blocks; the kernel records
    only the light panel the income-share band reads, builds no histories table, and
    computes the next block while this one is tabulated
    (:func:`mutualsim.simulate.simulate_blocks`)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=replications * scenario.years, unit="rep-yr", desc="simulating",
                   dynamic_ncols=True)
    counts, panels = None, []
    try:
        for block in simulate_blocks(scenario, replications, seed, light=True,
                                     on_year=bar.update if bar is not None else None):
            these = block_counts(block, scenario, max_time, origin)
            counts = these if counts is None else counts + these
            panels.append(panel_frame(block, scenario))
    finally:
        if bar is not None:
            bar.close()
    assert counts is not None  # replications >= 1 (checked by simulate_blocks)
    panel = pd.concat(panels, ignore_index=True)
    return Group(value=value, label=label, counts=counts, spinouts=counts.n,
                 replications=int(panel["replication"].nunique()),
                 income_share=income_share_band(panel), origin=origin)


def compare(scenario: Scenario | None = None, factor: str = "protection_years",
            values: Sequence[Any] = (0, 3, 5, 7, 15), replications: int | None = None,
            seed: int = 0, *, progress: bool = False,
            origin: str | None = None, uncertainty: str = "none", draws: int | None = None,
            posterior: Any = None) -> Any:
    """Simulate ``scenario`` once per value of ``factor`` with the same seed.

    With ``uncertainty="posterior"`` this is
    :func:`mutualsim.analysis.uncertainty.compare_posterior` (every value over ``draws``
    posterior draws x ``replications`` per draw, paired across values) and returns its
    ``PosteriorComparison``; the default ``"none"`` runs the one parameter set below.

    Parameters
    ----------
    scenario : Scenario, optional
        Base scenario (default: the baseline).
    factor : str
        A short name (protection, incubation, style, support, mentoring, lots,
        austerity) or any Scenario field name.
    values : sequence
        Values of the factor; the first is the reference for differences.
    replications : int, optional
        Replications per value (default 1,000; with ``uncertainty="posterior"`` per draw
        and value, default 50).
    seed : int
        Experiment seed, shared by every value (common random numbers).
    progress : bool
        Show a progress bar per value on stderr.
    origin : {"spinout", "incubation"}, optional
        Where survival time starts; default :func:`default_origin` (the start of
        incubation for the incubation factor, so that incubation years count as time at
        risk and a take-back as a failure; spin-out otherwise).

    uncertainty : {"none", "posterior"}
        ``"posterior"``: run over the calibrated posterior (see above).
    draws, posterior
        Only with ``uncertainty="posterior"``: posterior draws (default 40) and the
        posterior (a ``Posterior``, a file, or None for the shipped one).

    Returns
    -------
    Comparison (or PosteriorComparison with ``uncertainty="posterior"``)

    Raises
    ------
    InputError
        For an unknown factor, a bad value, or a bad replication count or seed.
    """
    from .uncertainty import (
        DEFAULT_DRAW_REPLICATIONS,
        DEFAULT_DRAWS,
        check_uncertainty,
        compare_posterior,
    )
    if check_uncertainty(uncertainty, "uncertainty") == "posterior":
        return compare_posterior(
            scenario, factor, values,
            DEFAULT_DRAW_REPLICATIONS if replications is None else replications, seed,
            draws=DEFAULT_DRAWS if draws is None else draws, posterior=posterior,
            progress=progress, origin=origin)
    if draws is not None or posterior is not None:
        raise InputError("draws and posterior apply only with uncertainty='posterior'",
                         source="uncertainty")
    replications = 1000 if replications is None else replications
    scenario = scenario if scenario is not None else Scenario()
    name = resolve_factor(factor, source="factor")
    origin = check_origin(default_origin(name) if origin is None else origin, "origin")
    checked = _check_values(name, list(values), source="values")
    variants = [scenario.replace(**{name: v}) for v in checked]  # validate all first
    groups = []
    start = time.perf_counter()
    for i, (value, variant) in enumerate(zip(checked, variants, strict=True)):
        if progress:
            sys.stderr.write(f"{name} = {value} ({i + 1}/{len(checked)})\n")
        groups.append(simulate_group(variant, value, value_label(name, value),
                                     replications, seed, scenario.years, progress, origin))
    return Comparison(factor=name, groups=groups, scenario=scenario,
                      replications=replications, seed=seed,
                      elapsed=time.perf_counter() - start, origin=origin)
