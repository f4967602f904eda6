"""Observation (ODD 'Observation'): the yearly panel, one row per replication and year."""

from __future__ import annotations

import math
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
from .context import FLOWS, Context, Flow, delivers_service, is_trading, mean


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


class Light(IntEnum):
    """The columns of a light panel: all that survival summaries read (``compare``, the
    page, posterior draws: survival counts come from the final state, the income-share
    band from these)."""

    mutuals_trading = 0
    mean_parent_income_share = 1


LIGHT_COLUMNS = tuple(c.name for c in Light)
N_LIGHT = len(LIGHT_COLUMNS)


class Recorder:
    """The panel of R replications over T years: ``panel`` (columns, R, T), NaN until
    recorded; ``data[name]`` is column ``name``'s (R, T) view. Every column
    (:data:`COLUMNS`), or with ``light`` only :data:`LIGHT_COLUMNS`, which the kernel then
    records alone (:func:`record`), sparing it the rest of the year's observation."""

    def __init__(self, R: int, T: int, light: bool = False) -> None:
        self.columns = LIGHT_COLUMNS if light else COLUMNS
        self.panel = np.full((len(self.columns), R, T), np.nan)
        self.data = {name: self.panel[i] for i, name in enumerate(self.columns)}


@kernel_inline
def is_in_house(stage: int, private_value: float) -> bool:
    """The council still provides a slot's service itself (never spun out, or back
    in-house after a proposal failed, incubation ended or a mutual failed)."""
    return (stage == NONE or stage == PROPOSED or stage == ABANDONED or stage == TAKEN_BACK
            or (stage == EXITED and private_value <= 0))


@kernel_inline
def mean_over(total: float, n: int) -> float:
    """``total`` / ``n``, nan when ``n`` is 0 (a mean over no trading mutuals)."""
    return total / n if n > 0 else math.nan


@kernel_inline
def trading_parent_share(stage: np.ndarray, parent_share: np.ndarray) -> tuple[int, float]:
    """Trading mutuals among one replication's slots (``stage`` (M,)) and the sum of their
    ``parent_share`` (M,), summed in slot order."""
    n, total_share = 0, 0.0
    for m in range(stage.shape[0]):
        if is_trading(stage[m]):
            n += 1
            total_share += parent_share[m]
    return n, total_share


@kernel_inline
def record(st: Arrays, r: int, k: Context, led: np.ndarray, t: int,
           panel: np.ndarray) -> None:
    """Write year ``t`` of replication ``r`` into ``panel`` (columns, R, T): stocks at the
    end of the year, then the ledger's flows, after adding the council's spending on
    services it provides itself or buys privately (GBP m) to ``council_spend``.
    Means over trading mutuals are nan when there are none. A trading mutual is in surplus
    when its year's income exceeds its costs (lot overheads included); its income growth is
    its year's income over its service's baseline value ``v0`` at spin-out (both GBP m/yr).
    A light ``panel`` (:data:`N_LIGHT` columns, :class:`Recorder` with ``light``) gets only
    those columns, with the same values. ODD 'Observation'."""
    n_trading, parent = trading_parent_share(st.stage[r], st.parent_share[r])
    if panel.shape[0] == N_LIGHT:
        panel[Light.mutuals_trading, r, t] = n_trading
        panel[Light.mean_parent_income_share, r, t] = mean_over(parent, n_trading)
        return
    # Running sums over the slots, in slot order (observation only: no rule reads them, so
    # they need not follow numpy's pairwise order; they agree with it to about 1e-15).
    capability = reserves = growth = spend = social = v0_total = 0.0
    n_surplus = 0
    n_protected = n_incubating = n_pending = 0
    for m in range(k.M):
        stage = st.stage[r, m]
        v0 = st.v0[r, m]
        private = st.private_value[r, m]
        if is_trading(stage):
            capability += st.capability[r, m]
            reserves += st.reserves[r, m]
            growth += st.income[r, m] / v0
            n_surplus += st.income[r, m] > st.costs[r, m]
        n_protected += stage == PROTECTED
        n_incubating += stage == INCUBATING
        n_pending += stage == PROPOSED
        v0_total += v0
        in_house = v0 * st.budget[r, m // k.S] if is_in_house(stage, private) else 0.0
        spend += in_house + private
        if delivers_service(stage, st.core_volume[r, m]):
            social += st.social_value[r, m] * v0
        elif private > 0:
            social += k.private_social_value * v0
        else:
            social += k.inhouse_social_value * v0
    led[Flow.council_spend] += spend

    column = panel[:, r, t]
    column[Stock.mutuals_trading] = n_trading
    column[Stock.mutuals_protected] = n_protected
    column[Stock.mutuals_incubating] = n_incubating
    column[Stock.proposals_pending] = n_pending
    column[Stock.mean_parent_income_share] = mean_over(parent, n_trading)
    column[Stock.mean_capability] = mean_over(capability, n_trading)
    column[Stock.total_reserves] = reserves
    column[Stock.social_value] = social / v0_total
    column[Stock.citizen_satisfaction] = mean(st.satisfaction[r].ravel())
    column[Stock.citizen_engagement] = mean(st.engagement[r].ravel())
    column[Stock.mean_budget] = mean(st.budget[r])
    column[Stock.recession] = 1.0 if st.recession[r] else 0.0
    column[Stock.mutuals_in_surplus] = n_surplus
    column[Stock.mean_income_growth] = mean_over(growth, n_trading)
    for i in range(len(led)):
        column[N_STOCKS + i] = led[i]
