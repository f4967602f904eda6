"""Model outcomes as one flat dict, so any tool (SALib, EMA Workbench, ABC) can drive the model.

``run_model(seed, replications, **params)`` is a plain function of keyword parameters that
returns plain floats: researchers can pass it to EMA Workbench's ``Model(function=...)`` or
call it inside a SALib loop without knowing about ``Scenario`` or ``Results``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import Scenario
from ..simulate import simulate
from ..survival import SurvivalCounts, survival_at
from ..survival.rmst import rmst_parts

SURVIVAL_TIMES = (5, 10, 15)
RMST_TAU = 15  # years: restricted mean survival time over the first 15 years of trading
OUTCOMES = (
    "S5", "S10", "S15", "RMST15",
    "spinouts_2010", "trading_2010", "trading_2011", "trading_2012", "trading_2014",
    "trading_2018", "councils_exploring_2012", "spinouts_per_replication", "reactive_share",
    "parent_income_share", "council_spend", "step_in_cost", "tender_win_rate",
    "surplus_share_2017", "income_growth_2017",
)
OUTCOME_UNITS = {
    "S5": "share", "S10": "share", "S15": "share", "RMST15": "years",
    "spinouts_2010": "mutuals per replication", "trading_2010": "mutuals per replication",
    "trading_2011": "mutuals per replication", "trading_2012": "mutuals per replication",
    "trading_2014": "mutuals per replication", "trading_2018": "mutuals per replication",
    "councils_exploring_2012": "councils per replication",
    "spinouts_per_replication": "mutuals", "reactive_share": "share",
    "parent_income_share": "share of income", "council_spend": "GBP m/year",
    "step_in_cost": "GBP m/year", "tender_win_rate": "share of tenders",
    "surplus_share_2017": "share of trading mutuals",
    "income_growth_2017": "x baseline value at spin-out",
}


def _rmst(counts: SurvivalCounts, tau: int) -> float:
    """Area under the Kaplan-Meier curve on [0, tau] (``survival.rmst``); missing (NaN),
    like S(tau), when there is no spin-out or the follow-up ends before ``tau``."""
    if not np.isfinite(survival_at(counts, (tau,))[tau]):
        return float("nan")
    return float(rmst_parts(counts, tau)[0])


def outcomes_from(histories: pd.DataFrame, panel: pd.DataFrame,
                  scenario: Scenario) -> dict[str, float]:
    """Outcomes of one scenario's replications (histories and panel as ``simulate`` gives)."""
    reps = max(int(panel["replication"].nunique()), 1)
    spun = histories[histories["spinout_year"].notna()]
    counts = SurvivalCounts.from_histories(histories, max_time=scenario.years)
    s5, s10, s15 = survival_at(counts, SURVIVAL_TIMES).values()
    rmst15 = _rmst(counts, RMST_TAU) if np.isfinite(s15) else float("nan")
    y0 = scenario.start_year
    by_year = panel.groupby("year")

    def year_mean(column: str, year: int) -> float:
        if year not in by_year.groups:
            return float("nan")
        return float(by_year.get_group(year)[column].mean())

    explored = histories[histories["proposal_year"] <= y0 + 2]
    councils = explored.groupby("replication")["council_id"].nunique()
    last = panel[panel["year"] == scenario.end_year]
    trading = last["mutuals_trading"].to_numpy(float)
    share = last["mean_parent_income_share"].to_numpy(float)
    ok = trading > 0
    tenders = float(panel["tenders"].sum())

    def over_trading(column: str, year: int, *, is_mean: bool) -> float:
        # Pooled over every trading mutual of the year's replications: a count column is
        # summed, a per-replication mean is weighted by its count; nan with none trading.
        rows = panel[panel["year"] == year]
        n = rows["mutuals_trading"].to_numpy(float)
        v = rows[column].to_numpy(float)
        ok = n > 0
        if not ok.any():
            return float("nan")
        return float((v[ok] * n[ok] if is_mean else v[ok]).sum() / n[ok].sum())

    return {
        "S5": s5, "S10": s10, "S15": s15, "RMST15": rmst15,
        "spinouts_2010": year_mean("spinouts", y0),
        "trading_2010": year_mean("mutuals_trading", y0),
        "trading_2011": year_mean("mutuals_trading", y0 + 1),
        "trading_2012": year_mean("mutuals_trading", y0 + 2),
        # Out-of-time test only (docs/VALIDATION.md): never a calibration target.
        "trading_2014": year_mean("mutuals_trading", y0 + 4),
        "trading_2018": year_mean("mutuals_trading", y0 + 8),
        "councils_exploring_2012": float(councils.sum()) / reps,
        "spinouts_per_replication": len(spun) / reps,
        "reactive_share": float((spun["origin"] == "reactive").mean()) if len(spun) else np.nan,
        "parent_income_share": float((share[ok] * trading[ok]).sum() / trading[ok].sum())
        if ok.any() else float("nan"),
        "council_spend": float(panel["council_spend"].mean()),
        "step_in_cost": float(panel["step_in_cost"].mean()),
        "tender_win_rate": float(panel["mutual_tender_wins"].sum()) / tenders
        if tenders else float("nan"),
        # Out-of-time test only (docs/VALIDATION.md): SEUK's 2018 survey of the sector.
        "surplus_share_2017": over_trading("mutuals_in_surplus", y0 + 7, is_mean=False),
        "income_growth_2017": over_trading("mean_income_growth", y0 + 7, is_mean=True),
    }


def run_model(seed: int = 0, replications: int = 20, *, uncertainty: str = "none",
              draws: int | None = None, posterior: Any = None,
              **params: Any) -> dict[str, float]:
    """Simulate ``Scenario(**params)`` and return its outcomes (see ``OUTCOMES``).

    Unknown or out-of-range parameters raise ``InputError`` (the model's own validation).

    Parameters
    ----------
    seed, replications : int
        Experiment seed and replications (per posterior draw with ``"posterior"``).
    uncertainty : {"none", "posterior"}
        ``"none"`` (the default): one parameter set, ``Scenario(**params)``, and one float
        per outcome. It stays the default because ``run_model`` is the model function of
        the SALib and EMA Workbench wrappers (:mod:`mutualsim.evidence.bridges`,
        ``mutualsim sensitivity``), whose factors are the parameters themselves: drawing
        them from the posterior underneath would overwrite the very values those tools
        vary and mix parameter uncertainty into their indices. ``"posterior"``: run
        ``draws`` parameter sets drawn (with their weights, from ``seed``) from the
        calibrated posterior, each over ``replications`` replications paired as
        ``compare --uncertainty posterior`` pairs them (draw ``d`` uses replication indices
        ``(d + 1) R ... (d + 2) R - 1``); the keyword ``params`` override the draw's values
        (they are the levers a caller sets). Each outcome ``x`` is then the posterior
        median across draws, with ``x_q05`` and ``x_q95`` (5% and 95% quantiles: a 90%
        interval carrying parameter and stochastic uncertainty, as in
        :mod:`mutualsim.analysis.uncertainty`) and ``x_missing`` (draws where ``x`` is
        undefined, left out of the quantiles, never filled in). Cost: ``draws`` times the
        replications of ``"none"`` (default 40 draws).
    draws : int, optional
        Posterior draws (default 40); only with ``uncertainty="posterior"``.
    posterior : Posterior, path or None
        Default: the shipped ``posterior.csv`` (docs/CALIBRATION.md); only with
        ``uncertainty="posterior"``.
    """
    from ..analysis.uncertainty import check_uncertainty
    if check_uncertainty(uncertainty, "uncertainty") == "none":
        if draws is not None or posterior is not None:
            raise InputError("draws and posterior apply only with uncertainty='posterior'",
                             source="uncertainty")
        scenario = Scenario().replace(**params)
        res = simulate(scenario, int(replications), seed=int(seed))
        return outcomes_from(res.histories, res.panel, scenario)
    return _posterior_outcomes(seed, replications, draws, posterior, params)


def _posterior_outcomes(seed: int, replications: int, draws: int | None, posterior: Any,
                        params: dict[str, Any]) -> dict[str, float]:
    """``run_model(uncertainty="posterior")``: every scenario built (and so checked)
    before any simulation."""
    from ..analysis.uncertainty import DEFAULT_DRAWS, _quantiles, check_count
    from .posterior import Posterior, draw_replications, load_posterior
    draws = check_count(DEFAULT_DRAWS if draws is None else draws, "draws")
    replications = check_count(replications, "replications")
    post = posterior if isinstance(posterior, Posterior) else load_posterior(posterior)
    base = Scenario().replace(**params)
    scenarios = [post.scenario(base, int(r)).replace(**params)
                 for r in post.draw(draws, int(seed))]
    rows = []
    for d, scenario in enumerate(scenarios):
        res = simulate(scenario, draw_replications(d, replications), seed=int(seed))
        rows.append(outcomes_from(res.histories, res.panel, scenario))
    out: dict[str, float] = {}
    for name in OUTCOMES:
        x = np.array([row[name] for row in rows], dtype=float)
        mid, low, high = _quantiles(x)
        out |= {name: mid, f"{name}_q05": low, f"{name}_q95": high,
                f"{name}_missing": float((~np.isfinite(x)).sum())}
    return out
