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
from .finance import overhead


def apply_exits(st: State, ctx: Context, d: Draws, led: Ledger) -> None:
    sc = ctx.sc
    trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
    insolvent = trading & (st.reserves < -sc.credit_limit * st.income)
    no_core = st.core_volume <= 0
    other_net = (st.external * sc.external_margin / (1.0 + sc.external_margin)
                 + st.trading * sc.trading_margin + sc.grant_prob * sc.grant_size * st.v0)
    wind_down = trading & ~insolvent & no_core & (
        other_net < sc.wind_down_threshold * overhead(st, ctx))
    p_takeover = sc.takeover_rate * (1.0 - sc.asset_lock_deterrence * sc.asset_lock)
    takeover = (trading & ~insolvent & ~wind_down & (st.reserves < 0)
                & (d.u["takeover"] < p_takeover))
    gone = insolvent | wind_down | takeover
    cause = np.where(insolvent, INSOLVENCY, np.where(wind_down, WIND_DOWN, TAKEOVER))
    st.exit_cause = np.where(gone, cause, st.exit_cause).astype(np.int8)
    st.exit_year[gone] = st.year
    st.stage[gone] = EXITED

    core = st.core_price * st.core_volume
    failed_with_service = insolvent & ~no_core
    step_in = np.where(failed_with_service, sc.step_in_cost * core, 0.0)
    # A takeover hands the contract to the acquirer; a failure brings it back in-house.
    st.private_value = np.where(takeover, st.private_value + core, st.private_value)
    community = st.assets + np.maximum(st.reserves, 0.0)
    preserved = np.where(gone & sc.asset_lock, community, 0.0)
    lost = np.where(gone & (not sc.asset_lock), community, 0.0)
    st.core_volume = np.where(gone, 0.0, st.core_volume)
    st.next_tender = np.where(gone, -1, st.next_tender).astype(np.int16)

    led.add("step_in_cost", step_in.sum(axis=1))
    led.add("council_spend", step_in.sum(axis=1))
    led.add("service_disruptions", failed_with_service.sum(axis=1))
    led.add("assets_preserved", preserved.sum(axis=1))
    led.add("assets_lost", lost.sum(axis=1))
    for name, code in (("exits_insolvency", INSOLVENCY), ("exits_wind_down", WIND_DOWN),
                       ("exits_takeover", TAKEOVER)):
        led.add(name, (gone & (cause == code)).sum(axis=1))
