"""Council budgets and the economy (ODD 'Council budgets under austerity', DESIGN §3.7).

Austerity cuts every council's commissioning budget by a steady rate for a number of years,
with occasional council-level shocks; the economy moves in and out of recession as a Markov
chain. Budget pressure feeds reactive spin-outs, contract volumes, price ceilings and price
weights; recession depresses trading income.
"""

from __future__ import annotations

import numpy as np

from ..rng import Draws
from ..state import State
from .context import Context

BUDGET_FLOOR = 0.2


def update_economy(st: State, ctx: Context, d: Draws, year_index: int) -> None:
    sc = ctx.sc
    if year_index > 0:
        u = d.u["recession"][:, 0]
        st.recession = np.where(st.recession, u >= sc.recession_exit, u < sc.recession_enter)
    cut = sc.austerity_rate if year_index < sc.austerity_years else 0.0
    shock = np.where(d.u["shock"] < sc.shock_prob, sc.shock_size, 0.0)
    st.budget = np.maximum(st.budget * (1.0 - cut) * (1.0 - shock), BUDGET_FLOOR)
