"""Cross-checks against scikit-survival: Kaplan–Meier, Nelson–Aalen, log-rank, incidence.

scikit-survival is a test dependency (the ``test`` extra), so these always run. Each check
compares every year of our curve, computed from per-year counts, with scikit-survival's
computed from the raw rows, on tied whole-year data like the simulation's.
"""

from __future__ import annotations

import numpy as np
import pytest
from sksurv.compare import compare_survival
from sksurv.nonparametric import (
    cumulative_incidence_competing_risks,
    kaplan_meier_estimator,
    nelson_aalen_estimator,
)
from sksurv.util import Surv

from mutualsim.survival import (
    SurvivalCounts,
    cumulative_incidence,
    kaplan_meier,
    logrank,
    nelson_aalen,
    to_lifelines,
)

TOL = {"rtol": 1e-10, "atol": 1e-12}


def datasets(count: int, seed: int):
    """Tied whole-year durations 1..12 with causes 0 (censored) .. 3, varied censoring."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(20, 300))
        durations = rng.integers(1, 13, n)
        censored = rng.random(n) < rng.uniform(0.1, 0.7)
        causes = np.where(censored, 0, rng.integers(1, 4, n))
        causes[0] = 1  # at least one exit, of the first cause
        yield durations, causes


def expand(counts: SurvivalCounts, causes: bool = False):
    """Raw rows back from the weighted rows of :func:`to_lifelines`."""
    rows = to_lifelines(counts, causes=causes)
    return (np.repeat(rows["durations"], rows["weights"]),
            np.repeat(rows["event_observed"], rows["weights"]))


def test_weighted_rows_are_the_histories():
    for d, c in datasets(20, seed=1):
        counts = SurvivalCounts.from_durations(d, causes=c)
        rows = to_lifelines(counts)
        assert rows["weights"].sum() == len(d) and (rows["weights"] > 0).all()
        assert SurvivalCounts.from_durations(*expand(counts)) == SurvivalCounts.from_durations(
            d, (c > 0).astype(int))
        d2, c2 = expand(counts, causes=True)
        assert SurvivalCounts.from_durations(d2, causes=c2, n_causes=3) == counts
        assert np.array_equal(np.sort(d), d2)  # sorted by year


def test_to_lifelines_rows_by_hand():
    counts = SurvivalCounts.from_durations([0, 1, 2, 2, 2, 3], causes=[0, 1, 3, 0, 1, 2])
    rows = to_lifelines(counts)
    assert rows["durations"].tolist() == [0, 1, 2, 2, 3]
    assert rows["event_observed"].tolist() == [0, 1, 1, 0, 1]  # exits before censorings
    assert rows["weights"].tolist() == [1, 1, 2, 1, 1]
    by_cause = to_lifelines(counts, causes=True)
    assert by_cause["durations"].tolist() == [0, 1, 2, 2, 2, 3]
    assert by_cause["event_observed"].tolist() == [0, 1, 1, 3, 0, 2]
    assert by_cause["weights"].tolist() == [1] * 6


def test_to_lifelines_needs_counts_and_causes():
    with pytest.raises(ValueError, match="events_by_cause"):
        to_lifelines(SurvivalCounts.from_durations([1, 2], [1, 0]), causes=True)
    with pytest.raises(ValueError, match="SurvivalCounts"):
        to_lifelines(([1, 2], [1, 0]))


def test_kaplan_meier_and_log_log_band_match_sksurv():
    for d, c in datasets(30, seed=2):
        counts = SurvivalCounts.from_durations(d, causes=c)
        t, s, band = kaplan_meier_estimator(c > 0, d, conf_type="log-log")
        km = kaplan_meier(counts=counts).set_index("time")
        np.testing.assert_allclose(km.loc[t, "survival"], s, **TOL)
        ok = ~np.isnan(km.loc[t, "ci_low"].to_numpy())  # sksurv fills undefined bands
        np.testing.assert_allclose(km.loc[t, "ci_low"].to_numpy()[ok], band[0][ok], **TOL)
        np.testing.assert_allclose(km.loc[t, "ci_high"].to_numpy()[ok], band[1][ok], **TOL)


def test_nelson_aalen_matches_sksurv():
    for d, c in datasets(30, seed=3):
        t, h = nelson_aalen_estimator(c > 0, d)
        na = nelson_aalen(counts=SurvivalCounts.from_durations(d, causes=c)).set_index("time")
        np.testing.assert_allclose(na.loc[t, "cumhaz"], h, **TOL)


def test_logrank_matches_sksurv():
    rng = np.random.default_rng(4)
    for d, c in datasets(30, seed=4):
        groups = rng.integers(0, int(rng.integers(2, 4)), len(d))
        if len(np.unique(groups)) < 2:
            continue
        chisq, pvalue = compare_survival(Surv.from_arrays(c > 0, d), groups)
        ours = logrank(d, c > 0, groups)
        assert ours.chisq == pytest.approx(chisq, rel=1e-10)
        assert ours.pvalue == pytest.approx(pvalue, rel=1e-8, abs=1e-300)


def test_cumulative_incidence_and_band_match_sksurv():
    bands_checked = 0
    for d, c in datasets(40, seed=5):
        counts = SurvivalCounts.from_durations(d, causes=c, n_causes=3)
        if (counts.events_by_cause.sum(axis=1) == 0).any():
            continue  # sksurv assumes every cause occurs
        # sksurv's "Dinse_Approx" variance is the delta method we document.
        with np.errstate(divide="ignore", invalid="ignore"):
            t, f, band = cumulative_incidence_competing_risks(c, d, conf_type="log-log",
                                                              var_type="Dinse_Approx")
        cif = cumulative_incidence(counts=counts).set_index("time")
        # sksurv's variance divides by n - d: where everyone at risk exits in a year its
        # band collapses onto the estimate at every year, so only the curve is compared.
        everyone_exits = ((counts.at_risk == counts.events) & (counts.events > 0)).any()
        bands_checked += not everyone_exits
        for k in (1, 2, 3):
            np.testing.assert_allclose(cif.loc[t, f"cause_{k}"], f[k], **TOL)
            if everyone_exits:
                continue
            low = cif.loc[t, f"cause_{k}_ci_low"].to_numpy()
            high = cif.loc[t, f"cause_{k}_ci_high"].to_numpy()
            ok = (cif.loc[t, f"cause_{k}"].to_numpy() > 0) & ~np.isnan(low)
            np.testing.assert_allclose(low[ok], band[k, 0][ok], **TOL)
            np.testing.assert_allclose(high[ok], band[k, 1][ok], **TOL)
    assert bands_checked >= 15
