"""Exits and their aftermath (ODD 'Exits', DESIGN §3.8).

A trading mutual exits by insolvency when its reserves fall below its credit facility: a
liquidity test against a facility sized on durable things, the service's baseline value and
the assets transferred to it, which secure borrowing even under an asset lock (seed 004: an
asset lock does 'not prevent a body from borrowing against ... that asset'), so the facility
does not vanish when a contract ends. It winds down when it has no core contract and its
other net income cannot carry the back office a smaller going concern keeps ('losing that
dependence on the core contract', seed 000 §4.3); a diversified mutual survives as a smaller
one. A larger provider may buy a mutual in deficit, which an asset lock deters (seed 004).
Each exit is labelled by the mechanism that caused it (see :func:`insolvency_cause`). If a
failing mutual still held its council contract, the council steps in to keep the service
going and pays a step-in cost (seed 004 para 91). With an asset lock its assets stay with
the community; without one they are lost to it.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import SLOT_TAKEOVER, Draws, slot_uniform
from ..state import (
    EXITED,
    INSOLVENCY,
    INSOLVENCY_COST_SHOCK,
    INSOLVENCY_INCOME_SHOCK,
    INSOLVENCY_LOST_CONTRACT,
    NO_EXIT,
    TAKEOVER,
    WIND_DOWN,
    Arrays,
)
from .context import Context, Flow, is_trading


@kernel_inline
def credit_facility(k: Context, v0: float, assets: float) -> float:
    """Borrowing a mutual can draw on (GBP m): ``credit_facility`` x its baseline value
    plus ``asset_collateral`` x the assets transferred to it (locked or not)."""
    return k.credit_facility * v0 + k.asset_collateral * assets


@kernel_inline
def insolvency_cause(reserves: float, facility: float, core_volume: float,
                     cost_shock_loss: float, income_shock_loss: float) -> int:
    """The mechanism behind an insolvency: a mutual without its core contract failed after
    losing it; otherwise the larger of the cost shocks (pay drift, pension revaluations)
    and income shocks (volumes, recession) since spin-out is the cause if without it the
    mutual would have stayed within its facility; else the deficit was structural (cost
    position, price, austerity). Money in GBP m."""
    if core_volume <= 0:
        return INSOLVENCY_LOST_CONTRACT
    if cost_shock_loss >= income_shock_loss:
        if reserves + cost_shock_loss >= -facility:
            return INSOLVENCY_COST_SHOCK
    elif reserves + income_shock_loss >= -facility:
        return INSOLVENCY_INCOME_SHOCK
    return INSOLVENCY


@kernel_inline
def exit_cause(k: Context, reserves: float, facility: float, core_volume: float,
               external: float, trading_income: float, v0: float, u_takeover: float,
               cost_shock_loss: float, income_shock_loss: float) -> int:
    """Why a trading mutual exits this year (NO_EXIT if it does not): insolvency first,
    then wind-down, then takeover (uniform ``u_takeover``, probability per year). Money in
    GBP m/yr; ``facility`` from :func:`credit_facility`."""
    if reserves < -facility:
        return insolvency_cause(reserves, facility, core_volume, cost_shock_loss,
                                income_shock_loss)
    if core_volume <= 0:
        other_net = (external * k.external_margin / (1.0 + k.external_margin)
                     + trading_income * k.trading_margin + k.grant_prob * k.grant_size * v0)
        kept = k.overhead_floor * k.backoffice_overhead * v0
        if other_net < k.wind_down_threshold * kept:
            return WIND_DOWN
    p_takeover = k.takeover_prob * (1.0 - k.asset_lock_deterrence * (
        1.0 if k.asset_lock else 0.0))
    if reserves < 0 and u_takeover < p_takeover:
        return TAKEOVER
    return NO_EXIT


@kernel_inline
def apply_exits(st: Arrays, r: int, k: Context, d: Draws, year: int,
                led: np.ndarray) -> None:
    """Trading mutuals of row ``r`` that fail exit (for takeovers, the slot's yearly uniform
    SLOT_TAKEOVER, :func:`rng.slot_uniform`: only trading mutuals draw it).

    An exited slot's contract ends (``core_volume`` 0, no next tender); a takeover hands the
    contract to the acquirer (``private_value``), a failure brings it back in-house. If an
    insolvent mutual still held its contract the council pays ``step_in_cost`` x the
    contract's value (GBP m). Reserves (if positive) and transferred assets go to the
    community under an asset lock and are lost without one. Changes ``exit_cause``,
    ``exit_year``, ``stage``, ``core_volume``, ``next_tender``, ``private_value``. Ledger
    ``step_in_cost``, ``council_spend``, ``service_disruptions``, ``assets_preserved``,
    ``assets_lost``, ``exits_*`` (``exits_insolvency`` counts every insolvency cause).
    ODD 'Exits'.
    """
    step_in = preserved = lost = 0.0
    disruptions = insolvencies = wind_downs = takeovers = 0
    for m in range(k.M):
        if not is_trading(st.stage[r, m]):
            continue
        facility = credit_facility(k, st.v0[r, m], st.assets[r, m])
        cause = exit_cause(k, st.reserves[r, m], facility, st.core_volume[r, m],
                           st.external[r, m], st.trading_income[r, m], st.v0[r, m],
                           slot_uniform(d, m, SLOT_TAKEOVER), st.cost_shock_loss[r, m],
                           st.income_shock_loss[r, m])
        if cause == NO_EXIT:
            continue
        insolvent = cause != WIND_DOWN and cause != TAKEOVER
        core = st.core_price[r, m] * st.core_volume[r, m]
        if insolvent and st.core_volume[r, m] > 0:
            step_in += k.step_in_cost * core
            disruptions += 1
        community = st.assets[r, m] + max(st.reserves[r, m], 0.0)
        if k.asset_lock:
            preserved += community
        else:
            lost += community
        insolvencies += insolvent
        wind_downs += cause == WIND_DOWN
        takeovers += cause == TAKEOVER
        st.exit_cause[r, m] = cause
        st.exit_year[r, m] = year
        st.stage[r, m] = EXITED
        st.core_volume[r, m] = 0.0
        st.next_tender[r, m] = -1
        if cause == TAKEOVER:
            st.private_value[r, m] += core
    led[Flow.step_in_cost] += step_in
    led[Flow.council_spend] += step_in
    led[Flow.service_disruptions] += disruptions
    led[Flow.assets_preserved] += preserved
    led[Flow.assets_lost] += lost
    led[Flow.exits_insolvency] += insolvencies
    led[Flow.exits_wind_down] += wind_downs
    led[Flow.exits_takeover] += takeovers
