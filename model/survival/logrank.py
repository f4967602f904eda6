"""Log-rank test that two or more groups (e.g. policy scenarios) share one survival curve.

With simulated populations of millions, any real difference makes the p-value
underflow to 0; it answers "is there a difference at all", while the size of the
difference belongs to :mod:`mutualsim.survival.effects`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .counts import SurvivalCounts, _as_1d, _as_whole_numbers

__all__ = ["LogRankResult", "logrank"]


@dataclass(frozen=True)
class LogRankResult:
    """Result of :func:`logrank`.

    Attributes
    ----------
    chisq : float
        Log-rank chi-square statistic (the square of scipy's two-group ``statistic``).
    df : int
        Degrees of freedom: informative groups minus one (``G - 1`` normally).
    pvalue : float
        ``scipy.stats.chi2.sf(chisq, df)``; exactly 0.0 once chisq is huge.
    groups : numpy.ndarray
        Group labels, in the order of ``observed`` and ``expected``.
    observed, expected : numpy.ndarray
        Exits per group and the number expected under the null hypothesis.
    """

    chisq: float
    df: int
    pvalue: float
    groups: np.ndarray
    observed: np.ndarray
    expected: np.ndarray


def _group_counts(durations, events, groups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(labels, events (G, T+1), at_risk (G, T+1))`` with one O(n) bincount each."""
    d = _as_whole_numbers("durations", durations)
    e = (
        np.ones(d.shape[0], dtype=np.int64)
        if events is None
        else _as_whole_numbers("events", events)
    )
    g = _as_1d("groups", groups)
    if e.shape[0] != d.shape[0]:
        raise ValueError(
            f"events must have the same length as durations ({d.shape[0]}), got {e.shape[0]}"
        )
    if g.shape[0] != d.shape[0]:
        raise ValueError(
            f"groups must have the same length as durations ({d.shape[0]}), got {g.shape[0]}"
        )
    if e.size and e.max() > 1:
        raise ValueError("events must contain only 0 (censored) and 1 (exit)")
    if d.size == 0:
        raise ValueError("durations is empty")
    if g.dtype.kind == "f" and np.isnan(g).any():
        raise ValueError("groups contains NaN")
    labels, index = np.unique(g, return_inverse=True)
    length = int(d.max()) + 1
    flat = index * length + d
    shape = (labels.size, length)
    size = labels.size * length
    total = np.bincount(flat, minlength=size).reshape(shape)
    failed = np.bincount(flat, weights=e, minlength=size).reshape(shape).astype(np.int64)
    at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    return labels, failed, at_risk


def _from_counts(counts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(counts, Mapping):
        labels, parts = np.asarray(list(counts.keys())), list(counts.values())
    elif isinstance(counts, Sequence):
        labels, parts = np.arange(len(counts)), list(counts)
    else:
        raise ValueError("counts must be a mapping or sequence of SurvivalCounts, one per group")
    if not all(isinstance(p, SurvivalCounts) for p in parts):
        raise ValueError("counts must hold SurvivalCounts, one per group")
    length = max(p.events.shape[0] for p in parts) if parts else 0
    parts = [p.extend(length - 1) for p in parts]
    failed = np.array([p.events for p in parts]).reshape(len(parts), length)
    at_risk = np.array([p.at_risk for p in parts]).reshape(len(parts), length)
    return labels, failed, at_risk


def logrank(
    durations=None,
    events=None,
    groups=None,
    *,
    counts: Mapping[object, SurvivalCounts] | Sequence[SurvivalCounts] | None = None,
) -> LogRankResult:
    """Log-rank (Mantel–Haenszel) test of equal survival across G >= 2 groups.

    Parameters
    ----------
    durations, events : array_like, shape (n,), optional
        As for :func:`~mutualsim.survival.kaplan_meier`.
    groups : array_like, shape (n,), optional
        Group label per history (any sortable values).
    counts : mapping or sequence of SurvivalCounts, optional
        One pre-tabulated :class:`SurvivalCounts` per group, instead of raw arrays.

    Returns
    -------
    LogRankResult

    Notes
    -----
    At each year t with exits, ``E_gt = n_gt d_t / n_t`` and the hypergeometric covariance
    ``V_ght = d_t (n_t - d_t) / (n_t - 1) · (n_gt / n_t) (δ_gh - n_ht / n_t)`` (0 when
    ``n_t = 1``, as in scipy). With ``U = O - E`` summed over years,
    ``chisq = U_{-G}' V_{-G}^{-1} U_{-G}`` (the last group dropped, as ``U`` and ``V``
    sum to zero over groups), with ``df = G - 1``. A group that is never at risk, with
    survivors, beside another group at an exit time has zero variance and zero
    ``O - E``; such groups are left out of the test and of ``df`` (as R's ``survdiff``
    does through its generalized inverse). chisq and pvalue are NaN when fewer than two
    groups carry information (e.g. no exits at all).
    """
    if counts is not None:
        if durations is not None or events is not None or groups is not None:
            raise ValueError("pass either durations/events/groups or counts=, not both")
        labels, failed, at_risk = _from_counts(counts)
    else:
        if durations is None or groups is None:
            raise ValueError("durations and groups are required when counts= is not given")
        labels, failed, at_risk = _group_counts(durations, events, groups)
    if labels.size < 2:
        raise ValueError(f"groups must contain at least 2 distinct groups, got {labels.size}")

    n_g = at_risk.astype(np.float64)
    d_g = failed.astype(np.float64)
    n = n_g.sum(axis=0)
    d = d_g.sum(axis=0)
    keep = d > 0
    n_g, d_g, n, d = n_g[:, keep], d_g[:, keep], n[keep], d[keep]

    observed = d_g.sum(axis=1)
    share = n_g / n  # n > 0 wherever d > 0
    expected = (share * d).sum(axis=1)
    multi = n > 1
    scale = np.zeros_like(n)
    scale[multi] = d[multi] * (n[multi] - d[multi]) / (n[multi] - 1)
    # sum_t scale_t * (diag(share_t) - share_t share_t')
    variance = np.diag((share * scale).sum(axis=1)) - (share * scale) @ share.T
    u = observed - expected
    # A group is informative if it is ever at risk, with survivors, beside another group;
    # the others have exactly zero variance and O - E (so nothing is lost by dropping
    # them), and the informative groups' V has the single null vector (1, ..., 1).
    informative = np.flatnonzero((scale * share * (1 - share)).sum(axis=1) > 0)
    df = max(informative.size - 1, 0)
    if df == 0:
        chisq, pvalue = np.nan, np.nan
    else:
        keep = informative[:-1]
        chisq = float(u[keep] @ np.linalg.solve(variance[np.ix_(keep, keep)], u[keep]))
        pvalue = float(stats.chi2.sf(chisq, df))
    return LogRankResult(chisq, df, pvalue, labels, observed, expected)
