"""Effect sizes between two groups: differences in S(t), median and RMST, with CIs.

At simulation sample sizes every log-rank p-value is 0, so policy comparisons are read
from how *large* a difference is and how precisely it is estimated.

All intervals treat the two groups as independent samples:
``se(a - b) = sqrt(se_a^2 + se_b^2)``. When scenarios are run with common random numbers
the two estimates are positively correlated, the true ``Var(a - b)`` is smaller by
``2 Cov(a, b)``, and these intervals are conservative (too wide), never too narrow.
"""

from __future__ import annotations

import numpy as np

from ._common import Estimate, check_alpha, require_observations, z_value
from .counts import SurvivalCounts
from .kaplan_meier import determined_survival
from .median import median_survival
from .rmst import rmst_parts

__all__ = ["survival_difference", "rmst_difference", "median_difference"]


def _as_counts(name: str, value) -> SurvivalCounts:
    if isinstance(value, SurvivalCounts):
        counts = value
    elif isinstance(value, tuple) and len(value) == 2:
        counts = SurvivalCounts.from_durations(*value)
    else:
        raise ValueError(
            f"{name} must be SurvivalCounts or a (durations, events) tuple, "
            f"got {type(value).__name__}"
        )
    require_observations(counts)
    return counts


def _combine(a: np.ndarray, b: np.ndarray, var_a, var_b, alpha: float, scalar: bool):
    estimate = a - b
    se = np.sqrt(np.asarray(var_a) + np.asarray(var_b))
    z = z_value(alpha)
    parts = (estimate, se, estimate - z * se, estimate + z * se)
    if scalar:
        parts = tuple(float(np.asarray(p).reshape(-1)[0]) for p in parts)
    return Estimate(*parts)


def _survival_at(name: str, counts: SurvivalCounts, t: np.ndarray):
    s, var, _ = determined_survival(counts, t)
    unknown = np.isnan(s)
    if unknown.any():
        last = int(np.flatnonzero(counts.at_risk > 0)[-1])
        raise ValueError(
            f"t = {t[unknown][0]} is beyond follow-up of {name} (last observed year {last})"
        )
    return s, var


def survival_difference(counts_a, counts_b, t, *, alpha: float = 0.05) -> Estimate:
    """Difference ``S_a(t) - S_b(t)`` in the share still trading after t years.

    Parameters
    ----------
    counts_a, counts_b : SurvivalCounts or (durations, events) tuple
        The two groups.
    t : int or array_like of int
        Year(s) since spin-out.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    Estimate
        Floats for scalar ``t``, arrays otherwise. Wald interval from Greenwood
        variances; conservative under common random numbers (see module notes).

    Notes
    -----
    Where a curve has reached 0 its Greenwood variance (``0 · inf``) is taken as 0.
    """
    check_alpha(alpha)
    a, b = _as_counts("counts_a", counts_a), _as_counts("counts_b", counts_b)
    scalar = np.ndim(t) == 0
    times = np.atleast_1d(np.asarray(t))
    if times.dtype.kind not in "iu" and (
        times.dtype.kind != "f" or not np.all(times == np.floor(times))
    ):
        raise ValueError("t must be whole years")
    times = times.astype(np.int64)
    if (times < 0).any():
        raise ValueError("t must be >= 0")
    s_a, var_a = _survival_at("counts_a", a, times)
    s_b, var_b = _survival_at("counts_b", b, times)
    return _combine(s_a, s_b, var_a, var_b, alpha, scalar)


def rmst_difference(counts_a, counts_b, tau: float, *, alpha: float = 0.05) -> Estimate:
    """Difference ``RMST_a(tau) - RMST_b(tau)`` in expected years trading within tau.

    Parameters
    ----------
    counts_a, counts_b : SurvivalCounts or (durations, events) tuple
        The two groups.
    tau : float
        Restriction horizon in years (see :func:`~mutualsim.survival.rmst`).
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    Estimate
        Wald interval from the two delta-method variances; conservative under common
        random numbers (see module notes).
    """
    check_alpha(alpha)
    a, b = _as_counts("counts_a", counts_a), _as_counts("counts_b", counts_b)
    r_a, v_a = rmst_parts(a, tau)
    r_b, v_b = rmst_parts(b, tau)
    return _combine(np.array(r_a), np.array(r_b), v_a, v_b, alpha, True)


def median_difference(counts_a, counts_b, *, ci: str = "log-log", alpha: float = 0.05) -> Estimate:
    """Difference in median survival, by a normal approximation from the two CIs.

    Parameters
    ----------
    counts_a, counts_b : SurvivalCounts or (durations, events) tuple
        The two groups.
    ci : {"log-log", "linear"}
        Kaplan–Meier band inverted for each median's interval.
    alpha : float
        ``1 - alpha`` confidence.

    Returns
    -------
    Estimate
        Each median's ``se`` is backed out of its band-inversion interval as
        ``width / (2 z)``; the difference gets ``sqrt(se_a^2 + se_b^2)``. NaN when a
        median or one of its limits is not reached within follow-up.

    Notes
    -----
    A bootstrap would be more faithful to the skewed, integer-valued medians but is
    not O(n + T); this approximation is coarse (whole-year limits) and meant for
    reporting alongside the RMST difference, which is the better-behaved contrast.
    """
    check_alpha(alpha)
    a, b = _as_counts("counts_a", counts_a), _as_counts("counts_b", counts_b)
    m_a = median_survival(counts=a, ci=ci, alpha=alpha)
    m_b = median_survival(counts=b, ci=ci, alpha=alpha)
    return _combine(
        np.array(m_a.estimate), np.array(m_b.estimate), m_a.se**2, m_b.se**2, alpha, True
    )
