"""Hand survival counts to lifelines (and anything that takes weighted rows), exactly.

Per-year counts are a weighted data set: one row per year and outcome, weighted by how
many histories had it. lifelines' estimators and tests accept case weights, so the
weighted rows give the same curves as the millions of raw rows would, without building
them.
"""

from __future__ import annotations

import numpy as np

from .counts import SurvivalCounts

__all__ = ["to_lifelines"]


def to_lifelines(counts: SurvivalCounts, *, causes: bool = False) -> dict[str, np.ndarray]:
    """Weighted rows for lifelines' ``fit(durations, event_observed, weights=...)``.

    Parameters
    ----------
    counts : SurvivalCounts
        For example ``results.counts()``, ``sweep.counts(scenario_id)`` or
        ``SurvivalCounts.from_histories(frame)``.
    causes : bool
        False: ``event_observed`` is 1 for an exit and 0 for a censoring (Kaplan–Meier,
        Nelson–Aalen, log-rank). True: it is the exit-cause code (1 insolvency,
        2 wind_down, 3 takeover) and 0 for a censoring, as lifelines'
        ``AalenJohansenFitter`` takes it with ``event_of_interest``.

    Returns
    -------
    dict
        ``{"durations", "event_observed", "weights"}``: int64 arrays of equal length, one
        entry per year and outcome with a non-zero count, sorted by year (exits before
        censorings); ``weights`` are the counts. Pass it as keyword arguments::

            from lifelines import KaplanMeierFitter
            KaplanMeierFitter().fit(**to_lifelines(results.counts()))

        and, for ``lifelines.statistics.logrank_test``, as ``durations_A``,
        ``event_observed_A``, ``weights_A`` (and the same for B).

    Raises
    ------
    ValueError
        If ``causes=True`` and the counts hold no exit causes.

    Notes
    -----
    Exact: the rows carry the same per-year exits, censorings and risk sets as the raw
    histories, so every estimator that accepts case weights gives the same values.
    lifelines' ``AalenJohansenFitter`` jitters exit times of different causes tied at one
    year (with a warning), which changes its answer whatever the input; use
    :func:`mutualsim.survival.cumulative_incidence` for exact tied-year incidence.
    """
    if not isinstance(counts, SurvivalCounts):
        raise ValueError(f"counts must be a SurvivalCounts instance, got {type(counts).__name__}")
    if causes:
        if counts.events_by_cause is None:
            raise ValueError("counts has no events_by_cause; build it with causes=")
        exits = counts.events_by_cause
    else:
        exits = counts.events[None, :]
    # rows: exits of each code (1..K) then censorings (code 0), then ordered by year
    weights = np.concatenate([exits, counts.censored[None, :]])
    codes = np.concatenate([np.arange(1, exits.shape[0] + 1), [0]])
    if not causes:
        codes = np.array([1, 0])
    code_grid = np.broadcast_to(codes[:, None], weights.shape)
    time_grid = np.broadcast_to(counts.times[None, :], weights.shape)
    order = np.lexsort((code_grid.ravel() == 0, time_grid.ravel()))
    keep = weights.ravel()[order] > 0
    return {
        "durations": time_grid.ravel()[order][keep].astype(np.int64),
        "event_observed": code_grid.ravel()[order][keep].astype(np.int64),
        "weights": weights.ravel()[order][keep].astype(np.int64),
    }
