"""Restricted mean survival time (RMST): expected years trading within the first tau years.

Unlike the median, RMST is defined even when most mutuals survive the horizon, and it
summarises the whole curve up to ``tau`` in the units a policy-maker reads (years).
"""

from __future__ import annotations

import numpy as np

from ._common import Estimate, require_observations, resolve_counts, z_value
from .counts import SurvivalCounts
from .kaplan_meier import greenwood

__all__ = ["rmst"]


def rmst_parts(counts: SurvivalCounts, tau: float) -> tuple[float, float]:
    """Return ``(rmst, variance)`` for ``counts`` restricted to ``[0, tau]``."""
    tau = float(tau)
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
    survival, _ = greenwood(counts)
    at_risk = counts.at_risk
    observed = np.flatnonzero(at_risk > 0)
    last = int(observed[-1]) if observed.size else -1
    if tau > last + 1 and survival[last] > 0:
        raise ValueError(
            f"tau ({tau:g}) is beyond follow-up: S(t) is only known on [0, {last + 1}] "
            "while some histories are still trading"
        )
    length = max(counts.events.shape[0], int(np.ceil(tau)))
    counts = counts.extend(length - 1) if length > counts.events.shape[0] else counts
    survival, _ = greenwood(counts)
    # S(u) = S(k) on [k, k+1); the part of that year inside [0, tau]:
    width = np.clip(tau - np.arange(length), 0.0, 1.0)
    area = survival * width
    tail = np.cumsum(area[::-1])[::-1]  # A_j = integral of S from j to tau
    n = counts.at_risk.astype(np.float64)
    d = counts.events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((d > 0) & (tail > 0), tail**2 * d / (n * (n - d)), 0.0)
    return float(area.sum()), float(term.sum())


def rmst(
    durations=None,
    events=None,
    *,
    tau: float,
    counts: SurvivalCounts | None = None,
    alpha: float = 0.05,
) -> Estimate:
    """Restricted mean survival time: area under the Kaplan–Meier step curve on [0, tau].

    Parameters
    ----------
    durations, events : array_like, optional
        As for :func:`~mutualsim.survival.kaplan_meier`.
    tau : float
        Horizon in years; at most one year past the last observed duration unless the
        curve has already reached 0.
    counts : SurvivalCounts, optional
        Pre-tabulated counts instead of raw arrays.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    Estimate
        RMST in years, its standard error, and the Wald interval ``rmst ± z se``.

    Notes
    -----
    ``S(u) = S(k)`` for ``k <= u < k + 1``, so ``RMST = sum_k S(k) * clip(tau - k, 0, 1)``
    (= ``E[min(T, tau)]`` for whole-year T). The variance is the Greenwood-type delta
    method used by survRM2 and Klein & Moeschberger:
    ``Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` with ``A_j = integral_j^tau S(u) du``.
    Terms with ``A_j = 0`` (at or after tau, or after S has reached 0, where
    ``n_j == d_j`` would divide by zero) are 0, as in survRM2.
    """
    counts = resolve_counts(durations, events, counts)
    require_observations(counts)
    value, var = rmst_parts(counts, tau)
    se = float(np.sqrt(var))
    z = z_value(alpha)
    return Estimate(value, se, value - z * se, value + z * se)
