"""Councils as a population (ODD 'Councils'): each council's own policy drawn at set-up,
deterrence after failures nearby, the national programme in time, the Right to Challenge
and stranded back-office costs."""

from __future__ import annotations

import numpy as np
import pytest

from mutualsim import Scenario
from mutualsim.jit import python_callable
from mutualsim.kernel import economy, pipeline
from mutualsim.kernel.context import Flow
from mutualsim.state import EXITED, NONE, PROPOSED, PROTECTED, STRATEGIC

from conftest import IMPOSED, fresh, ledger, make_draws, run_years

deterrence = python_callable(pipeline.deterrence)
propose = python_callable(pipeline.propose)
prepare = python_callable(pipeline.prepare)
stranded_costs = python_callable(economy.stranded_costs)

COUNCIL_ARRAYS = ("council_style", "council_w_price", "council_w_quality", "council_w_social",
                  "council_w_financial", "council_coproduction", "council_risk_aversion",
                  "council_support", "council_austerity", "council_propensity", "council_lots")


# --- councils differ --------------------------------------------------------------------------
def test_councils_draw_the_spread_the_scenario_sets():
    """2,000 councils (seed 4): each share within 0.04 of the scenario's (binomial s.d. at
    most 0.011), each mean within 4 standard errors, spreads within 15%."""
    sc = Scenario(councils=2000, years=1)
    _, _, st = fresh(sc, R=1, seed=4)
    style = st.council_style[0]
    assert np.mean(style == 0) == pytest.approx(sc.cost_led_share, abs=0.04)
    assert np.mean(style == 2) == pytest.approx(sc.cooperative_share, abs=0.04)
    assert np.mean(style == 1) == pytest.approx(1 - sc.cost_led_share - sc.cooperative_share,
                                                abs=0.04)
    # Within a style, co-production and risk aversion spread around the preset.
    coop = st.council_coproduction[0][style == 2]
    assert coop.mean() == pytest.approx(0.8, abs=4 * 0.1 / np.sqrt(coop.size) + 0.01)
    assert st.council_risk_aversion[0][style == 1].std() == pytest.approx(
        sc.council_policy_sd, rel=0.15)
    # Weights follow the style: cost-led councils weigh price most.
    assert st.council_w_price[0][style == 0].min() > st.council_w_price[0][style == 2].max()
    austerity = st.council_austerity[0]
    assert austerity.mean() == pytest.approx(sc.austerity_rate, abs=4 * 0.01 / np.sqrt(2000))
    assert austerity.std() == pytest.approx(sc.austerity_rate_sd, rel=0.15)
    assert austerity.min() >= 0
    support = st.council_support[0]
    assert support.mean() == pytest.approx(sc.support_level, abs=0.01)
    assert support.std() == pytest.approx(sc.support_level_sd, rel=0.15)
    propensity = st.council_propensity[0]
    assert np.mean(propensity == 0) == pytest.approx(sc.unsupportive_council_share, abs=0.04)
    keen = propensity[propensity > 0]
    assert keen.mean() == pytest.approx(1.0, abs=0.06)      # log-normal with mean 1
    assert np.log(keen).std() == pytest.approx(sc.spinout_propensity_sdlog, rel=0.15)
    lots = st.council_lots[0]
    assert set(np.unique(lots)) == {1, sc.lots_split}
    assert np.mean(lots == sc.lots_split) == pytest.approx(sc.lot_split_share, abs=0.04)


def test_set_up_draws_do_not_depend_on_the_policy():
    """Imposing a policy changes no other draw: service values and firms are the same."""
    _, _, a = fresh(Scenario(councils=30), seed=2)
    _, _, b = fresh(Scenario(councils=30, **IMPOSED), seed=2)
    np.testing.assert_array_equal(a.v0, b.v0)
    np.testing.assert_array_equal(a.firm_cost, b.firm_cost)
    assert np.ptp(a.council_support) > 0 and np.ptp(b.council_support) == 0


@pytest.mark.parametrize("policy", [
    dict(IMPOSED, commissioning_style="cooperative"),
    dict(IMPOSED, commissioning_style="cost_led", lots=3),
    dict(IMPOSED, price_weight=0.9, coproduction=0.3, risk_aversion=0.2),
])
def test_an_imposed_policy_gives_every_council_the_same_values(policy):
    sc = Scenario(councils=200, **policy)
    k, _, st = fresh(sc, R=2, seed=1)
    for name in COUNCIL_ARRAYS:
        values = getattr(st, name)
        assert np.ptp(values) == 0, name
    assert st.council_support[0, 0] == sc.support_level
    assert st.council_austerity[0, 0] == sc.austerity_rate
    assert st.council_lots[0, 0] == (sc.lots if sc.lots >= 2 else 1)
    if sc.coproduction is not None:
        assert st.council_coproduction[0, 0] == sc.coproduction
        assert st.council_risk_aversion[0, 0] == sc.risk_aversion
    else:
        assert st.council_coproduction[0, 0] == k.coproduction


def test_mixed_style_has_population_mean_constants():
    """Rules that still read one value for all councils get the population's mean."""
    sc = Scenario()
    mean = (sc.cost_led_share * 0.80 + (1 - sc.cost_led_share - sc.cooperative_share) * 0.60
            + sc.cooperative_share * 0.30)
    assert sc.resolved("risk_aversion") == pytest.approx(mean)


def test_style_shares_over_one_are_refused():
    from mutualsim.errors import InputError
    with pytest.raises(InputError, match="cost_led_share \\+ cooperative_share"):
        Scenario(cost_led_share=0.7, cooperative_share=0.5)


# --- failures deter ------------------------------------------------------------------------
def test_a_failure_deters_its_council_and_neighbours_for_the_stated_years(tiny):
    sc = tiny.replace(councils=5, failure_deterrence=0.5, failure_deterrence_years=3,
                      neighbour_deterrence_share=0.4)
    k, _, st = fresh(sc)
    m = 2 * sc.services_per_council            # a mutual of council 2
    st.stage[0, m], st.exit_year[0, m] = EXITED, 2015
    own, near = 1 - 0.5, 1 - 0.4 * 0.5
    for year, expected in [(2015, [1, 1, 1, 1, 1]),
                           (2016, [1, near, own, near, 1]),
                           (2018, [1, near, own, near, 1]),
                           (2019, [1, 1, 1, 1, 1])]:
        np.testing.assert_allclose(deterrence(st.arrays(), 0, k, year), expected,
                                   err_msg=str(year))


def test_a_deterred_council_proposes_less(tiny):
    """One uniform between the deterred and undeterred reactive probability: the service
    is proposed only once the deterrence has run out."""
    sc = tiny.replace(reactive_prob=0.2, strategic_prob=0.0, budget_pressure_sensitivity=0.0,
                      failure_deterrence=0.5, failure_deterrence_years=2,
                      programme_proposal_effect=0.0)
    k, _, st = fresh(sc)
    st.stage[0, 1], st.exit_year[0, 1] = EXITED, 2020      # council 0's other service
    p_free = 0.2 * (1 - sc.reactive_coproduction_damping * k.coproduction)
    u = np.full(sc.councils * sc.services_per_council, 0.99)
    u[0] = 0.75 * p_free                                   # above the deterred 0.5 x p_free
    proposed = {}
    for year in (2021, 2022, 2023):
        trial = st.take(slice(None))
        propose(trial.arrays(), 0, k, make_draws(sc, propose=u), year,
                np.ones(sc.councils), ledger())
        proposed[year] = trial.stage[0, 0] == PROPOSED
    assert proposed == {2021: False, 2022: False, 2023: True}


# --- the programme in time ----------------------------------------------------------------
def test_programme_support_ends_after_its_funded_years(tiny):
    sc = tiny.replace(reactive_prob=0.1, strategic_prob=0.0, budget_pressure_sensitivity=0.0,
                      programme_start_year=2012, programme_end_year=2014,
                      programme_proposal_effect=1.0, programme_completion_effect=1.0,
                      abandon_reactive_prob=0.0)
    k, _, st = fresh(sc)
    p_free = 0.1 * (1 - sc.reactive_coproduction_damping * k.coproduction)
    u = np.full(sc.councils * sc.services_per_council, 1.5 * p_free)  # only when doubled
    proposed = {}
    for year in (2011, 2012, 2014, 2015):
        trial = st.take(slice(None))
        propose(trial.arrays(), 0, k, make_draws(sc, propose=u), year,
                np.ones(sc.councils), ledger())
        proposed[year] = bool((trial.stage[0] == PROPOSED).all())
    assert proposed == {2011: False, 2012: True, 2014: True, 2015: False}
    # Preparation: completion doubled while funded, not after.
    p_complete = sc.prep_completion_prob * (sc.completion_support_base
                                       + sc.completion_support_gain * sc.support_level)
    completed = {}
    for year in (2014, 2015):
        trial = st.take(slice(None))
        trial.stage[0] = PROPOSED
        trial.origin[0] = STRATEGIC
        prep_u = np.full(sc.councils * sc.services_per_council, 1 - 1.5 * p_complete)
        prepare(trial.arrays(), 0, k, make_draws(sc, prep=prep_u), year,
                trial.stage[0] == PROPOSED, ledger())
        completed[year] = bool((trial.stage[0] == PROTECTED).all())
    assert completed == {2014: True, 2015: False}


# --- the Right to Challenge ------------------------------------------------------------------
def test_staff_challenge_where_the_council_does_not_support_spin_outs(tiny):
    sc = tiny.replace(reactive_prob=1.0, strategic_prob=0.0, right_to_challenge_prob=0.3,
                      right_to_challenge_year=2012, programme_proposal_effect=0.0)
    k, _, st = fresh(sc)
    st.council_propensity[0, 0] = 0.0            # council 0 does not back spin-outs
    u = np.full(sc.councils * sc.services_per_council, 0.2)   # below 0.3 x engagement 1
    outcome = {}
    for year in (2011, 2012):
        trial = st.take(slice(None))
        propose(trial.arrays(), 0, k, make_draws(sc, propose=u), year,
                np.ones(sc.councils), ledger())
        outcome[year] = (trial.stage[0].tolist(), trial.origin[0, :2].tolist())
    S = sc.services_per_council
    # Before the right exists: council 0's staff cannot propose; council 1 proposes (reactive).
    assert outcome[2011][0] == [NONE] * S + [PROPOSED] * S
    # From the right's first year: council 0's staff challenge, a bottom-up proposal.
    assert outcome[2012][0] == [PROPOSED] * (2 * S)
    assert outcome[2012][1] == [STRATEGIC] * S


def test_right_to_challenge_proposals_occur_in_a_full_run():
    """Baseline councils (seed 5): services of councils that do not back spin-outs are
    proposed only from the right's first year, and some are."""
    sc = Scenario(councils=60, years=15, right_to_challenge_prob=0.1)
    st, _ = run_years(sc, R=2, seed=5)
    council = np.arange(sc.councils * sc.services_per_council) // sc.services_per_council
    unsupportive = st.council_propensity[:, council] == 0
    years = st.proposal_year[unsupportive & (st.proposal_year >= 0)]
    assert len(years) >= 5
    assert years.min() >= sc.right_to_challenge_year


# --- stranded costs ---------------------------------------------------------------------------
def test_stranded_back_office_costs_last_the_stated_years(tiny):
    sc = tiny.replace(stranded_cost=0.05, stranded_years=3)
    k, _, st = fresh(sc)
    st.spinout_year[0, 0] = 2012
    st.spinout_year[0, 2] = 2014
    spend = {}
    for year in (2012, 2014, 2015, 2017):
        led = ledger()
        stranded_costs(st.arrays(), 0, k, year, led)
        spend[year] = led[Flow.council_spend]
    v = st.v0[0]
    assert spend[2012] == pytest.approx(0.05 * v[0])
    assert spend[2014] == pytest.approx(0.05 * (v[0] + v[2]))
    assert spend[2015] == pytest.approx(0.05 * v[2])
    assert spend[2017] == 0.0


# --- renamed keys ---------------------------------------------------------------------------
@pytest.mark.parametrize("old, new", [("reactive_rate", "reactive_prob"),
                                      ("recession_exit", "recession_exit_prob")])
def test_an_old_probability_key_names_its_new_name(tmp_path, old, new):
    from mutualsim.errors import InputError
    from mutualsim.params import load_scenario
    path = tmp_path / "s.toml"
    path.write_text(f"{old} = 0.1\n")
    with pytest.raises(InputError, match=f"'{old}' was renamed to '{new}'"):
        load_scenario(path)
