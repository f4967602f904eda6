"""Mechanisms act in the direction the seeds describe, all else equal (common random numbers).

These check that mechanisms act, not that numbers were tuned. Each uses 60 country-sized
replications (about 14,000 spin-outs per arm), where the Kaplan-Meier standard error of S(t)
is below 0.006; each margin below is at least five such standard errors.
"""

from __future__ import annotations

import pytest

from mutualsim import Scenario, simulate

pytestmark = pytest.mark.slow
BASE = Scenario(years=20)
REPS, SEED = 60, 7


def survival(scenario: Scenario, t: int) -> float:
    return simulate(scenario, REPS, seed=SEED).survival_at([t])[t]


@pytest.mark.parametrize("protection", [3, 5, 7, 15])
def test_protection_does_not_lower_survival_at_its_end(protection):
    # Protected terms are drawn in protection +/- protection_years_spread, so survival is
    # read at the earliest first tender; before it only break clauses and insolvency act
    # (issue 13: protection is no longer immortality).
    t = protection - BASE.protection_years_spread
    protected = survival(BASE.replace(protection_years=protection), t)
    open_market = survival(BASE.replace(protection_years=0), t)
    assert protected >= open_market - 0.01  # tolerance: 0.01 (~2 s.e.)
    # Protection is not immortality (issue 13): break clauses and cost, volume and trading
    # shocks make some protected mutuals fail, but most last until their first tender
    # (S(14) with 15 years' protection was 0.73 before recalibration, 60 replications).
    # Read only where the protection has lasted at least 5 years: with 3 years +/- 2 the
    # earliest first tender is in year 1, before which almost no mutual can fail yet.
    if t >= 5:
        assert 0.5 < protected < 0.995


def test_core_contract_alone_lowers_ten_year_survival():
    full = survival(BASE, 10)
    core_only = survival(BASE.replace(trading_start=0.0, external_win_rate=0.0,
                                      grant_prob=0.0), 10)
    assert full - core_only > 0.03


def test_cost_led_commissioning_gives_mutuals_fewer_tender_wins():
    rates = {}
    for style in ("cost_led", "cooperative"):
        panel = simulate(BASE.replace(commissioning_style=style), REPS, seed=SEED).panel
        rates[style] = panel["mutual_tender_wins"].sum() / panel["tenders"].sum()
        assert panel["tenders"].sum() > 5000
    assert rates["cooperative"] - rates["cost_led"] > 0.1


def test_lot_splitting_helps_mutuals_keep_contracts():
    rates = {}
    for lots in (1, 4):
        panel = simulate(BASE.replace(lots=lots), REPS, seed=SEED).panel
        rates[lots] = panel["mutual_tender_wins"].sum() / panel["tenders"].sum()
    assert rates[4] > rates[1]


def test_recession_and_austerity_raise_exits():
    calm = simulate(BASE.replace(austerity_rate=0.0, recession_start=False,
                                 recession_enter_prob=0.0, shock_prob=0.0), REPS, seed=SEED)
    harsh = simulate(BASE.replace(austerity_rate=0.05, shock_prob=0.15), REPS, seed=SEED)
    assert calm.survival_at([10])[10] > harsh.survival_at([10])[10] + 0.03
