"""Spin-out pipeline and Teckal incubation (ODD 'Spin-out pipeline', 'Teckal incubation';
DESIGN §3.1-3.2).

A service still in-house may be proposed for spin-out top-down, as a reaction to budget cuts
(reactive), or bottom-up, from engaged staff and citizens (strategic). A proposal in
preparation costs the council effort each year and either completes or is abandoned
('long, drawn-out and ultimately unsuccessful projects', seed 000 §4.2). A completed proposal
becomes a Teckal company for ``incubation_years`` if the council uses incubation; at the end
of incubation the council appraises it, with an error, against keeping the service in-house
and buying it from the market (a market test), spins it out if it scores at least as well
for the council's risk stance and takes the service back if not. Otherwise it spins out at
once and starts its protected contract.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import (
    PROTECTION,
    SLOT_APPRAISAL,
    SLOT_PREP,
    SLOT_PROPOSE,
    Draws,
    contract_uniform,
    slot_normal,
    slot_uniform,
)
from ..state import (
    ABANDONED,
    COMPETING,
    INC_SPUN_OUT,
    INC_TAKEN_BACK,
    INCUBATING,
    NONE,
    PROPOSED,
    PROTECTED,
    REACTIVE,
    STRATEGIC,
    TAKEN_BACK,
    Arrays,
)
from .citizens import service_quality
from .context import Context, Flow, business_support, council_supports, total
from .tendering import drawn_length


@kernel_inline
def programme_funded(k: Context, year: int) -> bool:
    """The national support programme acts this year (seed 004 para 61, 83: the Mutuals
    Support Programme and DCLG's GBP 11.5m programme, funded until March 2015)."""
    return k.programme_start_year <= year <= k.programme_end_year


@kernel_inline
def last_exits(st: Arrays, r: int, k: Context) -> np.ndarray:
    """Year of the latest exit of a mutual of each council (C,), -1 if none yet."""
    last = np.full(k.C, -1, dtype=np.int64)
    for c in range(k.C):
        for m in range(c * k.S, (c + 1) * k.S):
            last[c] = max(last[c], st.exit_year[r, m])
    return last


@kernel_inline
def deterred(last_exit: int, year: int, k: Context) -> bool:
    """An exit in ``last_exit`` deters proposals in the ``failure_deterrence_years`` years
    after it."""
    return last_exit >= 0 and 0 < year - last_exit <= k.failure_deterrence_years


@kernel_inline
def deterrence(st: Arrays, r: int, k: Context, year: int) -> np.ndarray:
    """Factor (C,) in [0, 1] on each council's proposal probabilities after failures nearby:
    1 - ``failure_deterrence`` after an exit of one of its own mutuals, times 1 -
    ``neighbour_deterrence_share`` x ``failure_deterrence`` after one at a neighbouring
    council (index c - 1 or c + 1 on a ring). Seed 004 para 91 ('could ... deter other
    authorities'). ODD 'Spin-out pipeline'."""
    last = last_exits(st, r, k)
    recent = np.empty(k.C, dtype=np.bool_)
    for c in range(k.C):
        recent[c] = deterred(last[c], year, k)
    factor = np.ones(k.C)
    for c in range(k.C):
        if recent[c]:
            factor[c] *= 1.0 - k.failure_deterrence
        before = c - 1 if c > 0 else k.C - 1          # neighbours on the ring
        after = c + 1 if c < k.C - 1 else 0
        if (before != c and recent[before]) or (after != c and recent[after]):
            factor[c] *= 1.0 - k.neighbour_deterrence_share * k.failure_deterrence
    return factor


@kernel_inline
def propose(st: Arrays, r: int, k: Context, d: Draws, year: int, engagement: np.ndarray,
            led: np.ndarray) -> None:
    """New proposals among in-house services: reactive to cuts, strategic from below, or,
    where the council does not support spin-outs, a Right-to-Challenge from staff.

    Draws: the in-house slot's yearly uniform SLOT_PROPOSE (:func:`rng.slot_uniform`,
    computed only by in-house slots) decides. In a council that supports spin-outs: below the
    reactive probability the proposal is reactive, above it and below the sum it is
    strategic; both scale with the council's propensity
    (``st.council_propensity`` (R, C)), its deterrence after failures nearby
    (:func:`deterrence`) and its co-production. In a council that does not: below
    ``right_to_challenge_prob`` x engagement (from ``right_to_challenge_year``) staff
    challenge, a bottom-up proposal recorded as strategic. While the national programme is
    funded every probability rises by ``programme_proposal_effect``. Probabilities are per
    year; ``engagement`` (C,) is the councils' mean citizen engagement. A service is
    considered only from its ``st.open_year`` (R, M) (NEVER: not a candidate) and its
    bottom-up probabilities (strategic, Right to Challenge) scale with its staff's interest
    ``st.staff_interest`` (R, M), 1 for every service unless a council file says otherwise
    (:mod:`mutualsim.council`). Changes ``stage``,
    ``origin``, ``proposal_year``, ``capability``, ``quality``, ``social_value``,
    ``governance`` of new proposals (row ``r``); ledger ``proposals``. ODD 'Spin-out
    pipeline'.
    """
    lo, hi = k.capability_min, k.capability_max
    programme = 1.0 + k.programme_proposal_effect if programme_funded(k, year) else 1.0
    challenge_open = year >= k.right_to_challenge_year
    factor = deterrence(st, r, k, year)
    count = 0
    for c in range(k.C):
        # The council's probabilities; the bottom-up one before its staff's interest.
        bottom_up = True
        if council_supports(st.council_propensity[r, c]):
            pressure = 1.0 - st.budget[r, c]
            coproduction = st.council_coproduction[r, c]
            keen = st.council_propensity[r, c] * factor[c] * programme
            p_reactive = min(k.reactive_prob * (1.0 + k.budget_pressure_sensitivity * pressure)
                             * (1.0 - k.reactive_coproduction_damping * coproduction) * keen,
                             1.0)
            strategic_base = (k.strategic_prob * engagement[c]
                              * (k.strategic_coproduction_base + coproduction) * keen)
        else:
            p_reactive = 0.0
            strategic_base = k.right_to_challenge_prob * engagement[c] * programme
            bottom_up = challenge_open
        for s in range(k.S):
            m = c * k.S + s
            if st.stage[r, m] != NONE or year < st.open_year[r, m]:
                continue
            p_strategic = strategic_base * st.staff_interest[r, m] if bottom_up else 0.0
            u = slot_uniform(d, m, SLOT_PROPOSE)
            reactive = u < p_reactive
            if not reactive and not u < p_reactive + p_strategic:
                continue
            count += 1
            strategic = not reactive
            st.stage[r, m] = PROPOSED
            st.origin[r, m] = STRATEGIC if strategic else REACTIVE
            st.proposal_year[r, m] = year
            base = k.capability_strategic if strategic else k.capability_reactive
            st.capability[r, m] = min(max(base + k.capability_sd * st.cap0[r, m], lo), hi)
            st.quality[r, m] = k.quality_initial
            st.social_value[r, m] = k.social_value_strategic if strategic else \
                k.social_value_reactive
            st.governance[r, m] = k.governance_strategic if strategic else \
                k.governance_reactive
    led[Flow.proposals] += count


@kernel_inline
def prepare(st: Arrays, r: int, k: Context, d: Draws, year: int, preparing: np.ndarray,
            led: np.ndarray) -> None:
    """Proposals prepared this year (``preparing`` (M,) bool, the proposals at the start
    of the year) are abandoned, complete, or carry on.

    Draws: the proposal's yearly uniform SLOT_PREP (:func:`rng.slot_uniform`): below the
    abandonment probability the proposal is abandoned, above one minus the completion
    probability it completes (into incubation if the council uses it, else straight to
    spin-out). Both depend on the council's own business support (``st.council_support``,
    none where the council does not support spin-outs) and risk aversion
    (``st.council_risk_aversion``); completion rises by ``programme_completion_effect``
    while the programme is funded. Preparation costs the council ``prep_cost`` x v0
    (GBP m) a year. Ledger ``council_spend``, ``abandoned``. ODD 'Spin-out pipeline'.
    """
    programme = 1.0 + k.programme_completion_effect if programme_funded(k, year) else 1.0
    spend = np.zeros(k.M)
    abandoned = 0
    for m in range(k.M):
        if not preparing[m]:
            continue
        c = m // k.S
        support = business_support(st.council_propensity[r, c], st.council_support[r, c])
        spend[m] = k.prep_cost * st.v0[r, m]
        base = k.abandon_strategic_prob if st.origin[r, m] == STRATEGIC else k.abandon_reactive_prob
        p_abandon = min(base * (1.0 - k.abandon_support_damping * support)
                        * (k.abandon_risk_base + st.council_risk_aversion[r, c]), 1.0)
        p_complete = min(k.prep_completion_prob * (k.completion_support_base
                                              + k.completion_support_gain * support)
                         * programme, 1.0 - p_abandon)
        u = slot_uniform(d, m, SLOT_PREP)
        if u < p_abandon:
            st.stage[r, m] = ABANDONED
            abandoned += 1
        elif u >= 1.0 - p_complete:
            if k.incubation_years > 0:
                start_incubation(st, r, k, m, year)
            else:
                spin_out(st, r, k, m, year, False, d.keys[m])
    led[Flow.council_spend] += total(spend)
    led[Flow.abandoned] += abandoned


@kernel_inline
def start_incubation(st: Arrays, r: int, k: Context, m: int, year: int) -> None:
    """A Teckal company: arm's-length, still controlled, sheltered from competition; its
    contract follows the council's budget, it starts with a dowry and a little trading."""
    v0 = st.v0[r, m]
    st.stage[r, m] = INCUBATING
    st.teckal_end[r, m] = year + k.incubation_years
    st.core_volume[r, m] = v0 * st.budget[r, m // k.S]
    st.core_price[r, m] = 1.0
    st.reserves[r, m] = k.dowry * v0
    st.trading_income[r, m] = k.trading_start * v0


@kernel_inline
def viability(k: Context, capability: float, quality: float, standing: float) -> float:
    """The appraisal's viability score of one option, in [0, 1] when its inputs are:
    ``viability_capability_weight`` x capability + ``viability_quality_weight`` x quality
    + ``viability_reserve_weight`` x financial ``standing`` (all in [0, 1]).
    ODD 'Teckal incubation'."""
    return (k.viability_capability_weight * capability + k.viability_quality_weight * quality
            + k.viability_reserve_weight * standing)


@kernel_inline
def company_viability(k: Context, capability: float, quality: float, reserves: float,
                      v0: float) -> float:
    """The Teckal company's viability score: its capability, quality and reserves against
    ``viability_reserve_target`` x v0 (full marks at the target, none at or below zero)."""
    standing = min(max(reserves / (k.viability_reserve_target * v0), 0.0), 1.0)
    return viability(k, capability, quality, standing)


@kernel_inline
def spinout_bar(k: Context, budget: float, risk_aversion: float) -> float:
    """What the company must score to be spun out: the best of the council's other options
    (in-house: ``appraisal_inhouse_capability``, the in-house quality at this ``budget``
    and the budget index as financial standing; the market: ``appraisal_market_capability``,
    ``private_quality`` and full standing) and the floor ``takeback_threshold``, scaled by
    the council's risk stance ``takeback_risk_base + takeback_risk_slope x risk_aversion``
    (the council's own risk aversion)."""
    inhouse = viability(k, k.appraisal_inhouse_capability,
                        service_quality(k, NONE, 0.0, 0.0, 0.0, budget), budget)
    market = viability(k, k.appraisal_market_capability, k.private_quality, 1.0)
    best = max(k.takeback_threshold, max(inhouse, market))
    return best * (k.takeback_risk_base + k.takeback_risk_slope * risk_aversion)


@kernel_inline
def decide_incubation(st: Arrays, r: int, k: Context, d: Draws, year: int,
                      led: np.ndarray) -> None:
    """At the end of incubation the council appraises the company against its in-house and
    market options (a market test, seed 000 §4.3: 'if it's successful, you can mutualise,
    and if not, other options can be explored'): spun out if its appraised viability
    (:func:`company_viability` plus ``appraisal_noise_sd`` x the slot's yearly normal
    SLOT_APPRAISAL, the council's appraisal error) reaches :func:`spinout_bar`, else taken
    back in-house.

    Draws: normal SLOT_APPRAISAL (:func:`rng.slot_normal`), computed only by slots whose
    incubation ends this year; the slot's tender key ``d.keys[m]`` draws the protected
    contract's length at spin-out.
    Changes ``stage``, ``incubation_outcome``, ``core_volume`` (and the spin-out's fields,
    :func:`spin_out`). Ledger ``taken_back``. ODD 'Teckal incubation'.
    """
    if k.incubation_years == 0:
        return
    taken_back = 0
    for m in range(k.M):
        if st.stage[r, m] != INCUBATING or st.teckal_end[r, m] != year:
            continue
        appraised = (company_viability(k, st.capability[r, m], st.quality[r, m],
                                       st.reserves[r, m], st.v0[r, m])
                     + k.appraisal_noise_sd * slot_normal(d, m, SLOT_APPRAISAL))
        c = m // k.S
        if appraised >= spinout_bar(k, st.budget[r, c], st.council_risk_aversion[r, c]):
            spin_out(st, r, k, m, year, True, d.keys[m])
        else:
            st.stage[r, m] = TAKEN_BACK
            st.incubation_outcome[r, m] = INC_TAKEN_BACK
            st.core_volume[r, m] = 0.0
            taken_back += 1
    led[Flow.taken_back] += taken_back


@kernel_inline
def spin_out(st: Arrays, r: int, k: Context, m: int, year: int, incubated: bool,
             key: np.uint64) -> None:
    """Independence: the protected initial contract (one lot) starts, for a term drawn
    around ``protection_years`` (± ``protection_years_spread``, at least 1 year; contract
    uniform PROTECTION of the slot's tender ``key``), or is tendered at once when there is
    no protection. A reactive spin-out's contract is priced ``reactive_saving`` lower; a
    share ``asset_transfer`` of v0 in assets moves to the mutual. A mutual not incubated
    gets its dowry and starting trading now. Changes ``stage``, ``spinout_year``,
    ``next_tender``, ``lots_held``, ``extensions``, ``core_volume``, ``core_price``,
    ``assets`` (and ``reserves``, ``trading`` or ``incubation_outcome``)."""
    p = k.protection_years
    if p > 0:
        p = drawn_length(p, k.protection_years_spread,
                         contract_uniform(key, k.B, k.L, PROTECTION))
    v0 = st.v0[r, m]
    st.lots_held[r, m] = 1
    st.extensions[r, m] = 0
    st.stage[r, m] = PROTECTED if p > 0 else COMPETING
    st.spinout_year[r, m] = year
    st.next_tender[r, m] = year + p
    if incubated:
        st.incubation_outcome[r, m] = INC_SPUN_OUT
    else:
        st.reserves[r, m] = k.dowry * v0
        st.trading_income[r, m] = k.trading_start * v0
    st.core_volume[r, m] = v0 * st.budget[r, m // k.S]
    saving = 1.0 - k.reactive_saving if st.origin[r, m] == REACTIVE else 1.0
    st.core_price[r, m] = k.initial_price * saving
    st.assets[r, m] = k.asset_transfer * v0
