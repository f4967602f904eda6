"""Cross-checks against lifelines, run in an environment of their own.

lifelines pins ``pandas<3`` (lifelines 0.30.3), which conflicts with the newest pandas the
main environment resolves, so these tests live outside ``tests/`` and run in a second
environment (see .ci/run), e.g.:

    python3 -m venv /tmp/lifelines-env
    /tmp/lifelines-env/bin/python -m pip install . "lifelines>=0.30" pytest
    /tmp/lifelines-env/bin/python -m pytest -q tests_lifelines

(pip then resolves pandas 2.x for that environment only.)

They import lifelines unconditionally: in that environment a missing lifelines is a
failure, never a skip. Every check feeds lifelines the exact weighted rows of
:func:`mutualsim.survival.to_lifelines` and, where it is cheap, the raw rows as well.
"""

from __future__ import annotations

import warnings

import lifelines
import numpy as np
import pytest
from lifelines.statistics import logrank_test, multivariate_logrank_test

from mutualsim.params import Scenario
from mutualsim.simulate import simulate
from mutualsim.survival import (
    SurvivalCounts,
    cumulative_incidence,
    kaplan_meier,
    logrank,
    nelson_aalen,
    survival_at,
    to_lifelines,
)

TOL = {"rtol": 1e-10, "atol": 1e-12}


def datasets(count: int, seed: int, max_t: int = 12):
    """Tied whole-year durations with causes 0 (censored) .. 3, varied censoring."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(20, 300))
        durations = rng.integers(1, max_t + 1, n)
        censored = rng.random(n) < rng.uniform(0.1, 0.7)
        causes = np.where(censored, 0, rng.integers(1, 4, n))
        causes[0] = 1
        yield durations, causes


def test_kaplan_meier_and_band_match_lifelines_weighted_and_raw():
    for d, c in datasets(30, seed=7):
        counts = SurvivalCounts.from_durations(d, causes=c)
        km = kaplan_meier(counts=counts, ci="log-log")
        for fitted in (lifelines.KaplanMeierFitter().fit(**to_lifelines(counts)),
                       lifelines.KaplanMeierFitter().fit(d, (c > 0).astype(int))):
            t = fitted.survival_function_.index.to_numpy().astype(int)
            np.testing.assert_allclose(km["survival"].to_numpy()[t],
                                       fitted.survival_function_.iloc[:, 0], **TOL)
            ci = fitted.confidence_interval_
            ok = ~np.isnan(km["ci_low"].to_numpy()[t])  # lifelines fills NaN bands with 1
            np.testing.assert_allclose(km["ci_low"].to_numpy()[t][ok],
                                       ci.iloc[:, 0].to_numpy()[ok], **TOL)
            np.testing.assert_allclose(km["ci_high"].to_numpy()[t][ok],
                                       ci.iloc[:, 1].to_numpy()[ok], **TOL)


def test_survival_at_matches_lifelines_where_followed():
    for d, c in datasets(10, seed=8):
        counts = SurvivalCounts.from_durations(d, causes=c)
        kmf = lifelines.KaplanMeierFitter().fit(**to_lifelines(counts))
        times = np.arange(0, int(d.max()) + 1)
        ours = survival_at(counts, times)
        theirs = kmf.survival_function_at_times(times).to_numpy()
        np.testing.assert_allclose([ours[t] for t in times], theirs, **TOL)


def test_nelson_aalen_and_band_match_lifelines_discrete():
    for d, c in datasets(30, seed=9):
        counts = SurvivalCounts.from_durations(d, causes=c)
        naf = lifelines.NelsonAalenFitter(nelson_aalen_smoothing=False).fit(
            **to_lifelines(counts))
        na = nelson_aalen(counts=counts).set_index("time")
        t = naf.cumulative_hazard_.index.to_numpy().astype(int)
        np.testing.assert_allclose(na.loc[t, "cumhaz"], naf.cumulative_hazard_.iloc[:, 0],
                                   **TOL)
        ci = naf.confidence_interval_
        np.testing.assert_allclose(na.loc[t, "ci_low"], ci.iloc[:, 0], **TOL)
        np.testing.assert_allclose(na.loc[t, "ci_high"], ci.iloc[:, 1], **TOL)


def test_logrank_matches_lifelines_weighted():
    rng = np.random.default_rng(10)
    for d, c in datasets(30, seed=10):
        e = (c > 0).astype(int)
        g = rng.integers(0, 2, len(d))
        a = to_lifelines(SurvivalCounts.from_durations(d[g == 0], e[g == 0]))
        b = to_lifelines(SurvivalCounts.from_durations(d[g == 1], e[g == 1]))
        theirs = logrank_test(a["durations"], b["durations"], a["event_observed"],
                              b["event_observed"], weights_A=a["weights"],
                              weights_B=b["weights"])
        ours = logrank(d, e, g)
        assert ours.chisq == pytest.approx(theirs.test_statistic, rel=1e-10)
        assert ours.pvalue == pytest.approx(theirs.p_value, rel=1e-8, abs=1e-300)


def test_three_group_logrank_matches_lifelines():
    rng = np.random.default_rng(11)
    for d, c in datasets(15, seed=11):
        e = (c > 0).astype(int)
        g = rng.integers(0, 3, len(d))
        theirs = multivariate_logrank_test(d, g, e)
        ours = logrank(d, e, g)
        assert ours.chisq == pytest.approx(theirs.test_statistic, rel=1e-10)


def test_cumulative_incidence_matches_aalen_johansen_without_cross_cause_ties():
    # lifelines jitters exits of different causes tied at one year, so each year here
    # has exits of one cause only; there the estimators must agree exactly.
    rng = np.random.default_rng(12)
    for d, _ in datasets(15, seed=12):
        cause_of_year = rng.integers(1, 4, 13)
        censored = rng.random(len(d)) < 0.3
        c = np.where(censored, 0, cause_of_year[d])
        counts = SurvivalCounts.from_durations(d, causes=c, n_causes=3)
        cif = cumulative_incidence(counts=counts).set_index("time")
        rows = to_lifelines(counts, causes=True)
        for k in (1, 2, 3):
            if counts.events_by_cause[k - 1].sum() == 0:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a jitter warning would fail the test
                ajf = lifelines.AalenJohansenFitter().fit(
                    rows["durations"], rows["event_observed"], k, weights=rows["weights"])
            curve = ajf.cumulative_density_
            t = curve.index.to_numpy().astype(int)
            np.testing.assert_allclose(cif.loc[t, f"cause_{k}"], curve.iloc[:, 0], **TOL)


def test_simulated_histories_through_the_bridge():
    res = simulate(Scenario(councils=10, years=12), 6, seed=4)
    counts = res.counts()
    kmf = lifelines.KaplanMeierFitter().fit(**to_lifelines(counts))
    spun = res.spun_out
    raw = lifelines.KaplanMeierFitter().fit(spun["duration_years"].to_numpy(int),
                                            (~spun["censored"]).to_numpy(int))
    np.testing.assert_allclose(kmf.survival_function_.to_numpy(),
                               raw.survival_function_.to_numpy(), **TOL)
    assert res.survival_at([5])[5] == pytest.approx(
        float(kmf.survival_function_at_times(5).iloc[0]), rel=1e-12)
