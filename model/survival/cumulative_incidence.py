"""Aalen–Johansen cumulative incidence of each exit cause (insolvency, wind-down, takeover).

With competing causes, ``1 - KM`` restricted to one cause overstates that cause's risk
(it treats the other exits as censoring, i.e. as if those mutuals could still fail later
from this cause). The Aalen–Johansen curves instead split ``1 - S(t)`` exactly into the
share that has exited by each cause.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._common import require_observations, z_value
from .counts import SurvivalCounts
from .kaplan_meier import CI_METHODS, greenwood

__all__ = ["cumulative_incidence"]

_ROW_BLOCK = 256  # rows of the (T+1) x (T+1) variance sums built at a time


def _variance(
    incidence: np.ndarray,
    s_prev: np.ndarray,
    n: np.ndarray,
    d: np.ndarray,
    d_k: np.ndarray,
) -> np.ndarray:
    """Delta-method variance of one cause's incidence at every year (see module notes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # (F(t) - F_j)^2 weight; 0 when no exits, and when n == d (then F(t) == F_j).
        w = np.where((d > 0) & (n > d), d / (n * (n - d)), 0.0)
        second = np.where(n > 0, s_prev**2 * d_k * (n - d_k) / n**3, 0.0)
        v = np.where(n > 0, s_prev * d_k / n**2, 0.0)
    length = incidence.shape[0]
    first = np.empty(length)
    third = np.empty(length)
    for start in range(0, length, _ROW_BLOCK):
        rows = np.arange(start, min(start + _ROW_BLOCK, length))
        diff = incidence[rows, None] - incidence[None, :]
        diff[rows[:, None] < np.arange(length)[None, :]] = 0.0  # only j <= t
        first[rows] = (diff**2) @ w
        third[rows] = diff @ v
    var = first + np.cumsum(second) - 2 * third
    return np.maximum(var, 0.0)  # exact sums of a PSD form; clip rounding below 0


def cumulative_incidence(
    durations=None,
    causes=None,
    *,
    counts: SurvivalCounts | None = None,
    alpha: float = 0.05,
    ci: str = "log-log",
    cause_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence per exit cause, with delta-method intervals.

    Parameters
    ----------
    durations : array_like of int, shape (n,), optional
        Whole years since spin-out.
    causes : array_like of int, shape (n,), optional
        Exit cause code ``1, 2, ...``; ``0`` = censored.
    counts : SurvivalCounts, optional
        Pre-tabulated counts with ``events_by_cause``, instead of raw arrays.
    alpha : float
        ``1 - alpha`` pointwise confidence.
    ci : {"log-log", "linear"}
        ``"log-log"``: interval on ``log(-log F)`` (Collett; stays in [0, 1]);
        ``"linear"``: ``F ± z se`` clipped to [0, 1].
    cause_names : mapping of int to str, optional
        Column label for each cause code, e.g. ``{1: "insolvency"}``; codes not in it are
        labelled ``"cause_<code>"``.

    Returns
    -------
    pandas.DataFrame
        One row per year ``0..T``: ``time, at_risk, events, survival`` (Kaplan–Meier)
        and, per cause label ``L``, ``L, L_ci_low, L_ci_high``. ``frame.attrs["causes"]``
        lists the labels in code order.

    Notes
    -----
    ``F_k(t) = sum_{j <= t} S(j-1) d_kj / n_j`` with ``S(-1) = 1``. Since
    ``sum_k d_kj = d_j``, ``sum_k F_k(t) = 1 - S(t)`` exactly (up to rounding).

    The variance is the delta method applied to the multinomial yearly hazards
    ``d_kj / n_j`` (Marubini & Valsecchi 1995; Collett 2015, §12.3; as in lifelines):

    ``Var F_k(t) = sum_{j <= t} [ (F_k(t) - F_k(j))^2 d_j / (n_j (n_j - d_j))
    + S(j-1)^2 d_kj (n_j - d_kj) / n_j^3 - 2 (F_k(t) - F_k(j)) S(j-1) d_kj / n_j^2 ]``.

    The first term is 0 when every history at risk exits (``n_j == d_j``), since then
    ``F_k(t) == F_k(j)``. The bands are [0, 0] while ``F_k = 0``; with ``ci="log-log"``
    they are NaN where ``F_k = 1``. Building the variance costs O(T^2) in the number of
    years (tiny); everything that depends on n is the O(n) tabulation.
    """
    if counts is not None:
        if durations is not None or causes is not None:
            raise ValueError("pass either durations/causes or counts=, not both")
        if not isinstance(counts, SurvivalCounts):
            raise ValueError(
                f"counts must be a SurvivalCounts instance, got {type(counts).__name__}"
            )
        if counts.events_by_cause is None:
            raise ValueError("counts has no events_by_cause; build it with causes=")
    else:
        if durations is None or causes is None:
            raise ValueError("durations and causes are required when counts= is not given")
        counts = SurvivalCounts.from_durations(durations, causes=causes)
    require_observations(counts)
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, got {ci!r}")
    names = dict(cause_names or {})
    z = z_value(alpha)

    survival, _ = greenwood(counts)
    s_prev = np.concatenate(([1.0], survival[:-1]))
    n = counts.at_risk.astype(np.float64)
    d = counts.events.astype(np.float64)
    data: dict[str, np.ndarray] = {
        "time": counts.times,
        "at_risk": counts.at_risk,
        "events": counts.events,
        "survival": survival,
    }
    labels = []
    for k in range(counts.n_causes):
        label = str(names.get(k + 1, f"cause_{k + 1}"))
        if label in data or label in labels:
            raise ValueError(f"cause_names gives a duplicate or reserved label {label!r}")
        d_k = counts.events_by_cause[k].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            incidence = np.cumsum(np.where(n > 0, s_prev * d_k / n, 0.0))
        se = np.sqrt(_variance(incidence, s_prev, n, d, d_k))
        with np.errstate(divide="ignore", invalid="ignore"):
            if ci == "linear":
                low, high = incidence - z * se, incidence + z * se
            else:
                log_f = np.log(incidence)
                lnl = np.log(-log_f)
                se_lnl = se / (incidence * np.abs(log_f))
                low = np.exp(-np.exp(lnl + z * se_lnl))
                high = np.exp(-np.exp(lnl - z * se_lnl))
        zero = incidence == 0
        data[label] = incidence
        data[f"{label}_ci_low"] = np.clip(np.where(zero, 0.0, low), 0, 1)
        data[f"{label}_ci_high"] = np.clip(np.where(zero, 0.0, high), 0, 1)
        labels.append(label)
    frame = pd.DataFrame(data)
    frame.attrs["causes"] = labels
    return frame
