"""Posterior-predictive policy comparisons, paired across policies.

Every policy value runs over the same ``draws`` parameter sets drawn (with their weights,
from a fixed seed) from the calibrated posterior (:mod:`mutualsim.evidence.posterior`),
``replications`` times each. Replication streams are paired across policies: draw ``d``
uses replication indices ``(d + 1) R ... (d + 2) R - 1`` of the experiment seed under every
policy value, so the same draw index and replication index give the same random numbers
whatever the policy (common random numbers). Indices ``0 ... R - 1`` are the single-parameter
run of the base scenario (exactly ``compare --uncertainty none -n R``), shown beside it.

The estimator, and why. For draw ``d`` (parameter set theta_d) and policy ``v`` the
Kaplan-Meier estimate from that draw's R replications, ``S_dv(t)`` (and RMST), is
``S_v(t; theta_d) + e_dv``: the model's survival under theta_d plus Monte Carlo error of
R replications (the luck of R simulated Englands). Across draws its spread is therefore
``Var_theta S_v(t; theta) + E[var e_dv]``: parameter uncertainty (theta from the posterior)
plus stochastic uncertainty. The reported median and 90% interval are the 50%, 5% and 95%
quantiles of ``S_dv`` over draws: a posterior-predictive interval for the KM estimate a
replication-sized study of the modelled system would produce. Adding a further Greenwood
term would count the stochastic part twice. Differences are taken draw by draw,
``D_dv = S_dv - S_d,ref`` (same theta, same streams), so what is shared by the two policies
(parameter values and luck) cancels and only the policy effect and its interaction with
theta remain; P(policy beats reference) is the share of draws with ``D_dv > 0`` (ties count
half). The unpaired alternative (independent draws for each policy, e.g. comparing the two
marginal intervals) would add both policies' full parameter spread to the difference:
:func:`unpaired_interval` computes it for comparison.

A draw whose estimate is undefined (no spin-out, or S(t) beyond follow-up) is left out of
that measure's quantiles and counted (``missing``), never filled in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..evidence.posterior import draw_replications
from ..params import Scenario
from ..simulate import block_counts, simulate_blocks
from ..survival import SurvivalCounts, rmst, survival_estimates_at
from .compare import (
    HORIZONS,
    TAU,
    Comparison,
    _check_values,
    check_origin,
    compare,
    default_origin,
    resolve_factor,
    value_label,
)

__all__ = ["DEFAULT_DRAWS", "DEFAULT_DRAW_REPLICATIONS", "LEVEL", "MEASURES",
           "UNCERTAINTIES", "PosteriorComparison", "check_uncertainty", "compare_posterior",
           "unpaired_interval"]

UNCERTAINTIES = ("posterior", "none")
#: Posterior draws and replications per draw of the default posterior run: 40 x 50 = 2,000
#: replications per value (plus 50 for the single-parameter run), about 2x the work of the
#: default single-parameter compare (1,000 per value); benchmarks/uncertainty.py times it.
DEFAULT_DRAWS = 40
DEFAULT_DRAW_REPLICATIONS = 50
#: Central interval reported (5% to 95% quantiles across draws).
LEVEL = 0.90
MEASURES: tuple[str, ...] = (*(f"S{t}" for t in HORIZONS), f"rmst{TAU}")


def check_uncertainty(kind: str, source: str = "--uncertainty") -> str:
    """``kind`` if it is one of :data:`UNCERTAINTIES`, else InputError."""
    if kind not in UNCERTAINTIES:
        raise InputError(f"must be one of {', '.join(UNCERTAINTIES)}; got {kind!r}",
                         source=source)
    return kind


def check_count(n: Any, source: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"must be a whole number >= 1, got {n!r}", source=source)
    return int(n)


def estimates(counts: SurvivalCounts) -> dict[str, float]:
    """S(t) at :data:`HORIZONS` and RMST(TAU) of one draw's counts (NaN if undefined)."""
    out = {f"S{t}": e.estimate for t, e in survival_estimates_at(counts, HORIZONS).items()}
    try:
        out[f"rmst{TAU}"] = rmst(counts=counts, tau=TAU).estimate if counts.n else np.nan
    except ValueError:
        out[f"rmst{TAU}"] = np.nan
    return out


def draw_counts(scenario: Scenario, replications: np.ndarray, seed: int, max_time: int,
                origin: str) -> SurvivalCounts:
    """Survival counts of ``scenario`` over the given replication indices (no panel kept)."""
    counts = None
    for block in simulate_blocks(scenario, replications, seed, light=True):
        c = block_counts(block, scenario, max_time, origin)
        counts = c if counts is None else counts + c
    assert counts is not None
    return counts


def _quantiles(x: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan, np.nan, np.nan)
    lo, mid, hi = np.quantile(x, [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(mid), float(lo), float(hi)


def _p_better(d: np.ndarray) -> float:
    d = d[np.isfinite(d)]
    if d.size == 0:
        return np.nan
    return float((d > 0).mean() + 0.5 * (d == 0).mean())


def unpaired_interval(a: np.ndarray, b: np.ndarray, level: float = LEVEL
                      ) -> tuple[float, float, float]:
    """Median and central ``level`` interval of ``a_i - b_j`` over all pairs ``i != j``:
    the difference as it would be computed without pairing draws (independent parameter
    sets and streams for the two policies)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a[:, None] - b[None, :]
    mask = ~np.eye(len(a), len(b), dtype=bool)
    return _quantiles(diff[mask], level)


@dataclass
class PosteriorComparison:
    """Per-draw estimates of every policy value and their posterior summaries.

    Attributes
    ----------
    factor : str
        Scenario field varied.
    values, labels : list
        Policy values (the first is the reference) and their labels.
    draws : DataFrame
        Long table: ``draw, row`` (posterior row), ``value_index, value, label,
        spinouts`` and one column per :data:`MEASURES`.
    single : Comparison
        The single-parameter run (base scenario, replications ``0 ... R - 1``): its KM
        intervals are shown beside the posterior ones, and its figures are the report's.
    """

    factor: str
    values: list[Any]
    labels: list[str]
    draws: pd.DataFrame
    single: Comparison
    n_draws: int
    replications: int
    seed: int
    origin: str
    posterior: str = ""
    posterior_label: str = ""
    level: float = LEVEL
    elapsed: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def matrix(self, measure: str) -> np.ndarray:
        """Estimates of ``measure``, shape (draws, values)."""
        wide = self.draws.pivot(index="draw", columns="value_index", values=measure)
        return wide.reindex(columns=range(len(self.values))).to_numpy(float)

    def table(self) -> pd.DataFrame:
        """One row per value: for every measure ``m`` of :data:`MEASURES`, ``m`` (posterior
        median), ``m_low``/``m_high`` (5-95%), ``m_missing`` (draws without an estimate),
        ``dm``/``dm_low``/``dm_high`` (paired difference to the first value),
        ``p_better_m``, and ``single_m``/``single_m_low``/``single_m_high`` (the
        single-parameter KM estimate and 95% CI)."""
        single = self.single.table()
        rows = []
        for j, (value, label) in enumerate(zip(self.values, self.labels, strict=True)):
            row: dict[str, Any] = {"value": value, "label": label, "origin": self.origin,
                                   "draws": self.n_draws,
                                   "replications_per_draw": self.replications}
            for m in MEASURES:
                x = self.matrix(m)
                mid, lo, hi = _quantiles(x[:, j], self.level)
                d = x[:, j] - x[:, 0]
                dmid, dlo, dhi = _quantiles(d, self.level)
                row |= {m: mid, f"{m}_low": lo, f"{m}_high": hi,
                        f"{m}_missing": int((~np.isfinite(x[:, j])).sum()),
                        f"d{m}": dmid, f"d{m}_low": dlo, f"d{m}_high": dhi,
                        f"p_better_{m}": np.nan if j == 0 else _p_better(d),
                        f"single_{m}": single.loc[j, m],
                        f"single_{m}_low": single.loc[j, f"{m}_low"],
                        f"single_{m}_high": single.loc[j, f"{m}_high"]}
            rows.append(row)
        return pd.DataFrame(rows)

    def unpaired(self, measure: str = "S10") -> pd.DataFrame:
        """Per value: paired and unpaired difference intervals of ``measure``."""
        x = self.matrix(measure)
        rows = []
        for j in range(1, len(self.values)):
            p = _quantiles(x[:, j] - x[:, 0], self.level)
            u = unpaired_interval(x[:, j], x[:, 0], self.level)
            rows.append({"value": self.values[j], "paired_low": p[1], "paired_high": p[2],
                         "unpaired_low": u[1], "unpaired_high": u[2]})
        return pd.DataFrame(rows)


def compare_posterior(scenario: Scenario | None = None, factor: str = "protection_years",
                      values: Sequence[Any] = (0, 3, 5, 7, 15),
                      replications: int = DEFAULT_DRAW_REPLICATIONS, seed: int = 0, *,
                      draws: int = DEFAULT_DRAWS, posterior: Any = None,
                      progress: bool = False, origin: str | None = None,
                      level: float = LEVEL) -> PosteriorComparison:
    """Run every value of ``factor`` over ``draws`` posterior draws x ``replications``.

    Parameters
    ----------
    scenario : Scenario, optional
        Base scenario (default: the baseline); each draw replaces the posterior's
        parameters in it, then the policy value replaces ``factor``.
    factor, values, origin
        As :func:`mutualsim.analysis.compare.compare`; the first value is the reference.
    replications : int
        Replications per draw (and of the single-parameter run).
    seed : int
        Experiment seed: fixes the draws and every replication stream.
    draws : int
        Posterior draws (with replacement, in proportion to the weights).
    posterior : Posterior, path or None
        Default: the shipped ``posterior.csv`` (:func:`mutualsim.evidence.posterior.
        load_posterior`): the accepted set of the shipped calibration, whose targets are
        seed 004's counts of local-authority mutuals and ONS Business Demography 2012's
        5-year survival (docs/CALIBRATION.md).

    Raises
    ------
    InputError
        Bad factor, value, count, seed or posterior file; every scenario is built (and so
        checked) before any simulation.
    """
    from ..evidence.posterior import Posterior, load_posterior

    scenario = scenario if scenario is not None else Scenario()
    name = resolve_factor(factor, source="factor")
    origin = check_origin(default_origin(name) if origin is None else origin, "origin")
    checked = _check_values(name, list(values), source="values")
    replications = check_count(replications, "replications")
    draws = check_count(draws, "draws")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", source="seed")
    if not 0 < level < 1:
        raise InputError(f"must be in (0, 1), got {level!r}", source="level")
    post = posterior if isinstance(posterior, Posterior) else load_posterior(posterior)
    rows = post.draw(draws, seed)
    # Build (and so validate) every scenario before any simulation.
    arms = [[post.scenario(scenario, int(r)).replace(**{name: v}) for v in checked]
            for r in rows]
    labels = [value_label(name, v) for v in checked]
    start = time.perf_counter()
    single = compare(scenario, name, checked, replications, seed, origin=origin)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=draws * len(checked), unit="run", desc="posterior draws",
                   dynamic_ncols=True)
    records = []
    try:
        for d, (r, variants) in enumerate(zip(rows, arms, strict=True)):
            idx = draw_replications(d, replications)
            for j, variant in enumerate(variants):
                counts = draw_counts(variant, idx, seed, variant.years, origin)
                records.append({"draw": d, "row": int(r), "value_index": j,
                                "value": checked[j], "label": labels[j],
                                "spinouts": counts.n} | estimates(counts))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return PosteriorComparison(
        factor=name, values=list(checked), labels=labels, draws=pd.DataFrame(records),
        single=single, n_draws=draws, replications=replications, seed=int(seed),
        origin=origin, posterior=post.source, posterior_label=post.label, level=level,
        elapsed=time.perf_counter() - start)
