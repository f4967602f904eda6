"""Log-rank test: scipy agreement for two groups, a textbook computation for three."""

import numpy as np
import pytest
from scipy import stats

from mutualsim.survival import SurvivalCounts, logrank


def textbook_logrank(durations, events, groups):
    """Direct per-subject computation (no bincount): O, E and V at each distinct exit time."""
    labels = sorted(set(groups.tolist()))
    g = len(labels)
    o_minus_e = np.zeros(g)
    v = np.zeros((g, g))
    for t in sorted(set(durations[events == 1].tolist())):
        n_g = np.array(
            [
                sum(1 for dd, gg in zip(durations, groups, strict=True) if dd >= t and gg == lab)
                for lab in labels
            ],
            dtype=float,
        )
        d_g = np.array(
            [
                sum(
                    1
                    for dd, ee, gg in zip(durations, events, groups, strict=True)
                    if dd == t and ee == 1 and gg == lab
                )
                for lab in labels
            ],
            dtype=float,
        )
        n, d = n_g.sum(), d_g.sum()
        o_minus_e += d_g - d * n_g / n
        if n > 1:
            for i in range(g):
                for j in range(g):
                    kron = 1.0 if i == j else 0.0
                    v[i, j] += d * (n - d) / (n - 1) * n_g[i] / n * (kron - n_g[j] / n)
    u = o_minus_e[:-1]
    return float(u @ np.linalg.solve(v[:-1, :-1], u))


def test_two_groups_match_scipy_on_random_data():
    rng = np.random.default_rng(123)
    compared = 0
    for _ in range(300):
        nx, ny = rng.integers(1, 12, 2)
        x, y = rng.integers(0, 7, nx), rng.integers(0, 7, ny)
        ex, ey = (rng.random(nx) < 0.7).astype(int), (rng.random(ny) < 0.7).astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            ref = stats.logrank(
                stats.CensoredData(uncensored=x[ex == 1], right=x[ex == 0]),
                stats.CensoredData(uncensored=y[ey == 1], right=y[ey == 0]),
            )
        res = logrank(np.r_[x, y], np.r_[ex, ey], np.r_[np.zeros(nx), np.ones(ny)])
        if not np.isfinite(ref.statistic):
            assert np.isnan(res.chisq) or res.chisq > 1e12
            continue
        assert res.chisq == pytest.approx(ref.statistic**2, rel=1e-9, abs=1e-300)
        assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
        assert res.df == 1
        compared += 1
    assert compared > 250


def test_three_groups_match_textbook():
    rng = np.random.default_rng(99)
    compared = 0
    for _ in range(60):
        n = int(rng.integers(6, 30))
        d = rng.integers(0, 7, n)
        e = (rng.random(n) < 0.7).astype(int)
        g = rng.integers(0, 3, n)
        g[:3] = [0, 1, 2]
        res = logrank(d, e, g)
        try:
            expected = textbook_logrank(d, e, g)
        except np.linalg.LinAlgError:
            continue  # singular V: our generalized inverse handles it, the textbook does not
        if res.df != 2:
            continue
        assert res.chisq == pytest.approx(expected, rel=1e-9)
        assert res.pvalue == pytest.approx(stats.chi2.sf(expected, 2), rel=1e-9)
        assert res.observed.sum() == e.sum()
        assert res.expected.sum() == pytest.approx(e.sum())
        compared += 1
    assert compared > 50


def test_uninformative_group_is_dropped_from_df():
    d, e = np.array([1, 2, 2, 3, 4, 5]), np.array([1, 1, 0, 1, 0, 1])
    g = np.array([0, 1, 0, 1, 0, 1])
    two = logrank(d, e, g)
    # Group 2 is censored before the first exit: never at risk when anyone exits.
    three = logrank(np.r_[d, 0, 0], np.r_[e, 0, 0], np.r_[g, 2, 2])
    assert three.df == 1
    assert three.chisq == pytest.approx(two.chisq, rel=1e-12)


def test_counts_route_equals_raw_route():
    rng = np.random.default_rng(2)
    d, e, g = rng.integers(0, 9, 300), rng.integers(0, 2, 300), rng.choice(["a", "b", "c"], 300)
    raw = logrank(d, e, g)
    by_group = {lab: SurvivalCounts.from_durations(d[g == lab], e[g == lab]) for lab in "abc"}
    via_counts = logrank(counts=by_group)
    assert via_counts.chisq == pytest.approx(raw.chisq, rel=1e-12)
    assert list(raw.groups) == list(via_counts.groups) == ["a", "b", "c"]
    np.testing.assert_allclose(raw.expected, via_counts.expected)


def test_huge_statistic_gives_zero_pvalue():
    n = 200_000
    d = np.r_[np.zeros(n, int), np.full(n, 30)]
    e = np.r_[np.ones(n, int), np.zeros(n, int)]
    res = logrank(d, e, np.r_[np.zeros(n), np.ones(n)])
    assert res.chisq > 1e4 and res.pvalue == 0.0


def test_no_exits_gives_nan_and_bad_input_raises():
    res = logrank([1, 2, 3], [0, 0, 0], [0, 1, 1])
    assert np.isnan(res.chisq) and np.isnan(res.pvalue) and res.df == 0
    with pytest.raises(ValueError, match="groups"):
        logrank([1, 2, 3], [1, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="groups"):
        logrank([1, 2, 3], [1, 1, 1], [0, 0, 0])
    with pytest.raises(ValueError, match="durations"):
        logrank([1, -2, 3], [1, 1, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="events"):
        logrank([1, 2, 3], [1, 3, 1], [0, 1, 1])
