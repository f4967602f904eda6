"""run_model: a plain function of keyword parameters returning every outcome."""

from __future__ import annotations

import math

import pytest

from mutualsim.errors import InputError
from mutualsim.evidence.outcomes import OUTCOMES, run_model

TINY = dict(councils=15, years=10)


def test_run_model_returns_every_outcome():
    out = run_model(seed=1, replications=3, **TINY)
    assert set(out) == set(OUTCOMES)
    assert 0 < out["S5"] <= 1 and math.isnan(out["S15"])  # 10 years: no 15-year follow-up
    assert out["spinouts_2010"] == 0 and out["council_spend"] > 0
    assert 0 <= out["councils_exploring_2012"] <= TINY["councils"]


def test_run_model_is_reproducible_and_responds_to_parameters():
    a = run_model(seed=2, replications=3, **TINY)
    b = run_model(seed=2, replications=3, **TINY)
    assert all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)
    more = run_model(seed=2, replications=3, reactive_prob=0.3, **TINY)
    assert more["spinouts_per_replication"] > a["spinouts_per_replication"]


def test_unknown_parameter_is_an_input_error():
    with pytest.raises(InputError):
        run_model(replications=1, not_a_parameter=1)


def test_run_model_reads_survival_from_the_one_definition():
    from mutualsim.params import Scenario
    from mutualsim.simulate import simulate
    from mutualsim.survival import SurvivalCounts, survival_at
    res = simulate(Scenario(**TINY), 4, seed=5)
    expected = survival_at(SurvivalCounts.from_histories(res.histories), (5, 10, 15))
    out = run_model(seed=5, replications=4, **TINY)
    assert 0 < out["S5"] == expected[5] < 1
    # 10 and 15 years: nobody is followed that long (the first spin-out is in year 2), so
    # both are nan, or 0 if every spun-out mutual has exited by then: the same either way.
    for t in (10, 15):
        same = out[f"S{t}"] == expected[t] or (math.isnan(out[f"S{t}"])
                                               and math.isnan(expected[t]))
        assert same and (math.isnan(expected[t]) or expected[t] == 0.0), t


def test_validation_helpers_on_a_tiny_run():
    from mutualsim.evidence.validation import hazard_by_year, km_with_ci
    from mutualsim.params import Scenario
    from mutualsim.simulate import simulate
    res = simulate(Scenario(**TINY), 4, seed=3)
    km = km_with_ci(res.histories, (5,))
    s, lo, hi = km["S5"]
    assert lo <= s <= hi
    h = hazard_by_year(res.histories, top=8)
    assert len(h) == 8 and all(0 <= v <= 1 for v in h)
    spun = res.spun_out
    d, exited = spun["duration_years"].to_numpy(int), ~spun["censored"].to_numpy(bool)
    # h(t) = exits after t years of trading / mutuals trading at the start of year t.
    for t in range(1, 9):
        assert h[t - 1] == pytest.approx(exited[d == t].sum() / (d >= t).sum()), t
    assert max(h) > 0


def test_surplus_and_income_growth_follow_the_mutuals_accounts():
    # The panel's mutuals_in_surplus and mean_income_growth recomputed from a replication's
    # own accounts (state income, costs, v0) at the last year, and the 2017 outcomes
    # pooled over trading mutuals as documented.
    import numpy as np

    from mutualsim.params import Scenario
    from mutualsim.simulate import run_block
    from mutualsim.state import TRADING
    sc = Scenario(councils=20, years=8)
    block = run_block(sc, 3, np.arange(4))
    st, last = block.state, sc.years - 1
    for r in range(4):
        trading = np.isin(st.stage[r], TRADING)
        assert trading.any()
        assert block.panel["mutuals_in_surplus"][r, last] == int(
            (st.income[r, trading] > st.costs[r, trading]).sum())
        assert block.panel["mean_income_growth"][r, last] == pytest.approx(
            float(np.mean(st.income[r, trading] / st.v0[r, trading])), rel=1e-12)
    out = run_model(seed=3, replications=4, councils=20, years=8)
    assert 0 < out["surplus_share_2017"] < 1 and out["income_growth_2017"] > 0
    cheaper = run_model(seed=3, replications=4, councils=20, years=8, initial_price=1.1)
    assert cheaper["surplus_share_2017"] > out["surplus_share_2017"]


def test_rmst15_is_the_area_under_the_one_kaplan_meier_curve_and_missing_without_follow_up():
    from mutualsim.evidence.outcomes import outcomes_from
    from mutualsim.params import Scenario
    from mutualsim.simulate import simulate
    from mutualsim.survival import SurvivalCounts, rmst
    scenario = Scenario(councils=15, years=20)
    res = simulate(scenario, 3, seed=7)
    out = outcomes_from(res.histories, res.panel, scenario)
    counts = SurvivalCounts.from_histories(res.histories, max_time=scenario.years)
    assert out["RMST15"] == pytest.approx(rmst(counts=counts, tau=15).estimate, rel=1e-12)
    assert 0 < out["RMST15"] <= 15
    # 10 years of run: nobody followed for 15 years, so RMST15 is missing (NaN), not a guess.
    assert math.isnan(run_model(seed=1, replications=3, **TINY)["RMST15"])
