"""Kaplan–Meier survival curve with Greenwood confidence bands, exactly as scipy computes them.

The curve and both bands reproduce ``scipy.stats.ecdf(CensoredData(...)).sf`` and its
``confidence_interval(method='linear' | 'log-log')`` value for value, but from per-year
counts (O(T) after an O(n) ``bincount``) instead of a sort (O(n log n)).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._common import Estimate, require_observations, resolve_counts, z_value
from .counts import SurvivalCounts, _as_whole_numbers

__all__ = ["kaplan_meier", "survival_at", "survival_estimates_at"]

CI_METHODS = ("log-log", "linear")


def greenwood(counts: SurvivalCounts) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(S, g)``: the KM curve and Greenwood's cumulative sum per year.

    ``g[t] = sum_{s <= t} d_s / (n_s (n_s - d_s))`` so that ``Var S(t) = S(t)**2 g[t]``.
    Years with no exits contribute exactly 0 (also when nobody is at risk), so the curve
    and the sum are carried forward bit-for-bit, as scipy's step function does. A year in
    which every history at risk exits (``n == d``) contributes ``+inf``.
    """
    n = counts.at_risk.astype(np.float64)
    d = counts.events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, (n - d) / n, 1.0)
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
    return np.cumprod(factor), np.cumsum(term)


def bands(
    survival: np.ndarray, g: np.ndarray, counts: SurvivalCounts, ci: str, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence band around ``survival`` following scipy's formulas and NaN conventions."""
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, got {ci!r}")
    z = z_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ci == "linear":
            se = np.sqrt(survival**2 * g)
            low, high = survival - z * se, survival + z * se
        else:
            se = np.sqrt(1 / np.log(survival) ** 2 * g)
            lnl = np.log(-np.log(survival))
            low = np.exp(-np.exp(lnl + z * se))
            high = np.exp(-np.exp(lnl - z * se))
    # scipy's step function is 1 (band [1, 1]) before its first observed time; only the
    # log-log formula needs telling, as it gives NaN where S == 1.
    seen = np.cumsum(counts.events + counts.censored) > 0
    low = np.where(seen, low, 1.0)
    high = np.where(seen, high, 1.0)
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def kaplan_meier(
    durations=None,
    events=None,
    *,
    counts: SurvivalCounts | None = None,
    ci: str = "log-log",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan–Meier estimate of S(t) = P(T > t) with a pointwise confidence band.

    Parameters
    ----------
    durations : array_like of int, shape (n,), optional
        Whole years since spin-out.
    events : array_like of {0, 1}, shape (n,), optional
        1 = exited, 0 = censored; all ones if omitted.
    counts : SurvivalCounts, optional
        Pre-tabulated counts instead of ``durations``/``events`` (e.g. summed chunks).
    ci : {"log-log", "linear"}
        ``"log-log"``: exponential Greenwood (stays inside [0, 1], better at the tails).
        ``"linear"``: plain Greenwood ``S ± z·se`` clipped to [0, 1].
    alpha : float
        The band has pointwise coverage ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        One row per year ``0..T`` with columns ``time, at_risk, events, censored,
        survival, ci_low, ci_high``.

    Notes
    -----
    ``S(t) = prod_{s <= t} (1 - d_s / n_s)`` and Greenwood's
    ``Var S(t) = S(t)^2 sum_{s <= t} d_s / (n_s (n_s - d_s))``. The values equal scipy's at
    every year, including where the formulas break down (scipy documents these NaNs as
    "a feature of the formula"; we keep them rather than invent values):

    * before the first observed duration: S = 1 and both bands are [1, 1];
    * log-log band where S = 1 after the first observation (only censorings so far):
      NaN, because ``log(-log 1)`` is undefined;
    * from the year where every history at risk exits (S = 0, ``n == d``): NaN in both
      bands (Greenwood's sum is infinite and multiplied by 0);
    * years after the last observation (only with a padded ``max_time``): carried forward.
    """
    counts = resolve_counts(durations, events, counts)
    require_observations(counts)
    survival, g = greenwood(counts)
    low, high = bands(survival, g, counts, ci, alpha)
    return pd.DataFrame(
        {
            "time": counts.times,
            "at_risk": counts.at_risk,
            "events": counts.events,
            "censored": counts.censored,
            "survival": survival,
            "ci_low": low,
            "ci_high": high,
        }
    )


def _times(times: Iterable[int] | int) -> np.ndarray:
    """Whole years ``>= 0`` as an int64 array (a single year gives a 1-element array)."""
    arr = np.atleast_1d(np.asarray(list(times) if not np.isscalar(times) else times))
    return _as_whole_numbers("times", arr)


def determined_survival(
    counts: SurvivalCounts, times: Iterable[int] | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S(t), Greenwood's variance and the index into the curve, NaN where S(t) is unknown.

    This is the one place that decides when S(t) is known (see :func:`survival_at`); the
    effect sizes use it too. Returns ``(survival, variance, index)`` arrays shaped like
    ``times``; ``index`` is the year of the curve the value was read from
    (``min(t, T)``, ``-1`` for empty counts).
    """
    t = _times(times)
    if counts.n == 0:
        nan = np.full(t.shape, np.nan)
        return nan, nan.copy(), np.full(t.shape, -1, dtype=np.int64)
    survival, g = greenwood(counts)
    at_risk = counts.at_risk
    idx = np.minimum(t, counts.max_time)
    s = survival[idx]
    followed = (t <= counts.max_time) & (at_risk[idx] > 0)
    known = followed | (s == 0)
    with np.errstate(invalid="ignore"):
        var = np.where(s > 0, s**2 * g[idx], 0.0)
    return np.where(known, s, np.nan), np.where(known, var, np.nan), idx


def survival_at(counts: SurvivalCounts, times: Iterable[int]) -> dict[int, float]:
    """Kaplan–Meier S(t) = P(T > t), the share still trading t years after spin-out.

    The one definition every report uses (``run``, ``sweep`` summaries, ``compare``, the
    workshop page and ``run_model``).

    Parameters
    ----------
    counts : SurvivalCounts
        Per-year counts, e.g. ``SurvivalCounts.from_histories(results.histories)``.
    times : iterable of int
        Whole years ``t >= 0``.

    Returns
    -------
    dict of int to float
        ``{t: S(t)}`` where

        * ``S(t)`` is the Kaplan–Meier value when some history was followed to ``t``
          (``at_risk(t) > 0``: a mutual censored at ``t`` is known to have traded ``t``
          years);
        * ``0.0`` once every history at risk has exited (the curve reached 0), also
          beyond the longest duration;
        * NaN (printed *n/a*) when follow-up ended before ``t`` for every history still
          at risk, and when there are no histories at all.

    Raises
    ------
    ValueError
        If a time is negative or not a whole number.
    """
    t = _times(times)
    s, _, _ = determined_survival(counts, t)
    return {int(k): float(v) for k, v in zip(t, s, strict=True)}


def survival_estimates_at(
    counts: SurvivalCounts,
    times: Iterable[int],
    *,
    ci: str = "log-log",
    alpha: float = 0.05,
) -> dict[int, Estimate]:
    """:func:`survival_at` with Greenwood standard errors and the Kaplan–Meier band.

    Parameters
    ----------
    counts : SurvivalCounts
    times : iterable of int
        Whole years ``t >= 0``.
    ci : {"log-log", "linear"}
        Band, as in :func:`kaplan_meier`.
    alpha : float
        ``1 - alpha`` pointwise coverage.

    Returns
    -------
    dict of int to Estimate
        ``estimate`` exactly as :func:`survival_at`; ``se = S(t) sqrt(g(t))`` (0 where
        S = 0); ``ci_low``/``ci_high`` the :func:`kaplan_meier` band at ``t`` (NaN where
        S(t) is unknown, and where scipy's formulas give none, e.g. at S = 0).
    """
    t = _times(times)
    s, var, idx = determined_survival(counts, t)
    if counts.n == 0:
        return {int(k): Estimate(np.nan, np.nan, np.nan, np.nan) for k in t}
    survival, g = greenwood(counts)
    low, high = bands(survival, g, counts, ci, alpha)
    out = {}
    for k, sk, vk, i in zip(t, s, var, idx, strict=True):
        known = not np.isnan(sk)
        out[int(k)] = Estimate(
            float(sk),
            float(np.sqrt(vk)),
            float(low[i]) if known else np.nan,
            float(high[i]) if known else np.nan,
        )
    return out
