"""Observation (ODD 'Observation'): the yearly panel, one row per replication and year."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from ..jit import kernel_inline
from ..state import (
    ABANDONED,
    EXITED,
    INCUBATING,
    NONE,
    PROPOSED,
    PROTECTED,
    TAKEN_BACK,
    Arrays,
)
from .context import FLOWS, Context, Flow, delivers_service, is_trading, mean, total


class Stock(IntEnum):
    """End-of-year stocks: the first panel columns (then the ledger's flows)."""

    mutuals_trading = 0
    mutuals_protected = 1
    mutuals_incubating = 2
    proposals_pending = 3
    mean_parent_income_share = 4
    mean_capability = 5
    total_reserves = 6
    social_value = 7
    citizen_satisfaction = 8
    citizen_engagement = 9
    mean_budget = 10
    recession = 11
    mutuals_in_surplus = 12
    mean_income_growth = 13


STOCKS = tuple(s.name for s in Stock)
COLUMNS = STOCKS + FLOWS
N_STOCKS = len(STOCKS)


class Recorder:
    """The panel of R replications over T years: ``panel`` (columns, R, T), NaN until
    recorded; ``data[name]`` is column ``name``'s (R, T) view."""

    def __init__(self, R: int, T: int) -> None:
        self.panel = np.full((len(COLUMNS), R, T), np.nan)
        self.data = {name: self.panel[i] for i, name in enumerate(COLUMNS)}


@kernel_inline
def is_in_house(stage: int, private_value: float) -> bool:
    """The council still provides a slot's service itself (never spun out, or back
    in-house after a proposal failed, incubation ended or a mutual failed)."""
    return (stage == NONE or stage == PROPOSED or stage == ABANDONED or stage == TAKEN_BACK
            or (stage == EXITED and private_value <= 0))


@kernel_inline
def record(st: Arrays, r: int, k: Context, led: np.ndarray, t: int,
           panel: np.ndarray) -> None:
    """Write year ``t`` of replication ``r`` into ``panel`` (columns, R, T): stocks at the
    end of the year, then the ledger's flows, after adding the council's spending on
    services it provides itself or buys privately (GBP m) to ``council_spend``.
    Means over trading mutuals are nan when there are none. A trading mutual is in surplus
    when its year's income exceeds its costs (lot overheads included); its income growth is
    its year's income over its service's baseline value ``v0`` at spin-out (both GBP m/yr).
    ODD 'Observation'."""
    M = k.M
    parent, capability, reserves = np.zeros(M), np.zeros(M), np.zeros(M)
    growth = np.zeros(M)
    n_surplus = 0
    spend, social, v0 = np.empty(M), np.empty(M), np.empty(M)
    n_trading = n_protected = n_incubating = n_pending = 0
    for m in range(M):
        stage = st.stage[r, m]
        if is_trading(stage):
            n_trading += 1
            parent[m] = st.parent_share[r, m]
            capability[m] = st.capability[r, m]
            reserves[m] = st.reserves[r, m]
            growth[m] = st.income[r, m] / st.v0[r, m]
            n_surplus += st.income[r, m] > st.costs[r, m]
        n_protected += stage == PROTECTED
        n_incubating += stage == INCUBATING
        n_pending += stage == PROPOSED
        v0[m] = st.v0[r, m]
        in_house = v0[m] * st.budget[r, m // k.S] if is_in_house(stage, st.private_value[r, m]) \
            else 0.0
        spend[m] = in_house + st.private_value[r, m]
        if delivers_service(stage, st.core_volume[r, m]):
            social[m] = st.social_value[r, m] * v0[m]
        elif st.private_value[r, m] > 0:
            social[m] = k.private_social_value * v0[m]
        else:
            social[m] = k.inhouse_social_value * v0[m]
    led[Flow.council_spend] += total(spend)

    column = panel[:, r, t]
    column[Stock.mutuals_trading] = n_trading
    column[Stock.mutuals_protected] = n_protected
    column[Stock.mutuals_incubating] = n_incubating
    column[Stock.proposals_pending] = n_pending
    column[Stock.mean_parent_income_share] = total(parent) / n_trading
    column[Stock.mean_capability] = total(capability) / n_trading
    column[Stock.total_reserves] = total(reserves)
    column[Stock.social_value] = total(social) / total(v0)
    column[Stock.citizen_satisfaction] = mean(st.satisfaction[r].ravel())
    column[Stock.citizen_engagement] = mean(st.engagement[r].ravel())
    column[Stock.mean_budget] = mean(st.budget[r])
    column[Stock.recession] = 1.0 if st.recession[r] else 0.0
    column[Stock.mutuals_in_surplus] = n_surplus
    column[Stock.mean_income_growth] = total(growth) / n_trading
    for i in range(len(led)):
        column[N_STOCKS + i] = led[i]
