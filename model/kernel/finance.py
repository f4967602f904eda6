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

from ..jit import kernel_inline, kernel_jit
from ..rng import Draws
from ..state import COMPETING, INCUBATING, Arrays
from .context import Context, Flow, is_active

TRADING_NOISE = 0.05   # sd of yearly trading-growth noise (assumption)
SUPPORT_YEARS = 5      # years after spin-out the council's business support lasts (assumption)


@kernel_inline
def unit_cost(k: Context, capability: float, civic: float) -> float:
    """Mutual's variable cost per unit of service, excluding the back office (in-house cost,
    back office included, is 1): pensions push it up, capability and volunteers down.
    ``civic`` is support x engagement of the slot's council's citizens."""
    return ((1.0 - k.backoffice_overhead) * (1.0 + k.pension_overhead)
            * (1.0 - k.efficiency_max * capability) - k.volunteering_saving * civic)


@kernel_jit
def grow_income(st: Arrays, r: int, k: Context, d: Draws, support: np.ndarray,
                led: np.ndarray) -> None:
    """Contracts elsewhere and trading income evolve for the coming year's accounts.

    For every active slot of row ``r``: a trading mutual or a Teckal company wins an
    outside contract with probability ``external_win_rate`` x capability (uniform
    ``d.external[m]``) and loses a share ``external_churn`` of the old ones; trading income
    (GBP m/yr) grows logistically towards ``trading_cap`` x v0 with capability, citizens'
    ``support`` (C,) and noise (normal ``d.trading[m]``), less in a recession. A Teckal
    company explores outside income too (seed 000 §4.3 'begin to explore new revenue
    raising opportunities'), but trading and outside contracts together are scaled down
    to the Teckal limit (at most 1 - ``teckal_activity_limit`` of its activity). Changes
    ``external``, ``trading``. Ledger ``teckal_capped`` (Teckal companies whose outside
    income the limit cut). ODD 'Income and accounts', 'Teckal incubation'.
    """
    capped = 0
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        c = m // k.S
        trading = stage != INCUBATING
        capability, v0 = st.capability[r, m], st.v0[r, m]
        win = d.external[m] < k.external_win_rate * capability
        external = st.external[r, m] * (1.0 - k.external_churn) \
            + (k.external_size if win else 0.0) * v0
        growth = (k.trading_growth * capability + k.citizen_demand_effect * support[c]
                  - (k.recession_trading_penalty if st.recession[r] else 0.0)
                  + TRADING_NOISE * d.trading[m])
        cap = max(k.trading_cap * v0, 1e-12)
        trade = st.trading[r, m]
        trade = max(trade + growth * trade * (1.0 - trade / cap), 0.0)
        if not trading:
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
        st.trading[r, m] = trade
        st.external[r, m] = external
    led[Flow.teckal_capped] += capped


@kernel_jit
def settle_accounts(st: Arrays, r: int, k: Context, d: Draws, year: int,
                    support: np.ndarray, engagement: np.ndarray, led: np.ndarray) -> None:
    """Income minus costs into reserves, for every active mutual or Teckal company.

    A contract outside competition (protected or Teckal) follows the parent's budget year
    by year. Income: core + external + trading + a grant (uniform ``d.grant[m]``, only once
    independent); costs: unit cost x volume + cost of external work + trading costs +
    back office. Changes ``core_volume``, ``income``, ``costs``, ``reserves``,
    ``parent_share`` (GBP m/yr, share). Ledger ``core_income``, ``external_income``,
    ``trading_income``, ``grant_income`` (trading mutuals), ``council_spend`` (contract and
    business support). ODD 'Income and accounts'.
    """
    core_income = external_income = trading_income = grant_income = 0.0
    contract_spend = support_spend = 0.0
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        c = m // k.S
        trading = stage != INCUBATING
        v0 = st.v0[r, m]
        volume = st.core_volume[r, m] if stage == COMPETING else v0 * st.budget[r, c]
        st.core_volume[r, m] = volume
        core = st.core_price[r, m] * volume
        external, trade = st.external[r, m], st.trading[r, m]
        grant = k.grant_size * v0 if trading and d.grant[m] < k.grant_prob else 0.0
        income = core + external + trade + grant
        costs = (unit_cost(k, st.capability[r, m], support[c] * engagement[c]) * volume
                 + external / (1.0 + k.external_margin)
                 + trade * (1.0 - k.trading_margin)
                 + k.backoffice_overhead * v0)
        st.income[r, m] = income
        st.costs[r, m] = costs
        st.reserves[r, m] += income - costs
        st.parent_share[r, m] = core / max(income, 1e-12)
        if trading:
            core_income += core
            external_income += external
            trading_income += trade
        grant_income += grant
        contract_spend += core
        if not trading or year - st.spinout_year[r, m] < SUPPORT_YEARS:
            support_spend += k.support_cost * k.support_level * v0
    led[Flow.core_income] += core_income
    led[Flow.external_income] += external_income
    led[Flow.trading_income] += trading_income
    led[Flow.grant_income] += grant_income
    led[Flow.council_spend] += contract_spend
    led[Flow.council_spend] += support_spend
