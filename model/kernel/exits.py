"""Exits and their aftermath (ODD 'Exits', DESIGN §3.8).

A trading mutual exits by insolvency when its reserves fall below its credit line; by
wind-down when it has no core contract and its other net income cannot carry its overhead
('losing that dependence on the core contract', seed 000 §4.3); or by takeover, when a larger
provider buys a mutual in deficit, which an asset lock deters (seed 004). If a failing mutual
still held its council contract, the council steps in to keep the service going and pays a
step-in cost (seed 004 para 91). With an asset lock its assets stay with the community;
without one they are lost to it.
"""

from __future__ import annotations

import numpy as np

from ..rng import Draws
from ..state import COMPETING, EXITED, INSOLVENCY, PROTECTED, TAKEOVER, WIND_DOWN, State
from .context import Context, Ledger
from .finance import per_replication


def apply_exits(st: State, ctx: Context, d: Draws, led: Ledger) -> None:
    sc = ctx.sc
    R = st.shape[0]
    r, m = np.nonzero((st.stage == PROTECTED) | (st.stage == COMPETING))
    reserves, income, v0 = st.reserves[r, m], st.income[r, m], st.v0[r, m]
    core = st.core_price[r, m] * st.core_volume[r, m]
    insolvent = reserves < -sc.credit_limit * income
    no_core = st.core_volume[r, m] <= 0
    other_net = (st.external[r, m] * sc.external_margin / (1.0 + sc.external_margin)
                 + st.trading[r, m] * sc.trading_margin + sc.grant_prob * sc.grant_size * v0)
    wind_down = ~insolvent & no_core & (
        other_net < sc.wind_down_threshold * sc.backoffice_overhead * v0)
    p_takeover = sc.takeover_rate * (1.0 - sc.asset_lock_deterrence * sc.asset_lock)
    takeover = ~insolvent & ~wind_down & (reserves < 0) & (d.u["takeover"][r, m] < p_takeover)
    gone = insolvent | wind_down | takeover
    cause = np.where(insolvent, INSOLVENCY, np.where(wind_down, WIND_DOWN, TAKEOVER))
    rg, mg = r[gone], m[gone]
    st.exit_cause[rg, mg] = cause[gone]
    st.exit_year[rg, mg] = st.year
    st.stage[rg, mg] = EXITED
    st.core_volume[rg, mg] = 0.0
    st.next_tender[rg, mg] = -1
    # A takeover hands the contract to the acquirer; a failure brings it back in-house.
    st.private_value[r[takeover], m[takeover]] += core[takeover]

    failed_with_service = insolvent & ~no_core
    step_in = np.where(failed_with_service, sc.step_in_cost * core, 0.0)
    community = np.where(gone, st.assets[r, m] + np.maximum(reserves, 0.0), 0.0)
    step_in_sum = per_replication(r, step_in, R)
    led.add("step_in_cost", step_in_sum)
    led.add("council_spend", step_in_sum)
    led.add("service_disruptions", per_replication(r, failed_with_service, R))
    led.add("assets_preserved", per_replication(r, community * sc.asset_lock, R))
    led.add("assets_lost", per_replication(r, community * (not sc.asset_lock), R))
    for name, code in (("exits_insolvency", INSOLVENCY), ("exits_wind_down", WIND_DOWN),
                       ("exits_takeover", TAKEOVER)):
        led.add(name, per_replication(r, gone & (cause == code), R))
