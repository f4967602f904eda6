"""Discrete-time hazard per year and the Nelson–Aalen cumulative hazard.

The yearly hazard answers "of the mutuals still trading at year t, what share exit that
year?", which shows *when* risk concentrates (e.g. the end of a contract protection
period) far more directly than the survival curve does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import require_observations, resolve_counts, z_value
from .counts import SurvivalCounts

__all__ = ["hazard", "nelson_aalen"]


def hazard(
    durations=None,
    events=None,
    *,
    counts: SurvivalCounts | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per-year discrete hazard ``h(t) = events(t) / at_risk(t)`` with a Wilson interval.

    Parameters
    ----------
    durations, events : array_like, optional
        As for :func:`~mutualsim.survival.kaplan_meier`.
    counts : SurvivalCounts, optional
        Pre-tabulated counts instead of raw arrays.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    pandas.DataFrame
        Columns ``time, at_risk, events, hazard, ci_low, ci_high``; NaN where nobody is
        at risk.

    Notes
    -----
    Given ``n`` at risk, the exits in a year are binomial(n, h). The Wilson score
    interval is used rather than Wald because yearly counts can be small and h near 0,
    where Wald collapses to a zero-width interval.
    """
    counts = resolve_counts(durations, events, counts)
    require_observations(counts)
    n = counts.at_risk.astype(np.float64)
    d = counts.events.astype(np.float64)
    z = z_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = d / n
        centre = (h + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(h * (1 - h) / n + z**2 / (4 * n**2))
    return pd.DataFrame(
        {
            "time": counts.times,
            "at_risk": counts.at_risk,
            "events": counts.events,
            "hazard": h,
            "ci_low": np.clip(centre - half, 0, 1),
            "ci_high": np.clip(centre + half, 0, 1),
        }
    )


def nelson_aalen(
    durations=None,
    events=None,
    *,
    counts: SurvivalCounts | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Nelson–Aalen cumulative hazard ``H(t) = sum_{s <= t} d_s / n_s`` with variance.

    Parameters
    ----------
    durations, events : array_like, optional
        As for :func:`~mutualsim.survival.kaplan_meier`.
    counts : SurvivalCounts, optional
        Pre-tabulated counts instead of raw arrays.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    pandas.DataFrame
        Columns ``time, at_risk, events, cumhaz, variance, ci_low, ci_high``.

    Notes
    -----
    Exits are heavily tied in whole years, so the variance uses the binomial
    (discrete-time) form ``sum d_s (n_s - d_s) / n_s^3`` (lifelines' "discrete"
    variance) rather than the Poisson ``sum d_s / n_s^2``. The interval is
    log-transformed, ``H exp(± z se / H)``, so it stays positive; it is [0, 0] while
    H = 0. Years with nobody at risk add nothing.
    """
    counts = resolve_counts(durations, events, counts)
    require_observations(counts)
    n = counts.at_risk.astype(np.float64)
    d = counts.events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(n > 0, d / n, 0.0)
        step_var = np.where(n > 0, d * (n - d) / n**3, 0.0)
    cumhaz = np.cumsum(step)
    var = np.cumsum(step_var)
    z = z_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.exp(z * np.sqrt(var) / cumhaz)
    positive = cumhaz > 0
    return pd.DataFrame(
        {
            "time": counts.times,
            "at_risk": counts.at_risk,
            "events": counts.events,
            "cumhaz": cumhaz,
            "variance": var,
            "ci_low": np.where(positive, cumhaz / factor, 0.0),
            "ci_high": np.where(positive, cumhaz * factor, 0.0),
        }
    )
