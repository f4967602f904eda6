"""Income diversification and the accounts (ODD 'Income and accounts', DESIGN §3.5).

A mutual's income is its core contract with its parent council, contracts won elsewhere,
grants (open to it only once independent) and trading income, which grows with capability
and citizens' support but suffers in a recession (seed 000 §4.3). Its costs are the unit cost
of what it delivers plus a back-office overhead. Every year carries risk: each mutual starts
from its own cost position, its unit cost drifts with pay and jumps with pension
revaluations (seed 000 §4.3: 'pensions, staff T&C, TUPE'), the volume the council buys
varies, and a recession cuts trading income after its costs are committed. Staff follow a
contract under TUPE, so the variable cost goes with a lost contract; the back office shrinks
towards what the remaining business needs over ``overhead_adjust_years``; budget cuts shrink
only its variable part (austerity squeezes a sheltered mutual through the fixed part).
Reserves change by income minus costs, exactly. A Teckal company's outside income is capped
so that at least ``teckal_activity_limit`` of its activity is for its council.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import (
    SLOT_EXTERNAL,
    SLOT_GRANT,
    SLOT_PAY,
    SLOT_PENSION,
    SLOT_TRADING,
    SLOT_VOLUME,
    Draws,
    slot_normal,
    slot_uniform,
)
from ..state import COMPETING, INCUBATING, Arrays
from .context import Context, Flow, business_support, is_active


@kernel_inline
def unit_cost(k: Context, capability: float, civic: float) -> float:
    """An average mutual's variable cost per unit of service, excluding the back office
    (in-house cost, back office included, is 1): pensions push it up, capability and
    volunteers down. ``civic`` is citizens' support x engagement in the slot's council.
    A mutual's own unit cost is this times its cost factor (:func:`cost_factor`)."""
    return ((1.0 - k.backoffice_overhead) * (1.0 + k.pension_overhead)
            * (1.0 - k.efficiency_max * capability) - k.volunteering_saving * civic)


@kernel_inline
def cost_factor(position: float, drift: float) -> float:
    """A mutual's unit-cost factor (1 = average): its cost position at spin-out plus the
    drift since (pay drift, pension revaluations), never below zero."""
    return max(position + drift, 0.0)


@kernel_inline
def business_support_acts(k: Context, independent: bool, year: int, spinout_year: int
                          ) -> bool:
    """The council's business support reaches this slot this year (and is paid for): a
    Teckal company, or a mutual in its first ``business_support_years`` after spin-out."""
    return not independent or year - spinout_year < k.business_support_years


@kernel_inline
def next_overhead(k: Context, overhead: float, share: float, full: float) -> float:
    """This year's back-office overhead (GBP m/yr) for a mutual holding ``share`` of its
    service's contract (1 while sheltered; the lots it won after a tender; 0 once lost),
    ``full`` being the back office of the whole service (:func:`full_back_office`). It
    grows at once with the share held but shrinks by at most ``full`` /
    ``overhead_adjust_years`` a year (notice periods, leases), never below the share
    ``overhead_floor`` of ``full`` that a going concern keeps."""
    target = full * max(share, k.overhead_floor)
    if target >= overhead:
        return target
    return max(target, overhead - full / k.overhead_adjust_years)


@kernel_inline
def full_back_office(k: Context, v0: float, budget: float) -> float:
    """The back office of the whole service (GBP m/yr): ``backoffice_overhead`` x v0, of
    which the share ``overhead_fixed_share`` does not shrink with the council's budget."""
    return k.backoffice_overhead * v0 * (k.overhead_fixed_share
                                         + (1.0 - k.overhead_fixed_share) * budget)


@kernel_inline
def grow_income(st: Arrays, r: int, k: Context, d: Draws, citizen_support: np.ndarray,
                led: np.ndarray) -> None:
    """Contracts elsewhere and trading income evolve for the coming year's accounts.

    For every active slot of row ``r``: a trading mutual or a Teckal company wins an
    outside contract with probability ``external_win_rate`` x capability (the slot's yearly
    uniform SLOT_EXTERNAL) and loses a share ``external_churn`` of the old ones; trading income
    (GBP m/yr) grows logistically towards ``trading_cap`` x v0 with capability,
    ``citizen_support`` (C,) and noise (``trading_noise`` x the slot's yearly normal
    SLOT_TRADING), less
    in a recession. A Teckal company explores outside income too (seed 000 §4.3 'begin to
    explore new revenue raising opportunities'), but trading and outside contracts together
    are scaled down to the Teckal limit (at most 1 - ``teckal_activity_limit`` of its
    activity). Changes
    ``external``, ``trading_income``. Ledger ``teckal_capped`` (Teckal companies whose
    outside income the limit cut). ODD 'Income and accounts', 'Teckal incubation'.
    """
    capped = 0
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        c = m // k.S
        independent = stage != INCUBATING
        capability, v0 = st.capability[r, m], st.v0[r, m]
        win = slot_uniform(d, m, SLOT_EXTERNAL) < k.external_win_rate * capability
        external = st.external[r, m] * (1.0 - k.external_churn) \
            + (k.external_size if win else 0.0) * v0
        growth = (k.trading_growth * capability + k.citizen_demand_effect * citizen_support[c]
                  - (k.recession_trading_penalty if st.recession[r] else 0.0)
                  + k.trading_noise * slot_normal(d, m, SLOT_TRADING))
        cap = max(k.trading_cap * v0, 1e-12)
        trade = st.trading_income[r, m]
        trade = max(trade + growth * trade * (1.0 - trade / cap), 0.0)
        if not independent:
            # Teckal: outside income at most (1 - limit) of all activity, judged on this
            # year's contract (a sheltered contract follows the budget, see settle_accounts).
            core = st.core_price[r, m] * (v0 * st.budget[r, c])
            limit = core * (1.0 - k.teckal_activity_limit) / k.teckal_activity_limit
            outside = trade + external
            if outside > limit:
                scale = limit / max(outside, 1e-300)
                trade = trade * scale
                external = external * scale
                capped += 1
        st.trading_income[r, m] = trade
        st.external[r, m] = external
    led[Flow.teckal_capped] += capped


@kernel_inline
def settle_accounts(st: Arrays, r: int, k: Context, d: Draws, year: int,
                    citizen_support: np.ndarray, engagement: np.ndarray,
                    led: np.ndarray) -> None:
    """Income minus costs into reserves, for every active mutual or Teckal company.

    A contract outside competition (protected or Teckal) follows the parent's budget year
    by year. Draws, the active slot's yearly numbers (:func:`rng.slot_uniform`,
    :func:`rng.slot_normal`, computed only here, for active slots): the cost factor drifts
    by ``pay_drift_sd`` x normal SLOT_PAY and jumps by ``pension_shock_size`` when
    uniform SLOT_PENSION < ``pension_shock_prob`` (a pension revaluation); the volume
    billed is the contract's volume x (1 + ``volume_shock_sd`` x normal SLOT_VOLUME), while
    its staff cost is committed on the contract's volume; a grant comes when uniform SLOT_GRANT <
    ``grant_prob`` (only once independent). In a recession a share
    ``recession_trading_cut`` of trading income is lost after its costs are committed.
    Income: core + external + trading + grant; costs: the mutual's unit cost x volume
    (TUPE: none once a contract is lost) + cost of external work + trading costs + the
    back office (:func:`next_overhead`). Changes ``core_volume``, ``cost_drift``,
    ``trading_income``, ``overhead``, ``income``, ``costs``, ``reserves``,
    ``parent_share``, ``cost_shock_loss``, ``income_shock_loss`` (GBP m/yr, share).
    Ledger ``core_income``, ``external_income``, ``trading_income``, ``grant_income``
    (independent mutuals), ``council_spend`` (contract and business support, paid while
    it acts: :func:`business_support_acts`). ODD 'Income and accounts'.
    """
    core_income = external_income = trading_income = grant_income = 0.0
    contract_spend = support_spend = 0.0
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        c = m // k.S
        independent = stage != INCUBATING
        v0 = st.v0[r, m]
        volume = st.core_volume[r, m] if stage == COMPETING else v0 * st.budget[r, c]
        st.core_volume[r, m] = volume
        # Cost shocks: pay drift every year, a pension revaluation now and then.
        pension_shock = slot_uniform(d, m, SLOT_PENSION) < k.pension_shock_prob
        pension = k.pension_shock_size if pension_shock else 0.0
        drift = st.cost_drift[r, m] + k.pay_drift_sd * slot_normal(d, m, SLOT_PAY) + pension
        st.cost_drift[r, m] = drift
        base = unit_cost(k, st.capability[r, m], citizen_support[c] * engagement[c])
        variable = cost_factor(st.cost_position[r, m], drift) * base * volume
        # Income shocks: the volume the council calls off, trading income in a recession.
        billed = volume * max(1.0 + k.volume_shock_sd * slot_normal(d, m, SLOT_VOLUME), 0.0)
        core = st.core_price[r, m] * billed
        planned = st.trading_income[r, m]
        trade = planned * (1.0 - k.recession_trading_cut) if st.recession[r] else planned
        st.trading_income[r, m] = trade
        external = st.external[r, m]
        grant = (k.grant_size * v0
                 if independent and slot_uniform(d, m, SLOT_GRANT) < k.grant_prob else 0.0)
        share = 1.0                       # share of the service's contract it holds
        if stage == COMPETING:
            share = min(volume / max(v0 * st.budget[r, c], 1e-12), 1.0)
        full = full_back_office(k, v0, st.budget[r, c])
        overhead = next_overhead(k, st.overhead[r, m], share, full)
        st.overhead[r, m] = overhead
        income = core + external + trade + grant
        costs = (variable
                 + external / (1.0 + k.external_margin)
                 + planned * (1.0 - k.trading_margin)
                 + overhead)
        st.income[r, m] = income
        st.costs[r, m] = costs
        st.reserves[r, m] += income - costs
        st.parent_share[r, m] = core / max(income, 1e-12)
        st.cost_shock_loss[r, m] += drift * base * volume
        st.income_shock_loss[r, m] += st.core_price[r, m] * (volume - billed) + (planned - trade)
        if independent:
            core_income += core
            external_income += external
            trading_income += trade
        grant_income += grant
        contract_spend += core
        if business_support_acts(k, independent, year, st.spinout_year[r, m]):
            support_spend += k.support_cost * business_support(st.council_propensity[r, c],
                                                                 st.council_support[r, c]) * v0
    led[Flow.core_income] += core_income
    led[Flow.external_income] += external_income
    led[Flow.trading_income] += trading_income
    led[Flow.grant_income] += grant_income
    led[Flow.council_spend] += contract_spend
    led[Flow.council_spend] += support_spend
