"""Each rule of the kernel on small hand-built states."""

from __future__ import annotations

import numpy as np
import pytest

from mutualsim.jit import python_callable
from mutualsim.kernel import capability, economy, exits, finance, pipeline, tendering
from mutualsim.kernel.context import Flow
from mutualsim.state import (
    ABANDONED,
    COMPETING,
    EXITED,
    INC_SPUN_OUT,
    INCUBATING,
    INSOLVENCY,
    NONE,
    PROPOSED,
    PROTECTED,
    REACTIVE,
    STRATEGIC,
    TAKEN_BACK,
    TAKEOVER,
    WIND_DOWN,
)

from conftest import fresh, ledger, make_draws

# The rules are compiled for calls from compiled code only; these call them from Python.
learn = python_callable(capability.learn)
update_economy = python_callable(economy.update_economy)
apply_exits = python_callable(exits.apply_exits)
grow_income = python_callable(finance.grow_income)
settle_accounts = python_callable(finance.settle_accounts)
decide_incubation = python_callable(pipeline.decide_incubation)
prepare = python_callable(pipeline.prepare)
propose = python_callable(pipeline.propose)
run_tenders = python_callable(tendering.run_tenders)


NO_CITIZENS = np.zeros(2)   # councils' mean support / engagement (tiny has 2 councils)


def trading_mutual(st, m=0, stage=PROTECTED, volume=None, price=1.0, reserves=0.1):
    """Put a trading mutual in slot m of replication 0."""
    st.stage[0, m] = stage
    st.origin[0, m] = STRATEGIC
    st.proposal_year[0, m] = st.year - 2
    st.spinout_year[0, m] = st.year - 1
    st.core_volume[0, m] = st.v0[0, m] if volume is None else volume
    st.core_price[0, m] = price
    st.reserves[0, m] = reserves
    st.capability[0, m] = 0.5
    st.quality[0, m] = 0.6
    st.social_value[0, m] = 0.6
    st.governance[0, m] = 0.5
    st.income[0, m] = st.v0[0, m]


# --- economy ------------------------------------------------------------------------------
def test_austerity_cuts_budget_and_shocks_add(tiny):
    sc = tiny.replace(austerity_rate=0.1, shock_prob=0.5, shock_size=0.2)
    k, _, st = fresh(sc)
    d = make_draws(sc, shock=np.array([0.1, 0.9]))
    update_economy(st.arrays(), 0, k, d, 0)
    assert st.budget[0] == pytest.approx([0.9 * 0.8, 0.9])


def test_austerity_stops_after_its_years(tiny):
    sc = tiny.replace(austerity_rate=0.1, austerity_years=1, shock_prob=0.0)
    k, _, st = fresh(sc)
    update_economy(st.arrays(), 0, k, make_draws(sc), 1)
    assert st.budget[0] == pytest.approx([1.0, 1.0])


def test_recession_is_a_markov_chain(tiny):
    sc = tiny.replace(recession_enter_prob=0.3, recession_exit_prob=0.6)
    k, _, st = fresh(sc, R=2)
    st.recession[:] = [True, False]
    for r, u in enumerate((0.7, 0.2)):
        update_economy(st.arrays(), r, k, make_draws(sc, recession=u), 1)
    assert st.recession.tolist() == [True, True]   # 0.7 >= exit 0.6 stays; 0.2 < 0.3 enters


# --- pipeline -----------------------------------------------------------------------------
def test_proposals_reactive_below_strategic_above(tiny):
    sc = tiny.replace(reactive_prob=0.2, strategic_prob=0.5, budget_pressure_sensitivity=0.0)
    k, _, st = fresh(sc)
    st.stage[0, 3] = PROTECTED                       # not free: never proposed again
    engagement = np.ones(sc.councils)
    p_r = 0.2 * (1 - 0.5 * k.coproduction)
    p_s = 0.5 * (0.5 + k.coproduction)
    u = np.array([p_r - 0.01, p_r + 0.01, p_r + p_s + 0.01, 0.0])
    led = ledger()
    propose(st.arrays(), 0, k, make_draws(sc, propose=u), st.year, engagement, led)
    assert st.stage[0].tolist() == [PROPOSED, PROPOSED, NONE, PROTECTED]
    assert st.origin[0, :2].tolist() == [REACTIVE, STRATEGIC]
    assert led[Flow.proposals] == 2
    assert (st.proposal_year[0, :2] == st.year).all()


def test_preparation_abandons_completes_or_waits(tiny):
    k, _, st = fresh(tiny)
    st.stage[0, :3] = PROPOSED
    st.origin[0, :3] = REACTIVE
    preparing = st.stage[0] == PROPOSED
    prepare(st.arrays(), 0, k, make_draws(tiny, prep=np.array([0.0, 0.999, 0.5, 0.0])),
            st.year, preparing, ledger())
    assert st.stage[0].tolist() == [ABANDONED, PROTECTED, PROPOSED, NONE]
    assert st.spinout_year[0, 1] == st.year
    # The protected term is drawn within protection_years +/- protection_years_spread.
    assert abs(st.next_tender[0, 1] - (st.year + tiny.protection_years)) \
        <= tiny.protection_years_spread


@pytest.mark.parametrize("protection", [0, 3, 5, 7, 15, 11])
def test_any_protection_length_sets_the_first_tender(tiny, protection):
    sc = tiny.replace(protection_years=protection, protection_years_spread=0)
    k, _, st = fresh(sc)
    st.stage[0, 0] = PROPOSED
    st.origin[0, 0] = STRATEGIC
    prepare(st.arrays(), 0, k, make_draws(sc, prep=0.9999), st.year, st.stage[0] == PROPOSED,
            ledger())
    assert st.next_tender[0, 0] == st.year + protection
    assert st.stage[0, 0] == (PROTECTED if protection else COMPETING)


def test_teckal_incubation_then_decision(tiny):
    sc = tiny.replace(incubation_years=2)
    k, _, st = fresh(sc)
    st.stage[0, :2] = PROPOSED
    st.origin[0, :2] = STRATEGIC
    prepare(st.arrays(), 0, k, make_draws(sc, prep=0.9999), st.year, st.stage[0] == PROPOSED,
            ledger())
    assert (st.stage[0, :2] == INCUBATING).all()
    assert (st.teckal_end[0, :2] == st.year + 2).all()
    st.year += 2
    st.capability[0, :2] = [0.9, 0.05]              # one viable, one not
    st.quality[0, :2] = [0.7, 0.3]
    st.reserves[0, :2] = [1.0, -1.0]
    decide_incubation(st.arrays(), 0, k, make_draws(sc), st.year, led := ledger())
    assert led[Flow.taken_back] == 1
    assert st.stage[0, 0] == PROTECTED and st.incubation_outcome[0, 0] == INC_SPUN_OUT
    assert st.stage[0, 1] == TAKEN_BACK and st.spinout_year[0, 1] == -1


def _incubation_ending(sc, capability, quality=0.5, reserves=None):
    """One Teckal company of row 0, slot 0, whose incubation ends this year."""
    k, _, st = fresh(sc)
    trading_mutual(st, 0, stage=INCUBATING)
    st.teckal_end[0, 0] = st.year
    st.capability[0, 0], st.quality[0, 0] = capability, quality
    st.reserves[0, 0] = sc.viability_reserve_target * st.v0[0, 0] if reserves is None \
        else reserves
    return k, st


def test_appraisal_compares_with_the_best_option_and_its_noise_decides_near_the_bar(tiny):
    """Bar at the strategic preset (risk factor 0.7 + 0.5 x 0.6 = 1), budget 1: in-house
    scores 0.5 x 0.47 + 0.25 x 0.62 + 0.25 = 0.64, market 0.5 x 0.47 + 0.25 x 0.6 + 0.25 =
    0.635, so the company (quality 0.5, full reserves: 0.375) needs capability 0.53; an
    appraisal error of one sd (0.08) moves that by 0.16."""
    sc = tiny.replace(incubation_years=2)
    for cap, z, spun in ((0.54, 0.0, True), (0.52, 0.0, False),
                         (0.52, 1.0, True), (0.54, -1.0, False)):
        k, st = _incubation_ending(sc, cap)
        decide_incubation(st.arrays(), 0, k, make_draws(sc, appraisal=z), st.year,
                          ledger())
        assert bool(st.stage[0, 0] == PROTECTED) == spun, (cap, z)
    # A better market option raises the bar: the same company is taken back.
    better_market = sc.replace(appraisal_market_capability=0.9)
    k, st = _incubation_ending(better_market, 0.54)
    decide_incubation(st.arrays(), 0, k, make_draws(sc), st.year, ledger())
    assert st.stage[0, 0] == TAKEN_BACK


# --- tendering ----------------------------------------------------------------------------
def _tender_ready(sc):
    # Fixed terms, no extensions: each test here is about one tender.
    sc = sc.replace(contract_years_spread=0, max_extensions=0, local_bidders=0)
    k, _, st = fresh(sc)
    trading_mutual(st, 0, stage=PROTECTED)
    st.next_tender[0, 0] = st.year
    return k, st


def tender_now(st, k, d, led):
    run_tenders(st.arrays(), 0, k, d, st.year, NO_CITIZENS, NO_CITIZENS, led)


def test_uncontested_tender_is_kept(tiny):
    sc = tiny.replace(private_bid_prob=0.0)
    k, st = _tender_ready(sc)
    led = ledger()
    tender_now(st, k, make_draws(sc), led)
    assert led[Flow.tenders] == 1 and led[Flow.mutual_tender_wins] == 1
    assert st.stage[0, 0] == COMPETING
    assert st.core_volume[0, 0] > 0
    assert st.next_tender[0, 0] == st.year + sc.contract_years
    assert (st.tenders[0, 0], st.tender_wins[0, 0]) == (1, 1)


def test_cheap_private_bidder_wins_price_led_tender(tiny):
    sc = tiny.replace(private_bid_prob=1.0, private_unit_cost=0.5, price_weight=1.0,
                      quality_weight=0.0, social_weight=0.0, financial_weight=0.0,
                      incumbency_bonus=0.0, eval_noise=0.0)
    k, st = _tender_ready(sc)
    led = ledger()
    tender_now(st, k, make_draws(sc), led)
    assert led[Flow.tenders] == 1 and led[Flow.mutual_tender_wins] == 0
    assert st.core_volume[0, 0] == 0 and st.next_tender[0, 0] == -1
    assert st.private_value[0, 0] > 0
    assert st.firm_contracts[0].sum() == 1


def test_lots_can_be_shared(tiny):
    sc = tiny.replace(private_bid_prob=1.0, lots=2, eval_noise=1.0)
    k, st = _tender_ready(sc)
    noise = np.zeros((sc.councils * sc.services_per_council, sc.private_bidders + 1, 2))
    noise[0, 0, :] = [5.0, -5.0]                    # mutual wins lot 0, loses lot 1
    volume = st.v0[0, 0] * st.budget[0, 0]
    tender_now(st, k, make_draws(sc, score=noise), ledger())
    assert st.core_volume[0, 0] == pytest.approx(volume / 2)
    assert st.tender_wins[0, 0] == 1 and st.private_value[0, 0] > 0


def test_social_value_weight_helps_the_mutual(tiny):
    """Same noise: a bid that loses on price wins when social value is weighted."""
    base = tiny.replace(private_bid_prob=1.0, private_unit_cost=0.75, eval_noise=0.0,
                        incumbency_bonus=0.0, quality_weight=0.0, financial_weight=0.0)
    outcomes = []
    for social in (0.0, 0.6):
        sc = base.replace(price_weight=1.0 - social, social_weight=social)
        k, st = _tender_ready(sc)
        st.social_value[0, 0] = 0.9
        tender_now(st, k, make_draws(sc), ledger())
        outcomes.append(st.core_volume[0, 0] > 0)
    assert outcomes == [False, True]


# --- finance ------------------------------------------------------------------------------
def test_reserves_change_by_income_minus_costs(tiny):
    k, _, st = fresh(tiny)
    trading_mutual(st, 0, stage=COMPETING, reserves=0.3)
    st.trading_income[0, 0], st.external[0, 0] = 0.2, 0.4
    st.recession[:] = False            # no recession cut of trading income this year
    before = st.reserves.copy()
    settle_accounts(st.arrays(), 0, k, make_draws(tiny, grant=0.0), st.year, NO_CITIZENS,
                    NO_CITIZENS, ledger())
    assert st.reserves[0, 0] - before[0, 0] == pytest.approx(st.income[0, 0] - st.costs[0, 0])
    grant = tiny.grant_size * st.v0[0, 0]
    core = st.core_price[0, 0] * st.core_volume[0, 0]
    assert st.income[0, 0] == pytest.approx(core + 0.2 + 0.4 + grant)
    assert st.parent_share[0, 0] == pytest.approx(core / st.income[0, 0])


def test_no_grants_while_incubating(tiny):
    k, _, st = fresh(tiny)
    trading_mutual(st, 0, stage=INCUBATING)
    settle_accounts(st.arrays(), 0, k, make_draws(tiny, grant=0.0), st.year, NO_CITIZENS,
                    NO_CITIZENS, led := ledger())
    assert led[Flow.grant_income] == 0.0 and led[Flow.council_spend] > 0


def test_teckal_caps_outside_income(tiny):
    k, _, st = fresh(tiny)
    trading_mutual(st, 0, stage=INCUBATING)
    st.trading_income[0, 0] = 5.0 * st.v0[0, 0]
    grow_income(st.arrays(), 0, k, make_draws(tiny), NO_CITIZENS, led := ledger())
    core = st.core_price[0, 0] * st.core_volume[0, 0]
    outside = st.trading_income[0, 0] + st.external[0, 0]
    assert core / (core + outside) == pytest.approx(tiny.teckal_activity_limit)
    assert led[Flow.teckal_capped] == 1


def test_teckal_company_wins_outside_contracts_up_to_the_limit(tiny):
    """An incubating company can win a contract elsewhere (seed 000 §4.3 'explore new
    revenue raising opportunities'); below the limit it keeps it whole."""
    for limit, capped in ((0.5, False), (0.8, True)):
        sc = tiny.replace(teckal_activity_limit=limit)
        k, _, st = fresh(sc)
        trading_mutual(st, 0, stage=INCUBATING)
        st.trading_income[0, 0] = 0.01 * st.v0[0, 0]
        grow_income(st.arrays(), 0, k, make_draws(sc, external=0.0), NO_CITIZENS,
                    led := ledger())
        won = sc.external_size * st.v0[0, 0]
        assert bool(st.external[0, 0] < won) == capped
        assert led[Flow.teckal_capped] == int(capped)
        if not capped:
            assert st.external[0, 0] == pytest.approx(won)


def test_recession_depresses_trading(tiny):
    k, _, st = fresh(tiny, R=2)
    for r in range(2):
        st.stage[r, 0] = COMPETING
        st.capability[r, 0] = 0.5
        st.trading_income[r, 0] = 0.1
        st.v0[r, 0] = st.v0[0, 0]
    st.recession[:] = [False, True]
    for r in range(2):
        grow_income(st.arrays(), r, k, make_draws(tiny), NO_CITIZENS, ledger())
    assert st.trading_income[1, 0] < st.trading_income[0, 0]


# --- capability ---------------------------------------------------------------------------
def test_support_and_incubation_speed_learning(tiny):
    results = []
    for sc, stage in ((tiny.replace(support_level=0.0), PROTECTED),
                      (tiny.replace(support_level=1.0), PROTECTED),
                      (tiny.replace(support_level=1.0), INCUBATING)):
        k, _, st = fresh(sc)
        trading_mutual(st, 0, stage=stage)
        st.capability[0, 0] = 0.3
        learn(st.arrays(), 0, k, make_draws(sc), st.year)
        results.append(st.capability[0, 0])
    assert results[0] < results[1] < results[2]


# --- exits --------------------------------------------------------------------------------
def test_exit_causes_and_aftermath(tiny):
    sc = tiny.replace(takeover_prob=1.0, asset_lock=False)
    k, _, st = fresh(sc)
    trading_mutual(st, 0, reserves=-10.0)                    # insolvent, still has service
    trading_mutual(st, 1, volume=0.0, reserves=0.5)          # lost core, little else
    trading_mutual(st, 2, reserves=-0.01)                    # weak: taken over
    trading_mutual(st, 3, reserves=0.5)                      # fine
    st.income[0, 2] = 10.0
    led = ledger()
    apply_exits(st.arrays(), 0, k, make_draws(sc, takeover=0.0), st.year, led)
    assert st.exit_cause[0].tolist() == [INSOLVENCY, WIND_DOWN, TAKEOVER, 0]
    assert st.stage[0].tolist() == [EXITED, EXITED, EXITED, PROTECTED]
    assert (st.exit_year[0, :3] == st.year).all()
    assert led[Flow.step_in_cost] > 0 and led[Flow.service_disruptions] == 1
    assert led[Flow.assets_lost] > 0 and led[Flow.assets_preserved] == 0
    assert [led[Flow.exits_insolvency], led[Flow.exits_wind_down],
            led[Flow.exits_takeover]] == [1, 1, 1]


def test_asset_lock_preserves_assets_and_deters_takeover(tiny):
    sc = tiny.replace(takeover_prob=0.5, asset_lock=True, asset_lock_deterrence=1.0)
    k, _, st = fresh(sc)
    trading_mutual(st, 0, volume=0.0, reserves=0.5)
    st.assets[0, 0] = 0.2
    trading_mutual(st, 1, reserves=-0.01)
    st.income[0, 1] = 10.0
    led = ledger()
    apply_exits(st.arrays(), 0, k, make_draws(sc, takeover=0.0), st.year, led)
    assert st.exit_cause[0, 0] == WIND_DOWN and st.stage[0, 1] == PROTECTED
    assert led[Flow.assets_preserved] == pytest.approx(0.7)


def test_teckal_cap_uses_this_years_contract_after_a_budget_cut(tiny):
    """The cap is judged on the budget-indexed contract the company is paid this year."""
    k, _, st = fresh(tiny)
    trading_mutual(st, 0, stage=INCUBATING)          # last year's volume: v0
    st.trading_income[0, 0] = 5.0 * st.v0[0, 0]
    st.budget[0, 0] = 0.7                            # this year's contract is 30% smaller
    grow_income(st.arrays(), 0, k, make_draws(tiny), NO_CITIZENS, led := ledger())
    assert led[Flow.teckal_capped] == 1
    core = st.core_price[0, 0] * st.v0[0, 0] * 0.7
    outside = st.trading_income[0, 0] + st.external[0, 0]
    assert core / (core + outside) == pytest.approx(tiny.teckal_activity_limit)
