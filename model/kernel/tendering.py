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

import numpy as np

from ..rng import Draws
from ..state import COMPETING, PROTECTED, State
from .context import Context, Ledger
from .finance import unit_cost


def financial_standing(reserves: np.ndarray, v0: np.ndarray,
                       years_trading: np.ndarray) -> np.ndarray:
    """How a council rates a mutual's finances: track record and reserves, in [0, 1]."""
    record = np.minimum(years_trading / 10.0, 1.0)
    cushion = np.clip(reserves / (0.15 * v0), 0.0, 1.0)
    return 0.2 + 0.4 * record + 0.4 * cushion


def run_tenders(st: State, ctx: Context, d: Draws, support: np.ndarray,
                engagement: np.ndarray, led: Ledger) -> None:
    sc = ctx.sc
    trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
    due = trading & (st.core_volume > 0) & (st.next_tender == st.year)
    if not due.any():
        return
    r, m = np.nonzero(due)
    c = m // ctx.S
    budget = st.budget[r, c]
    volume = st.v0[r, m] * budget
    lot = volume / ctx.L
    ceiling = 1.0 - sc.price_squeeze * (1.0 - budget)

    # Mutual's bid: cost plus overhead spread over the volume, capped at the ceiling.
    u_m = unit_cost(ctx, st.capability[r, m], support[r, c] * engagement[r, c])
    bid_m = np.minimum((u_m + sc.backoffice_overhead * st.v0[r, m] / volume)
                       * (1.0 + sc.mutual_margin),
                       ceiling)
    # Private bids: only firms that choose to bid and can deliver under the ceiling.
    scale = (lot / sc.reference_lot) ** (-sc.scale_elasticity)
    cost_p = sc.private_unit_cost * st.firm_cost[r] * scale[:, None]          # (n, B)
    bid_u, score_noise = d.tender(r, m)
    bids = (bid_u < sc.private_bid_prob) & (cost_p <= ceiling[:, None])
    bid_p = np.minimum(cost_p * (1.0 + sc.private_margin), ceiling[:, None])

    # Weights: austerity tilts to price, co-production to quality and social value,
    # risk aversion to financial standing.
    wp, wq, ws, wf = ctx.weights
    tilt = 1.0 + sc.coproduction_weight_shift * ctx.coproduction * engagement[r, c]
    w_price = wp * (1.0 + sc.austerity_price_shift * (1.0 - budget))
    w_quality, w_social = wq * tilt, ws * tilt
    w_fin = wf * (0.5 + ctx.risk_aversion)
    total = w_price + w_quality + w_social + w_fin
    w_price, w_quality, w_social, w_fin = (w_price / total, w_quality / total,
                                           w_social / total, w_fin / total)

    best = np.minimum(bid_m, np.where(bids, bid_p, np.inf).min(axis=1))
    years_trading = (st.year - st.spinout_year[r, m]).astype(float)
    standing = financial_standing(st.reserves[r, m], st.v0[r, m], years_trading)
    score_m = (w_price * best / bid_m + w_quality * st.quality[r, m]
               + w_social * st.social_value[r, m] + w_fin * standing + sc.incumbency_bonus)
    score_p = (w_price[:, None] * best[:, None] / bid_p
               + w_quality[:, None] * st.firm_quality[r]
               + w_social[:, None] * st.firm_social[r]
               + w_fin[:, None] * st.firm_financial[r])                       # (n, B)
    noise = sc.eval_noise * score_noise                                # (n, B+1, L)
    lot_m = score_m[:, None] + noise[:, 0, :]                                   # (n, L)
    lot_p = np.where(bids[:, :, None], score_p[:, :, None] + noise[:, 1:, :], -np.inf)
    best_p = lot_p.max(axis=1)                                                  # (n, L)
    mutual_wins = lot_m >= best_p
    won = mutual_wins.sum(axis=1)

    # Award: the mutual keeps the lots it won; the rest go to the best private bidder.
    kept = won > 0
    st.core_volume[r, m] = lot * won
    st.core_price[r, m] = np.where(kept, bid_m, 0.0)
    st.next_tender[r, m] = np.where(kept, st.year + sc.contract_years, -1)
    st.stage[r, m] = COMPETING
    st.tenders[r, m] += 1
    st.tender_wins[r, m] += kept

    winner = lot_p.argmax(axis=1)                                               # (n, L)
    private_lots = ~mutual_wins
    value = bid_p[np.arange(len(r))[:, None], winner] * lot[:, None]            # (n, L)
    st.private_value[r, m] = (value * private_lots).sum(axis=1)
    rr = np.broadcast_to(r[:, None], winner.shape)[private_lots]
    np.add.at(st.firm_contracts, (rr, winner[private_lots]), 1)
    np.add.at(st.firm_revenue, (rr, winner[private_lots]), value[private_lots])

    per_rep = np.zeros(st.shape[0])
    np.add.at(per_rep, r, 1.0)
    led.add("tenders", per_rep)
    wins = np.zeros(st.shape[0])
    np.add.at(wins, r, kept.astype(float))
    led.add("mutual_tender_wins", wins)

