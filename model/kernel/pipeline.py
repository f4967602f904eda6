"""Spin-out pipeline and Teckal incubation (ODD 'Spin-out pipeline', 'Teckal incubation';
DESIGN §3.1-3.2).

A service still in-house may be proposed for spin-out top-down, as a reaction to budget cuts
(reactive), or bottom-up, from engaged staff and citizens (strategic). A proposal in
preparation costs the council effort each year and either completes or is abandoned
('long, drawn-out and ultimately unsuccessful projects', seed 000 §4.2). A completed proposal
becomes a Teckal company for ``incubation_years`` if the council uses incubation; at the end
of incubation the council spins it out if it looks viable and takes the service back if not.
Otherwise it spins out at once and starts its protected contract.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline, kernel_jit
from ..rng import Draws
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
from .context import Context, Flow, total

CAPABILITY_RANGE = (0.02, 0.98)  # capability at proposal is kept inside this range


@kernel_jit
def propose(st: Arrays, r: int, k: Context, d: Draws, year: int, engagement: np.ndarray,
            led: np.ndarray) -> None:
    """New proposals among in-house services: reactive to cuts, or strategic from below.

    One uniform ``d.propose[m]`` per slot decides: below the reactive probability the
    proposal is reactive, above it and below the sum it is strategic. Probabilities are per
    year; ``engagement`` (C,) is the councils' mean citizen engagement. Changes ``stage``,
    ``origin``, ``proposal_year``, ``capability``, ``quality``, ``social_value``,
    ``governance`` of new proposals (row ``r``); ledger ``proposals``. ODD 'Spin-out pipeline'.
    """
    lo, hi = CAPABILITY_RANGE
    count = 0
    for m in range(k.M):
        if st.stage[r, m] != NONE:
            continue
        c = m // k.S
        pressure = 1.0 - st.budget[r, c]
        p_reactive = min(k.reactive_rate * (1.0 + k.budget_pressure_sensitivity * pressure)
                         * (1.0 - 0.5 * k.coproduction), 1.0)
        p_strategic = k.strategic_rate * engagement[c] * (0.5 + k.coproduction)
        u = d.propose[m]
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
        st.governance[r, m] = k.governance_strategic if strategic else k.governance_reactive
    led[Flow.proposals] += count


@kernel_jit
def prepare(st: Arrays, r: int, k: Context, d: Draws, year: int, preparing: np.ndarray,
            led: np.ndarray) -> None:
    """Proposals prepared this year (``preparing`` (M,) bool, the proposals at the start
    of the year) are abandoned, complete, or carry on.

    One uniform ``d.prep[m]`` per slot: below the abandonment probability the proposal is
    abandoned, above one minus the completion probability it completes (into incubation if
    the council uses it, else straight to spin-out). Preparation costs the council
    ``prep_cost`` x v0 (GBP m) a year. Ledger ``council_spend``, ``abandoned``.
    ODD 'Spin-out pipeline'.
    """
    support = k.support_level
    spend = np.zeros(k.M)
    abandoned = 0
    for m in range(k.M):
        if not preparing[m]:
            continue
        spend[m] = k.prep_cost * st.v0[r, m]
        base = k.abandon_strategic if st.origin[r, m] == STRATEGIC else k.abandon_reactive
        p_abandon = min(base * (1.0 - 0.5 * support) * (0.5 + k.risk_aversion), 1.0)
        p_complete = min(k.prep_completion * (0.75 + 0.5 * support), 1.0 - p_abandon)
        u = d.prep[m]
        if u < p_abandon:
            st.stage[r, m] = ABANDONED
            abandoned += 1
        elif u >= 1.0 - p_complete:
            if k.incubation_years > 0:
                start_incubation(st, r, k, m, year)
            else:
                spin_out(st, r, k, m, year, False)
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
def viability(capability: float, quality: float, reserves: float, v0: float) -> float:
    """The council's market test at the end of incubation, in [0, 1]: capability, quality
    and reserves against a tenth of the contract's value."""
    reserve_score = min(max(reserves / (0.1 * v0), 0.0), 1.0)
    return 0.5 * capability + 0.25 * quality + 0.25 * reserve_score


@kernel_jit
def decide_incubation(st: Arrays, r: int, k: Context, year: int, led: np.ndarray) -> None:
    """At the end of incubation: spin out fully if viable enough for the council's risk
    stance, else take the service back in-house. Ledger ``taken_back``.
    ODD 'Teckal incubation'."""
    if k.incubation_years == 0:
        return
    threshold = k.takeback_threshold * (0.7 + 0.5 * k.risk_aversion)
    taken_back = 0
    for m in range(k.M):
        if st.stage[r, m] != INCUBATING or st.teckal_end[r, m] != year:
            continue
        if viability(st.capability[r, m], st.quality[r, m], st.reserves[r, m],
                     st.v0[r, m]) >= threshold:
            spin_out(st, r, k, m, year, True)
        else:
            st.stage[r, m] = TAKEN_BACK
            st.incubation_outcome[r, m] = INC_TAKEN_BACK
            st.core_volume[r, m] = 0.0
            taken_back += 1
    led[Flow.taken_back] += taken_back


@kernel_inline
def spin_out(st: Arrays, r: int, k: Context, m: int, year: int, incubated: bool) -> None:
    """Independence: the protected initial contract starts (tendered at once when there is
    no protection). A reactive spin-out's contract is priced ``reactive_saving`` lower; a
    share ``asset_transfer`` of v0 in assets moves to the mutual. A mutual not incubated
    gets its dowry and starting trading now."""
    p = k.protection_years
    v0 = st.v0[r, m]
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
