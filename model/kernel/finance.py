"""Income diversification and the accounts (ODD 'Income and accounts', DESIGN §3.5).

A mutual's income is its core contract with its parent council, contracts won elsewhere,
grants (open to it only once independent) and trading income, which grows with capability
and citizens' support but suffers in a recession (seed 000 §4.3). Its costs are the unit cost
of what it delivers plus a fixed back-office overhead. Reserves change by income minus costs,
exactly. A Teckal company's outside income is capped so that at least
``teckal_activity_limit`` of its activity is for its council.
"""

from __future__ import annotations

import numpy as np

from ..rng import Draws
from ..state import COMPETING, INCUBATING, PROTECTED, State
from .context import Context, Ledger

TRADING_NOISE = 0.05


def unit_cost(ctx: Context, capability: np.ndarray, civic: np.ndarray) -> np.ndarray:
    """Mutual's variable cost per unit of service, excluding the back office (in-house cost,
    back office included, is 1): pensions push it up, capability and volunteers down.
    ``civic`` is support x engagement of the slot's council's citizens."""
    sc = ctx.sc
    return ((1.0 - sc.backoffice_overhead) * (1.0 + sc.pension_overhead)
            * (1.0 - sc.efficiency_max * capability) - sc.volunteering_saving * civic)


def overhead(st: State, ctx: Context) -> np.ndarray:
    """Fixed annual back-office overhead (GBP m)."""
    return ctx.sc.backoffice_overhead * st.v0


def per_replication(r: np.ndarray, values: np.ndarray, R: int) -> np.ndarray:
    """Sum of values over the slots of each replication (rows r)."""
    return np.bincount(r, weights=values, minlength=R)


def grow_income(st: State, ctx: Context, d: Draws, support: np.ndarray) -> None:
    """Contracts elsewhere and trading income evolve for the coming year's accounts."""
    sc = ctx.sc
    r, m = np.nonzero((st.stage == PROTECTED) | (st.stage == COMPETING)
                      | (st.stage == INCUBATING))
    c = m // ctx.S
    trading = st.stage[r, m] != INCUBATING
    capability, v0 = st.capability[r, m], st.v0[r, m]
    win = trading & (d.u["external"][r, m] < sc.external_win_rate * capability)
    external = np.where(trading, st.external[r, m] * (1.0 - sc.external_churn)
                        + win * sc.external_size * v0, 0.0)
    growth = (sc.trading_growth * capability
              + sc.citizen_demand_effect * support[r, c]
              - sc.recession_trading_penalty * st.recession[r]
              + TRADING_NOISE * d.n["trading"][r, m])
    cap = np.maximum(sc.trading_cap * v0, 1e-12)
    trade = st.trading[r, m]
    trade = np.maximum(trade + growth * trade * (1.0 - trade / cap), 0.0)
    # Teckal: outside income at most (1 - limit) of all activity, judged on this year's
    # contract (a sheltered contract follows the budget, see settle_accounts).
    core = st.core_price[r, m] * np.where(trading & (st.stage[r, m] == COMPETING),
                                          st.core_volume[r, m], v0 * st.budget[r, c])
    limit = core * (1.0 - sc.teckal_activity_limit) / sc.teckal_activity_limit
    outside = trade + external
    scale = np.where(~trading & (outside > limit), limit / np.maximum(outside, 1e-300), 1.0)
    st.trading[r, m] = trade * scale
    st.external[r, m] = external * scale


def settle_accounts(st: State, ctx: Context, d: Draws, support: np.ndarray,
                    engagement: np.ndarray, led: Ledger) -> None:
    """Income minus costs into reserves, for every active mutual or Teckal company."""
    sc = ctx.sc
    R = st.shape[0]
    r, m = np.nonzero((st.stage == PROTECTED) | (st.stage == COMPETING)
                      | (st.stage == INCUBATING))
    c = m // ctx.S
    stage = st.stage[r, m]
    trading = stage != INCUBATING
    v0 = st.v0[r, m]
    # Contracts with the parent outside competition follow its budget year by year.
    sheltered = stage != COMPETING
    volume = np.where(sheltered, v0 * st.budget[r, c], st.core_volume[r, m])
    st.core_volume[r, m] = volume
    core = st.core_price[r, m] * volume
    external, trade = st.external[r, m], st.trading[r, m]
    grant = np.where(trading & (d.u["grant"][r, m] < sc.grant_prob), sc.grant_size * v0, 0.0)
    income = core + external + trade + grant
    costs = (unit_cost(ctx, st.capability[r, m], support[r, c] * engagement[r, c]) * volume
             + external / (1.0 + sc.external_margin)
             + trade * (1.0 - sc.trading_margin)
             + sc.backoffice_overhead * v0)
    st.income[r, m] = income
    st.costs[r, m] = costs
    st.reserves[r, m] += income - costs
    st.parent_share[r, m] = core / np.maximum(income, 1e-12)
    led.add("core_income", per_replication(r, core * trading, R))
    led.add("external_income", per_replication(r, external * trading, R))
    led.add("trading_income", per_replication(r, trade * trading, R))
    led.add("grant_income", per_replication(r, grant, R))
    led.add("council_spend", per_replication(r, core, R))
    supported = ~trading | (st.year - st.spinout_year[r, m] < 5)
    led.add("council_spend",
            per_replication(r, supported * sc.support_cost * sc.support_level * v0, R))
