"""Council budgets and the economy (ODD 'Council budgets under austerity', DESIGN §3.7).

Austerity cuts each council's commissioning budget by its own yearly rate (drawn at set-up
around ``austerity_rate``) for a number of years, with occasional council-level shocks; the
economy moves in and out of recession as a Markov chain. Budget pressure feeds reactive
spin-outs, contract volumes, price ceilings and price weights; recession depresses trading
income. A council whose service spins out keeps a stranded back-office cost for a while
(seed 000 §4.3).
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import Draws
from ..state import Arrays
from .context import Context, Flow, total


@kernel_inline
def update_economy(st: Arrays, r: int, k: Context, d: Draws, year_index: int) -> None:
    """Recession moves (from the second year); budgets are cut by austerity and shocks.

    Shapes: ``st.recession`` (R,) bool, ``st.budget`` (R, C) index of the starting budget,
    ``st.council_austerity`` (R, C) each council's yearly cut. Changes row ``r`` of the
    first two. Draws: ``d.recession`` (1,) decides the recession, ``d.shock`` (C,) each
    council's shock (uniforms). Probabilities are per year. No ledger entries. ODD 'Council
    budgets under austerity'.
    """
    if year_index > 0:
        u = d.recession[0]
        if st.recession[r]:
            st.recession[r] = u >= k.recession_exit_prob
        else:
            st.recession[r] = u < k.recession_enter_prob
    austerity = year_index < k.austerity_years
    for c in range(k.C):
        cut = st.council_austerity[r, c] if austerity else 0.0
        shock = k.shock_size if d.shock[c] < k.shock_prob else 0.0
        st.budget[r, c] = max(st.budget[r, c] * (1.0 - cut) * (1.0 - shock), k.budget_floor)


@kernel_inline
def stranded_costs(st: Arrays, r: int, k: Context, year: int, led: np.ndarray) -> None:
    """The back-office cost councils keep after their services spin out: ``stranded_cost``
    x v0 (GBP m) for each slot spun out in this year or the ``stranded_years - 1`` before.

    Reads ``st.spinout_year`` (R, M); changes no state. Ledger ``council_spend``.
    No draws. ODD 'Council budgets under austerity' (seed 000 §4.3 'leaving large overheads').
    """
    spend = np.zeros(k.M)
    for m in range(k.M):
        since = year - st.spinout_year[r, m]
        if st.spinout_year[r, m] >= 0 and 0 <= since < k.stranded_years:
            spend[m] = k.stranded_cost * st.v0[r, m]
    led[Flow.council_spend] += total(spend)
