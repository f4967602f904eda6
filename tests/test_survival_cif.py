"""Aalen–Johansen cumulative incidence: hand case, identities and the delta-method variance."""

import numpy as np
import pandas as pd
import pytest

from mutualsim.survival import SurvivalCounts, cumulative_incidence, kaplan_meier


def random_competing(count, seed, n_causes=3, max_n=20, max_t=6):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, max_n + 1))
        durations = rng.integers(0, max_t + 1, n)
        censored = rng.random(n) < rng.random()
        causes = np.where(censored, 0, rng.integers(1, n_causes + 1, n))
        yield durations, causes


def test_hand_worked_case():
    cif = cumulative_incidence([0, 1, 2, 3, 4, 5], [1, 2, 1, 0, 1, 0])
    np.testing.assert_allclose(
        cif["cause_1"], [1 / 6, 1 / 6, 1 / 3, 1 / 3, 7 / 12, 7 / 12], rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(cif["cause_2"], [0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6], atol=1e-15)
    assert cif.attrs["causes"] == ["cause_1", "cause_2"]
    assert (cif.loc[0, ["cause_2_ci_low", "cause_2_ci_high"]] == 0).all()
    for label in ("cause_1", "cause_2"):
        assert (cif[f"{label}_ci_low"] <= cif[label] + 1e-15).all()
        assert (cif[label] <= cif[f"{label}_ci_high"] + 1e-15).all()


def test_cause_curves_sum_to_one_minus_km():
    for d, c in random_competing(300, seed=42):
        cif = cumulative_incidence(d, c)
        km = kaplan_meier(d, (c > 0).astype(int))
        total = cif[cif.attrs["causes"]].sum(axis=1) if cif.attrs["causes"] else 0.0
        np.testing.assert_allclose(total, 1 - km["survival"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(cif["survival"], km["survival"])


def test_single_cause_reduces_to_km_with_greenwood():
    """With one cause F = 1 - S and the delta-method variance is Greenwood's."""
    for d, c in random_competing(200, seed=1, n_causes=1):
        if not (c > 0).any():
            continue
        cif = cumulative_incidence(d, c, ci="linear", alpha=0.1)
        km = kaplan_meier(d, (c > 0).astype(int), ci="linear", alpha=0.1)
        np.testing.assert_allclose(cif["cause_1"], 1 - km["survival"], atol=1e-12)
        ok = km["ci_high"].notna().to_numpy()
        np.testing.assert_allclose(cif["cause_1_ci_low"][ok], 1 - km["ci_high"][ok], atol=1e-12)
        np.testing.assert_allclose(cif["cause_1_ci_high"][ok], 1 - km["ci_low"][ok], atol=1e-12)


def _aj(hazards):
    """Aalen–Johansen incidence (K, T) from yearly cause hazards (K, T)."""
    s = np.cumprod(1 - hazards.sum(axis=0))
    s_prev = np.concatenate(([1.0], s[:-1]))
    return np.cumsum(s_prev * hazards, axis=1)


def test_variance_equals_numerical_delta_method():
    """Finite-difference Jacobian of F in the hazards d_kj/n_j, multinomial covariance."""
    checked = 0
    for d, c in random_competing(60, seed=5, n_causes=2, max_n=40):
        counts = SurvivalCounts.from_durations(d, causes=c, n_causes=2)
        n = counts.at_risk.astype(float)
        if (counts.events >= n).any() or not counts.events.any():
            continue  # keep every year strictly informative for the numeric version
        h = counts.events_by_cause / n
        k_count, length = h.shape
        base = _aj(h).ravel()
        jac = np.empty((base.size, h.size))
        step = 1e-7
        for i in range(h.size):
            up, down = h.copy().ravel(), h.copy().ravel()
            up[i] += step
            down[i] -= step
            jac[:, i] = (_aj(up.reshape(h.shape)).ravel() - _aj(down.reshape(h.shape)).ravel()) / (
                2 * step
            )
        cov = np.zeros((h.size, h.size))
        for j in range(length):
            idx = np.arange(k_count) * length + j
            hj = h[:, j]
            cov[np.ix_(idx, idx)] = (np.diag(hj) - np.outer(hj, hj)) / n[j]
        var = np.diag(jac @ cov @ jac.T).reshape(k_count, length)
        cif = cumulative_incidence(counts=counts, ci="linear", alpha=0.05)
        z = 1.959963984540054
        for k in range(k_count):
            f = cif[f"cause_{k + 1}"].to_numpy()
            lo, hi = cif[f"cause_{k + 1}_ci_low"].to_numpy(), cif[f"cause_{k + 1}_ci_high"]
            inside = (lo > 0) & (hi.to_numpy() < 1)
            se = (hi.to_numpy() - lo) / (2 * z)
            np.testing.assert_allclose(f, base.reshape(h.shape)[k], atol=1e-12)
            np.testing.assert_allclose(se[inside], np.sqrt(var[k][inside]), rtol=1e-5, atol=1e-8)
        checked += 1
    assert checked >= 20


def test_chunks_add_up_and_names_apply():
    rng = np.random.default_rng(3)
    d = rng.integers(0, 9, 500)
    c = np.where(rng.random(500) < 0.3, 0, rng.integers(1, 4, 500))
    names = {1: "insolvency", 2: "wind_down", 3: "takeover"}
    chunks = [
        SurvivalCounts.from_durations(d[i], causes=c[i])
        for i in np.array_split(np.argsort(c, kind="stable"), 4)
    ]
    together = cumulative_incidence(d, c, cause_names=names)
    pd.testing.assert_frame_equal(
        cumulative_incidence(counts=sum(chunks), cause_names=names), together
    )
    assert together.attrs["causes"] == ["insolvency", "wind_down", "takeover"]
    assert {"takeover", "takeover_ci_low", "takeover_ci_high"} <= set(together.columns)


def test_cause_without_exits_has_zero_incidence():
    counts = SurvivalCounts.from_durations([1, 2, 3], causes=[1, 0, 1], n_causes=3)
    cif = cumulative_incidence(counts=counts)
    assert (cif[["cause_2", "cause_3", "cause_3_ci_high"]] == 0).all().all()


def test_bad_input():
    with pytest.raises(ValueError, match="causes"):
        cumulative_incidence([1, 2, 3], [1, 0])
    with pytest.raises(ValueError, match="causes"):
        cumulative_incidence([1, 2, 3])
    with pytest.raises(ValueError, match="events_by_cause"):
        cumulative_incidence(counts=SurvivalCounts.from_durations([1, 2], [1, 0]))
    with pytest.raises(ValueError, match="durations"):
        cumulative_incidence([1, -1], [1, 0])
    with pytest.raises(ValueError, match="label"):
        cumulative_incidence([1, 2], [1, 2], cause_names={1: "x", 2: "x"})
