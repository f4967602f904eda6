"""Median survival time, with a confidence interval read off the Kaplan–Meier band.

The median is the natural headline ("half of spun-out mutuals are gone after m years"),
and inverting the pointwise band (Brookmeyer & Crowley, 1982; as in R's
``quantile.survfit``) needs no resampling, so it stays O(T) on counts.
"""

from __future__ import annotations

import numpy as np

from ._common import Estimate, require_observations, resolve_counts, z_value
from .counts import SurvivalCounts
from .kaplan_meier import bands, greenwood

__all__ = ["median_survival"]


def _first_at_or_below(curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve <= level)
    return float(hit[0]) if hit.size else np.nan


def median_survival(
    durations=None,
    events=None,
    *,
    counts: SurvivalCounts | None = None,
    ci: str = "log-log",
    alpha: float = 0.05,
) -> Estimate:
    """Median survival: the first year t with S(t) <= 0.5, with a band-inversion CI.

    Parameters
    ----------
    durations, events : array_like, optional
        As for :func:`~mutualsim.survival.kaplan_meier`.
    counts : SurvivalCounts, optional
        Pre-tabulated counts instead of raw arrays.
    ci : {"log-log", "linear"}
        Which Kaplan–Meier band to invert.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    Estimate
        ``estimate`` = median (NaN if S never falls to 0.5: "not reached");
        ``ci_low`` = first year the *lower* band is <= 0.5; ``ci_high`` = first year the
        *upper* band is <= 0.5 (NaN if that is beyond follow-up); ``se`` =
        ``(ci_high - ci_low) / (2 z)``, a normal-approximation back-calculation used for
        median differences (NaN whenever a limit is NaN).

    Notes
    -----
    Where the band is undefined (NaN where S is 0 or 1, see ``kaplan_meier``) it is taken
    to equal S itself. With whole-year data the median is an integer and no mid-point
    rule is applied when S(t) == 0.5 exactly: the first such year is returned.
    """
    counts = resolve_counts(durations, events, counts)
    require_observations(counts)
    survival, g = greenwood(counts)
    low, high = bands(survival, g, counts, ci, alpha)
    low = np.where(np.isnan(low), survival, low)
    high = np.where(np.isnan(high), survival, high)
    median = _first_at_or_below(survival, 0.5)
    lower = _first_at_or_below(low, 0.5)
    upper = _first_at_or_below(high, 0.5)
    se = (upper - lower) / (2 * z_value(alpha))
    return Estimate(median, se, lower, upper)
