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


def unit_cost(st: State, ctx: Context, support: np.ndarray, engagement: np.ndarray) -> np.ndarray:
    """Mutual's variable cost per unit of service, excluding the back office (in-house cost,
    back office included, is 1): pensions push it up, capability and volunteers down.
    ``support``/``engagement`` are council means (R, C)."""
    sc = ctx.sc
    volunteers = sc.volunteering_saving * ctx.per_slot(support * engagement)
    return ((1.0 - sc.backoffice_overhead) * (1.0 + sc.pension_overhead)
            * (1.0 - sc.efficiency_max * st.capability) - volunteers)


def overhead(st: State, ctx: Context) -> np.ndarray:
    """Fixed annual back-office overhead (GBP m)."""
    return ctx.sc.backoffice_overhead * st.v0


def grow_income(st: State, ctx: Context, d: Draws, support: np.ndarray) -> None:
    """Contracts elsewhere and trading income evolve for the coming year's accounts."""
    sc = ctx.sc
    trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
    incubating = st.stage == INCUBATING
    active = trading | incubating
    win = trading & (d.u["external"] < sc.external_win_rate * st.capability)
    st.external = np.where(trading, st.external * (1.0 - sc.external_churn)
                           + win * sc.external_size * st.v0, 0.0)
    growth = (sc.trading_growth * st.capability
              + sc.citizen_demand_effect * ctx.per_slot(support)
              - sc.recession_trading_penalty * st.recession[:, None]
              + TRADING_NOISE * d.n["trading"])
    cap = np.maximum(sc.trading_cap * st.v0, 1e-12)
    st.trading = np.where(active, np.maximum(st.trading + growth * st.trading
                                             * (1.0 - st.trading / cap), 0.0), st.trading)
    # Teckal: outside income at most (1 - limit) of all activity.
    core = st.core_price * st.core_volume
    limit = core * (1.0 - sc.teckal_activity_limit) / sc.teckal_activity_limit
    outside = st.trading + st.external
    scale = np.where(incubating & (outside > limit), limit / np.maximum(outside, 1e-300), 1.0)
    st.trading = st.trading * scale
    st.external = st.external * scale


def settle_accounts(st: State, ctx: Context, d: Draws, support: np.ndarray,
                    engagement: np.ndarray, led: Ledger) -> None:
    """Income minus costs into reserves, for every active mutual or Teckal company."""
    sc = ctx.sc
    trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
    active = trading | (st.stage == INCUBATING)
    # Contracts with the parent outside competition follow its budget year by year.
    sheltered = (st.stage == PROTECTED) | (st.stage == INCUBATING)
    st.core_volume = np.where(sheltered, st.v0 * ctx.per_slot(st.budget), st.core_volume)
    core = st.core_price * st.core_volume
    grant = np.where(trading & (d.u["grant"] < sc.grant_prob), sc.grant_size * st.v0, 0.0)
    income = core + st.external + st.trading + grant
    costs = (unit_cost(st, ctx, support, engagement) * st.core_volume
             + st.external / (1.0 + sc.external_margin)
             + st.trading * (1.0 - sc.trading_margin)
             + overhead(st, ctx))
    st.income = np.where(active, income, st.income)
    st.costs = np.where(active, costs, st.costs)
    st.reserves = np.where(active, st.reserves + (income - costs), st.reserves)
    share = core / np.maximum(income, 1e-12)
    st.parent_share = np.where(active, share, st.parent_share)
    led.add("core_income", np.where(trading, core, 0.0).sum(axis=1))
    led.add("external_income", np.where(trading, st.external, 0.0).sum(axis=1))
    led.add("trading_income", np.where(trading, st.trading, 0.0).sum(axis=1))
    led.add("grant_income", grant.sum(axis=1))
    led.add("council_spend", np.where(active, core, 0.0).sum(axis=1))
    years_since = st.year - st.spinout_year
    supported = (st.stage == INCUBATING) | (trading & (years_since < 5))
    led.add("council_spend", (supported * sc.support_cost * sc.support_level * st.v0).sum(axis=1))
