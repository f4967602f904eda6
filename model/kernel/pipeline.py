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
    State,
)
from .context import Context, Ledger


def propose(st: State, ctx: Context, d: Draws, engagement: np.ndarray, led: Ledger) -> None:
    """New proposals among in-house services: reactive to cuts, or strategic from below."""
    sc = ctx.sc
    pressure = 1.0 - ctx.per_slot(st.budget)
    p_reactive = np.minimum(sc.reactive_rate * (1.0 + sc.budget_pressure_sensitivity * pressure)
                            * (1.0 - 0.5 * ctx.coproduction), 1.0)
    p_strategic = sc.strategic_rate * ctx.per_slot(engagement) * (0.5 + ctx.coproduction)
    u = d.u["propose"]
    free = st.stage == NONE
    reactive = free & (u < p_reactive)
    strategic = free & ~reactive & (u < p_reactive + p_strategic)
    new = reactive | strategic
    led.add("proposals", new.sum(axis=1))
    r, m = np.nonzero(new)
    if r.size == 0:
        return
    is_s = strategic[r, m]
    st.stage[r, m] = PROPOSED
    st.origin[r, m] = np.where(is_s, STRATEGIC, REACTIVE)
    st.proposal_year[r, m] = st.year
    st.capability[r, m] = np.clip(np.where(is_s, sc.capability_strategic,
                                           sc.capability_reactive)
                                  + sc.capability_sd * st.cap0[r, m], 0.02, 0.98)
    st.quality[r, m] = sc.quality_initial
    st.social_value[r, m] = np.where(is_s, sc.social_value_strategic, sc.social_value_reactive)
    st.governance[r, m] = np.where(is_s, sc.governance_strategic, sc.governance_reactive)


def prepare(st: State, ctx: Context, d: Draws, led: Ledger, preparing: np.ndarray) -> None:
    """Proposals prepared this year complete, are abandoned, or carry on."""
    sc = ctx.sc
    support = sc.support_level
    base = np.where(st.origin == STRATEGIC, sc.abandon_strategic, sc.abandon_reactive)
    p_abandon = np.minimum(base * (1.0 - 0.5 * support) * (0.5 + ctx.risk_aversion), 1.0)
    p_complete = np.minimum(sc.prep_completion * (0.75 + 0.5 * support), 1.0 - p_abandon)
    u = d.u["prep"]
    abandon = preparing & (u < p_abandon)
    complete = preparing & ~abandon & (u >= 1.0 - p_complete)
    led.add("council_spend", (preparing * sc.prep_cost * st.v0).sum(axis=1))
    st.stage[abandon] = ABANDONED
    led.add("abandoned", abandon.sum(axis=1))
    if sc.incubation_years > 0:
        _start_incubation(st, ctx, complete)
    else:
        spin_out(st, ctx, complete, incubated=False)


def _start_incubation(st: State, ctx: Context, new: np.ndarray) -> None:
    """A Teckal company: arm's-length, still controlled, sheltered from competition."""
    if not new.any():
        return
    sc = ctx.sc
    st.stage[new] = INCUBATING
    st.teckal_end[new] = st.year + sc.incubation_years
    st.core_volume = np.where(new, st.v0 * ctx.per_slot(st.budget), st.core_volume)
    st.core_price = np.where(new, 1.0, st.core_price)
    st.reserves = np.where(new, sc.dowry * st.v0, st.reserves)
    st.trading = np.where(new, sc.trading_start * st.v0, st.trading)


def viability(st: State, ctx: Context) -> np.ndarray:
    """The council's market test at the end of incubation, in [0, 1]."""
    reserve_score = np.clip(st.reserves / (0.1 * st.v0), 0.0, 1.0)
    return 0.5 * st.capability + 0.25 * st.quality + 0.25 * reserve_score


def decide_incubation(st: State, ctx: Context, led: Ledger) -> None:
    """At the end of incubation: spin out fully, or take the service back in-house."""
    sc = ctx.sc
    if sc.incubation_years == 0:
        return
    due = (st.stage == INCUBATING) & (st.teckal_end == st.year)
    threshold = sc.takeback_threshold * (0.7 + 0.5 * ctx.risk_aversion)
    go = due & (viability(st, ctx) >= threshold)
    back = due & ~go
    st.stage[back] = TAKEN_BACK
    st.incubation_outcome[back] = INC_TAKEN_BACK
    st.core_volume[back] = 0.0
    led.add("taken_back", back.sum(axis=1))
    spin_out(st, ctx, go, incubated=True)


def spin_out(st: State, ctx: Context, new: np.ndarray, incubated: bool) -> None:
    """Independence: the protected initial contract starts (tendered at once when P = 0)."""
    if not new.any():
        return
    sc = ctx.sc
    p = sc.protection_years
    r, m = np.nonzero(new)
    st.stage[r, m] = PROTECTED if p > 0 else COMPETING
    st.spinout_year[r, m] = st.year
    st.next_tender[r, m] = st.year + p
    v0 = st.v0[r, m]
    if incubated:
        st.incubation_outcome[r, m] = INC_SPUN_OUT
    else:
        st.reserves[r, m] = sc.dowry * v0
        st.trading[r, m] = sc.trading_start * v0
    reactive = st.origin[r, m] == REACTIVE
    st.core_volume[r, m] = v0 * st.budget[r, m // ctx.S]
    st.core_price[r, m] = sc.initial_price * np.where(reactive, 1.0 - sc.reactive_saving, 1.0)
    st.assets[r, m] = sc.asset_transfer * v0
