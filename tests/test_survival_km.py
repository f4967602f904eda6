"""Kaplan–Meier, counts, median, RMST, hazard, Nelson–Aalen and effect sizes."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from mutualsim.survival import (
    SurvivalCounts,
    hazard,
    kaplan_meier,
    median_survival,
    nelson_aalen,
    rmst,
    rmst_difference,
    survival_difference,
)
from mutualsim.survival.effects import median_difference

TOL = {"rtol": 1e-12, "atol": 1e-12, "equal_nan": True}


def random_datasets(count, seed, max_n=15, max_t=6):
    """Small datasets with heavy ties: durations in 0..max_t, random censoring share."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, max_n + 1))
        durations = rng.integers(0, max_t + 1, n)
        events = (rng.random(n) < rng.random()).astype(int)
        yield durations, events


def scipy_km(durations, events, times, method, alpha=0.05):
    sample = stats.CensoredData(uncensored=durations[events == 1], right=durations[events == 0])
    res = stats.ecdf(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy warns on NaN bands
        ci = res.sf.confidence_interval(confidence_level=1 - alpha, method=method)
    return res.sf.evaluate(times), ci.low.evaluate(times), ci.high.evaluate(times)


def assert_matches_scipy(durations, events, method, alpha=0.05, max_time=None):
    counts = SurvivalCounts.from_durations(durations, events, max_time=max_time)
    km = kaplan_meier(counts=counts, ci=method, alpha=alpha)
    times = km["time"].to_numpy()
    s, low, high = scipy_km(durations, events, times, method, alpha)
    np.testing.assert_allclose(km["survival"], s, **TOL)
    np.testing.assert_allclose(km["ci_low"], low, **TOL)
    np.testing.assert_allclose(km["ci_high"], high, **TOL)
    return km


# ----------------------------------------------------------------------- Kaplan–Meier
@pytest.mark.parametrize("method", ["linear", "log-log"])
def test_km_matches_scipy_on_random_tied_data(method):
    alphas = [0.05, 0.1, 0.2, 0.01]
    for i, (d, e) in enumerate(random_datasets(300, seed=20240601)):
        assert_matches_scipy(d, e, method, alpha=alphas[i % len(alphas)])


@pytest.mark.parametrize("method", ["linear", "log-log"])
def test_km_matches_scipy_all_censored(method):
    d = np.array([1, 1, 2, 4, 4, 6])
    km = assert_matches_scipy(d, np.zeros_like(d), method)
    assert (km["survival"] == 1).all()
    # t = 0 precedes the first observation: scipy's step function gives [1, 1].
    assert km.loc[0, "ci_low"] == km.loc[0, "ci_high"] == 1
    if method == "log-log":
        assert km.loc[1:, "ci_low"].isna().all()  # log(-log 1) is undefined
    else:
        assert (km[["ci_low", "ci_high"]] == 1).all().all()


@pytest.mark.parametrize("method", ["linear", "log-log"])
def test_km_matches_scipy_all_failed(method):
    d = np.array([0, 1, 1, 3, 3, 3, 5])
    km = assert_matches_scipy(d, np.ones_like(d), method)
    assert km["survival"].iloc[-1] == 0
    assert np.isnan(km["ci_low"].iloc[-1]) and np.isnan(km["ci_high"].iloc[-1])
    np.testing.assert_allclose(km["survival"], [6 / 7, 4 / 7, 4 / 7, 1 / 7, 1 / 7, 0])


def test_km_matches_scipy_before_first_observation_and_after_padding():
    d, e = np.array([3, 3, 4, 5]), np.array([1, 0, 1, 0])
    for method in ("linear", "log-log"):
        km = assert_matches_scipy(d, e, method, max_time=9)  # scipy carries forward
        assert (km.loc[:2, ["survival", "ci_low", "ci_high"]] == 1).all().all()
        assert (km.loc[6:, "at_risk"] == 0).all()


def test_km_failures_come_before_censorings_at_tied_times():
    km = kaplan_meier([2, 2, 2, 3], [1, 0, 0, 1])
    assert km.loc[2, "at_risk"] == 4
    assert km.loc[2, "survival"] == pytest.approx(3 / 4)
    assert km.loc[3, "survival"] == 0
    assert list(km.columns) == [
        "time",
        "at_risk",
        "events",
        "censored",
        "survival",
        "ci_low",
        "ci_high",
    ]


def test_km_default_events_means_no_censoring():
    d = np.array([0, 2, 2, 4])
    pd.testing.assert_frame_equal(kaplan_meier(d), kaplan_meier(d, np.ones(4, int)))


# --------------------------------------------------------------------------- counts
def test_counts_from_durations_hand_case():
    c = SurvivalCounts.from_durations([0, 1, 1, 3], [1, 0, 1, 0], max_time=4)
    np.testing.assert_array_equal(c.events, [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(c.censored, [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(c.at_risk, [4, 3, 1, 1, 0])
    assert c.n == 4 and c.max_time == 4 and c.n_causes == 0
    # Columns of the simulation's histories frame: nullable Int64 durations, bool flags.
    frame = pd.DataFrame(
        {
            "duration_years": pd.array([0, 1, 1, 3], dtype="Int64"),
            "censored": [False, True, False, True],
        }
    )
    from_frame = SurvivalCounts.from_durations(
        frame["duration_years"], ~frame["censored"], max_time=4
    )
    assert from_frame == c
    with pytest.raises(ValueError, match="durations"):
        SurvivalCounts.from_durations(pd.array([1, None], dtype="Int64"))


def test_counts_from_chunks_add_up_to_all_at_once():
    rng = np.random.default_rng(11)
    d = rng.integers(0, 12, 2000)
    causes = np.where(rng.random(2000) < 0.4, 0, rng.integers(1, 4, 2000))
    whole = SurvivalCounts.from_durations(d, causes=causes)
    # Uneven chunks: some never reach the longest durations or the rarest causes.
    order = np.argsort(d, kind="stable")
    pieces = np.array_split(order, [5, 300, 301, 1200])
    chunks = [SurvivalCounts.from_durations(d[i], causes=causes[i]) for i in pieces]
    assert len({c.max_time for c in chunks}) > 1
    total = sum(chunks)
    assert total == whole
    pd.testing.assert_frame_equal(kaplan_meier(counts=total), kaplan_meier(d, causes > 0))
    assert median_survival(counts=total) == median_survival(d, causes > 0)
    assert rmst(counts=total, tau=8) == rmst(d, causes > 0, tau=8)


def test_counts_frame_round_trip_through_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    c = SurvivalCounts.from_durations([0, 2, 2, 5], causes=[1, 0, 3, 2], max_time=7)
    path = tmp_path / "counts.parquet"
    c.to_frame().to_parquet(path)
    back = SurvivalCounts.from_frame(pd.read_parquet(path))
    assert back == c
    assert list(c.to_frame().columns) == [
        "time",
        "events",
        "censored",
        "events_cause_1",
        "events_cause_2",
        "events_cause_3",
    ]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"durations": [1, -2, 3]}, "durations"),
        ({"durations": [1.0, 2.5]}, "durations"),
        ({"durations": [1.0, np.nan]}, "durations"),
        ({"durations": [[1, 2]]}, "durations"),
        ({"durations": ["a", "b"]}, "durations"),
        ({"durations": [1, 2, 3], "events": [1, 0]}, "events"),
        ({"durations": [1, 2], "events": [1, 2]}, "events"),
        ({"durations": [1, 2], "events": [1, np.nan]}, "events"),
        ({"durations": [1, 2], "causes": [1]}, "causes"),
        ({"durations": [1, 2], "causes": [1, -1]}, "causes"),
        ({"durations": [1, 2], "events": [1, 1], "causes": [1, 0]}, "events"),
        ({"durations": [1, 5], "max_time": 3}, "max_time"),
    ],
)
def test_bad_input_raises_value_error_naming_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SurvivalCounts.from_durations(**kwargs)
    if set(kwargs) <= {"durations", "events"}:
        with pytest.raises(ValueError, match=name):
            kaplan_meier(**kwargs)


def test_bad_call_patterns_raise():
    c = SurvivalCounts.from_durations([1, 2])
    with pytest.raises(ValueError, match="counts"):
        kaplan_meier([1, 2], counts=c)
    with pytest.raises(ValueError, match="durations"):
        kaplan_meier()
    with pytest.raises(ValueError, match="ci"):
        kaplan_meier([1, 2], ci="plain")
    with pytest.raises(ValueError, match="alpha"):
        kaplan_meier([1, 2], alpha=1.5)
    with pytest.raises(ValueError, match="observations"):
        kaplan_meier([])


# --------------------------------------------------------------------------- median
def test_median_hand_case():
    # S = 5/6, 4/6, 3/6, ...: the first year with S <= 0.5 is 3.
    m = median_survival([1, 2, 3, 4, 5, 6])
    assert m.estimate == 3
    km = kaplan_meier([1, 2, 3, 4, 5, 6])
    assert m.ci_low == km.index[km["ci_low"] <= 0.5][0]
    assert m.ci_high == km.index[km["ci_high"].fillna(0) <= 0.5][0]
    assert m.ci_low <= m.estimate <= m.ci_high


def test_median_not_reached_is_nan():
    m = median_survival([1, 2, 3, 4], [1, 0, 0, 0])
    assert np.isnan(m.estimate) and np.isnan(m.ci_high) and np.isnan(m.se)


def test_median_interval_inverts_band_on_random_data():
    for method in ("linear", "log-log"):
        for d, e in random_datasets(100, seed=3, max_n=25):
            km = kaplan_meier(d, e, ci=method)
            s = km["survival"].to_numpy()
            m = median_survival(d, e, ci=method)
            pairs = ((m.estimate, s), (m.ci_low, km["ci_low"]), (m.ci_high, km["ci_high"]))
            for value, band in pairs:
                band = np.where(np.isnan(band), s, band)
                hits = np.flatnonzero(band <= 0.5)
                expected = hits[0] if hits.size else np.nan
                np.testing.assert_equal(value, expected)


# ----------------------------------------------------------------------------- RMST
def test_rmst_hand_case():
    # S(0..3) = 1, 2/3, 1/3, 1/3.
    r = rmst([1, 2, 3], [1, 1, 0], tau=3)
    assert r.estimate == pytest.approx(2.0, abs=1e-12)
    # A_1 = 1 (exit at 1: 1/(3*2)), A_2 = 1/3 (exit at 2: 1/(2*1)).
    assert r.se**2 == pytest.approx(1 / 6 + 1 / 18, abs=1e-12)
    z = special.ndtri(0.975)
    assert r.ci_low == pytest.approx(2.0 - z * r.se) and r.ci_high == pytest.approx(2.0 + z * r.se)
    half = rmst([1, 2, 3], [1, 1, 0], tau=2.5)
    assert half.estimate == pytest.approx(1 + 2 / 3 + 0.5 / 3, abs=1e-12)
    assert half.se**2 == pytest.approx((5 / 6) ** 2 / 6 + (1 / 6) ** 2 / 2, abs=1e-12)


def test_rmst_without_censoring_is_mean_of_truncated_durations():
    # Then the delta-method variance is the plug-in variance of that mean.
    rng = np.random.default_rng(5)
    for _ in range(50):
        d = rng.integers(0, 8, int(rng.integers(2, 40)))
        tau = float(rng.integers(1, 9))
        truncated = np.minimum(d, tau)
        r = rmst(d, tau=tau)
        assert r.estimate == pytest.approx(truncated.mean(), rel=1e-12)
        assert r.se**2 == pytest.approx(truncated.var() / d.size, rel=1e-9, abs=1e-15)


def test_rmst_tau_checks():
    with pytest.raises(ValueError, match="tau"):
        rmst([1, 2, 3], [1, 0, 0], tau=5)  # S(3) > 0 but nothing known after year 4
    assert rmst([1, 2], [1, 1], tau=10).estimate == pytest.approx(1.5)  # S reached 0
    with pytest.raises(ValueError, match="tau"):
        rmst([1, 2], tau=-1)


# ------------------------------------------------------------------- hazard and NA
def test_hazard_matches_counts_and_wilson_interval():
    d, e = np.array([0, 0, 1, 1, 1, 2, 3, 3]), np.array([1, 0, 1, 1, 0, 0, 1, 0])
    h = hazard(d, e, alpha=0.1)
    np.testing.assert_allclose(h["hazard"], [1 / 8, 2 / 6, 0 / 3, 1 / 2])
    for row in h.itertuples():
        ci = stats.binomtest(int(row.events), int(row.at_risk)).proportion_ci(
            confidence_level=0.9, method="wilson"
        )
        assert row.ci_low == pytest.approx(ci.low, abs=1e-12)
        assert row.ci_high == pytest.approx(ci.high, abs=1e-12)


def test_nelson_aalen_hand_case():
    d, e = np.array([0, 0, 1, 1, 1, 2, 3, 3]), np.array([1, 0, 1, 1, 0, 0, 1, 0])
    na = nelson_aalen(d, e)
    steps = np.array([1 / 8, 2 / 6, 0, 1 / 2])
    np.testing.assert_allclose(na["cumhaz"], np.cumsum(steps))
    var_steps = np.array([1 * 7 / 8**3, 2 * 4 / 6**3, 0, 1 * 1 / 2**3])
    np.testing.assert_allclose(na["variance"], np.cumsum(var_steps))
    assert (na["ci_low"] <= na["cumhaz"]).all() and (na["cumhaz"] <= na["ci_high"]).all()
    assert nelson_aalen([2, 3], [0, 1]).loc[0, "ci_high"] == 0


# --------------------------------------------------------------------------- effects
def test_survival_difference_uses_greenwood_variances():
    rng = np.random.default_rng(9)
    z = special.ndtri(0.975)
    for _ in range(30):
        da, db = rng.integers(0, 7, 40), rng.integers(0, 7, 30)
        ea, eb = (rng.random(40) < 0.6).astype(int), (rng.random(30) < 0.6).astype(int)
        a = SurvivalCounts.from_durations(da, ea, max_time=6)
        b = SurvivalCounts.from_durations(db, eb, max_time=6)
        t = np.arange(6)
        res = survival_difference(a, b, t)
        ka, kb = kaplan_meier(counts=a, ci="linear"), kaplan_meier(counts=b, ci="linear")
        np.testing.assert_allclose(res.estimate, ka["survival"][t] - kb["survival"][t])
        # Greenwood se from scipy's unclipped linear interval, where it is not clipped.
        se = []
        for d, e in ((da, ea), (db, eb)):
            s, low, high = scipy_km(d, e, t, "linear")
            se.append(np.where((low > 0) & (high < 1), (high - low) / (2 * z), np.nan))
        combined = np.sqrt(se[0] ** 2 + se[1] ** 2)
        ok = ~np.isnan(combined)
        np.testing.assert_allclose(res.se[ok], combined[ok], rtol=1e-10)
        np.testing.assert_allclose(res.ci_high - res.ci_low, 2 * z * res.se)
    scalar = survival_difference((da, ea), (db, eb), 3)
    assert isinstance(scalar.estimate, float)


def test_survival_difference_beyond_follow_up_raises():
    with pytest.raises(ValueError, match="follow-up"):
        survival_difference(
            SurvivalCounts.from_durations([1, 2], [1, 0]),
            SurvivalCounts.from_durations([1, 5], [1, 0]),
            4,
        )


def test_rmst_and_median_differences():
    a = SurvivalCounts.from_durations([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 0])
    b = SurvivalCounts.from_durations([0, 1, 1, 2, 6, 6], [1, 1, 1, 0, 1, 0])
    ra, rb = rmst(counts=a, tau=6), rmst(counts=b, tau=6)
    diff = rmst_difference(a, b, tau=6)
    assert diff.estimate == pytest.approx(ra.estimate - rb.estimate)
    assert diff.se == pytest.approx(np.hypot(ra.se, rb.se))
    ma, mb = median_survival(counts=a), median_survival(counts=b)
    md = median_difference(a, b)
    assert md.estimate == ma.estimate - mb.estimate
    np.testing.assert_equal(md.se, np.hypot(ma.se, mb.se))
    with pytest.raises(ValueError, match="counts_a"):
        rmst_difference([1, 2], b, tau=2)
