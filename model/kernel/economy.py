"""Council budgets and the economy (ODD 'Council budgets under austerity', DESIGN §3.7).

Austerity cuts every council's commissioning budget by a steady rate for a number of years,
with occasional council-level shocks; the economy moves in and out of recession as a Markov
chain. Budget pressure feeds reactive spin-outs, contract volumes, price ceilings and price
weights; recession depresses trading income.
"""

from __future__ import annotations

from ..jit import kernel_jit
from ..rng import Draws
from ..state import Arrays
from .context import Context

BUDGET_FLOOR = 0.2  # share of the starting budget below which no council is cut (assumption)


@kernel_jit
def update_economy(st: Arrays, r: int, k: Context, d: Draws, year_index: int) -> None:
    """Recession moves (from the second year); budgets are cut by austerity and shocks.

    Shapes: ``st.recession`` (R,) bool, ``st.budget`` (R, C) index of the starting budget.
    Changes row ``r`` of both. Draws: ``d.recession`` (1,), ``d.shock`` (C,) uniforms.
    Probabilities are per year. No ledger entries. ODD 'Council budgets under austerity'.
    """
    if year_index > 0:
        u = d.recession[0]
        if st.recession[r]:
            st.recession[r] = u >= k.recession_exit
        else:
            st.recession[r] = u < k.recession_enter
    cut = k.austerity_rate if year_index < k.austerity_years else 0.0
    for c in range(k.C):
        shock = k.shock_size if d.shock[c] < k.shock_prob else 0.0
        st.budget[r, c] = max(st.budget[r, c] * (1.0 - cut) * (1.0 - shock), BUDGET_FLOOR)
