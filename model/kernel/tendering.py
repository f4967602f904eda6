"""Contract rounds (ODD 'Tendering', DESIGN §3.4).

When a mutual's core contract expires after protection, the council tenders it. Austerity
shrinks the volume it buys and squeezes the unit-price ceiling. The contract may be split into
lots; private firms' unit cost falls with lot size (economies of scale), so splitting levels
the field. Each firm bids with some probability if it can deliver under the ceiling; the
mutual, as incumbent, always bids and accepts the ceiling even when it loses money. Bids are
scored on price, quality, social value and financial standing with the council's weights,
which austerity tilts towards price and co-production tilts towards quality and social value;
the incumbent gets a bonus and every score carries evaluation noise. Each lot goes to the
highest score.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import kernel_inline, kernel_jit
from ..rng import Draws, tender_numbers
from ..state import COMPETING, Arrays
from .context import Context, Flow, is_trading, total
from .finance import unit_cost

TRACK_RECORD_YEARS = 10.0  # years of trading for a full track record (assumption)
RESERVE_CUSHION = 0.15     # reserves, as a share of v0, for full marks on reserves (assumption)


@kernel_inline
def financial_standing(reserves: float, v0: float, years_trading: float) -> float:
    """How a council rates a mutual's finances: track record and reserves, in [0, 1]."""
    record = min(years_trading / TRACK_RECORD_YEARS, 1.0)
    cushion = min(max(reserves / (RESERVE_CUSHION * v0), 0.0), 1.0)
    return 0.2 + 0.4 * record + 0.4 * cushion


@kernel_inline
def is_due_for_tender(stage: int, core_volume: float, next_tender: int, year: int) -> bool:
    """A trading mutual whose core contract expires this year."""
    return is_trading(stage) and core_volume > 0 and next_tender == year


@kernel_jit
def run_tenders(st: Arrays, r: int, k: Context, d: Draws, year: int, support: np.ndarray,
                engagement: np.ndarray, led: np.ndarray) -> None:
    """Tender every core contract due this year (slots in order), see :func:`tender`.

    Tender numbers come from each slot's key ``d.keys[m]`` (or, in tests, the hand-set
    ``d.bid[m]``, ``d.score[m]``). Ledger ``tenders``, ``mutual_tender_wins``.
    ODD 'Tendering'.
    """
    bid_u = np.empty(k.B)
    noise = np.empty((k.B + 1, k.L))
    tenders = wins = 0
    for m in range(k.M):
        if not is_due_for_tender(st.stage[r, m], st.core_volume[r, m], st.next_tender[r, m],
                                 year):
            continue
        if d.bid.shape[0] > 0:
            copy_fixed_numbers(d, m, bid_u, noise)
        else:
            tender_numbers(d.keys[m], bid_u, noise)
        c = m // k.S
        kept = tender(st, r, k, m, year, support[c], engagement[c], bid_u, noise)
        tenders += 1
        wins += kept
    led[Flow.tenders] += tenders
    led[Flow.mutual_tender_wins] += wins


@kernel_inline
def copy_fixed_numbers(d: Draws, m: int, bid_u: np.ndarray, noise: np.ndarray) -> None:
    """Slot ``m``'s hand-set tender numbers (tests) into ``bid_u`` (B,), ``noise`` (B+1, L)."""
    for b in range(bid_u.shape[0]):
        bid_u[b] = d.bid[m, b]
    for i in range(noise.shape[0]):
        for j in range(noise.shape[1]):
            noise[i, j] = d.score[m, i, j]


@kernel_jit
def tender(st: Arrays, r: int, k: Context, m: int, year: int, support: float,
           engagement: float, bid_u: np.ndarray, noise: np.ndarray) -> bool:
    """One tender of slot ``m``'s core contract; True if the mutual keeps at least one lot.

    ``bid_u`` (B,) uniforms decide which firms bid (probability ``private_bid_prob``);
    ``noise`` (B+1, L) standard normals (row 0 the mutual's) are scaled by ``eval_noise``.
    Prices are per unit of service (in-house cost 1); volumes GBP m at unit cost 1.
    Changes the slot's ``core_volume``, ``core_price``, ``next_tender``, ``stage``,
    ``tenders``, ``tender_wins``, ``private_value`` and the winning firms' ``firm_contracts``,
    ``firm_revenue``.
    """
    c = m // k.S
    B, L = k.B, int(st.council_lots[r, c])   # the council's own lot policy (<= k.L)
    budget = st.budget[r, c]
    v0 = st.v0[r, m]
    volume = v0 * budget
    lot = volume / L
    ceiling = 1.0 - k.price_squeeze * (1.0 - budget)

    # Mutual's bid: cost plus overhead spread over the volume, capped at the ceiling.
    u_m = unit_cost(k, st.capability[r, m], support * engagement)
    bid_m = min((u_m + k.backoffice_overhead * v0 / volume) * (1.0 + k.mutual_margin),
                ceiling)
    # Private bids: only firms that choose to bid and can deliver under the ceiling.
    scale = (lot / k.reference_lot) ** (-k.scale_elasticity)
    bids = np.empty(B, dtype=np.bool_)
    bid_p = np.empty(B)
    best = bid_m
    for b in range(B):
        cost_p = k.private_unit_cost * st.firm_cost[r, b] * scale
        bids[b] = bid_u[b] < k.private_bid_prob and cost_p <= ceiling
        bid_p[b] = min(cost_p * (1.0 + k.private_margin), ceiling)
        if bids[b]:
            best = min(best, bid_p[b])

    # Weights: the council's own; austerity tilts to price, its co-production to quality
    # and social value, its risk aversion to financial standing.
    tilt = 1.0 + k.coproduction_weight_shift * st.council_coproduction[r, c] * engagement
    w_price = st.council_w_price[r, c] * (1.0 + k.austerity_price_shift * (1.0 - budget))
    w_quality, w_social = st.council_w_quality[r, c] * tilt, st.council_w_social[r, c] * tilt
    w_fin = st.council_w_financial[r, c] * (k.financial_weight_risk_base
                                            + st.council_risk_aversion[r, c])
    weights = w_price + w_quality + w_social + w_fin
    w_price, w_quality = w_price / weights, w_quality / weights
    w_social, w_fin = w_social / weights, w_fin / weights

    years_trading = float(year - st.spinout_year[r, m])
    standing = financial_standing(st.reserves[r, m], v0, years_trading)
    score_m = (w_price * best / bid_m + w_quality * st.quality[r, m]
               + w_social * st.social_value[r, m] + w_fin * standing + k.incumbency_bonus)

    # Each lot to the highest score (the mutual on ties); the rest go to the best firm.
    won = 0
    value = np.zeros(L)
    for lot_i in range(L):
        best_p = -math.inf
        winner = 0
        for b in range(B):
            if not bids[b]:
                continue
            score_p = (w_price * best / bid_p[b] + w_quality * st.firm_quality[r, b]
                       + w_social * st.firm_social[r, b]
                       + w_fin * st.firm_financial[r, b])
            s = score_p + k.eval_noise * noise[b + 1, lot_i]
            if s > best_p:
                best_p, winner = s, b
        if score_m + k.eval_noise * noise[0, lot_i] >= best_p:
            won += 1
        else:
            value[lot_i] = bid_p[winner] * lot
            st.firm_contracts[r, winner] += 1
            st.firm_revenue[r, winner] += value[lot_i]

    # Award: the mutual keeps the lots it won.
    kept = won > 0
    st.core_volume[r, m] = lot * won
    st.core_price[r, m] = bid_m if kept else 0.0
    st.next_tender[r, m] = year + k.contract_years if kept else -1
    st.stage[r, m] = COMPETING
    st.tenders[r, m] += 1
    st.tender_wins[r, m] += kept
    st.private_value[r, m] = total(value)
    return kept
