"""Contract rounds (ODD 'Tendering', DESIGN §3.4).

When a mutual's core contract expires, the council either extends it (a direct award,
more likely for a mutual that performs well and a co-producing council, less likely for a
risk-averse one) or tenders it. Between expiries a council may use the break clause of a
contract that performs poorly: it is then tendered at once without the mutual. Austerity
shrinks the volume a council buys and squeezes the unit-price ceiling. The contract may be
split into lots; national firms' unit cost falls with lot size (economies of scale), while
local SMEs bid for lots they can deliver alone and, less often, for larger ones as consortia
(seed 000 §4.2: Oldham broke tenders into smaller blocks "so local companies or consortia of
small companies were more likely to be able to successfully bid"). Each tendered lot costs
the council a transaction cost; each lot a mutual holds costs it a contract overhead. The
mutual, as incumbent, always bids (unless barred after a break) and accepts the ceiling even
when it loses money. Bids are scored on price, quality, social value and financial standing
with the council's weights, which austerity tilts towards price and co-production tilts
towards quality and social value; the incumbent gets a bonus and every score carries
evaluation noise. Each lot goes to the highest score. Contract terms are drawn per contract
around ``contract_years``.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..jit import kernel_inline
from ..rng import (
    BREAK,
    CONTRACT_LENGTH,
    EXTENSION,
    Draws,
    bid_uniform,
    contract_uniform,
    local_cost_normal,
    local_entry_uniform,
    local_score_normal,
    score_normal,
)
from ..state import COMPETING, Arrays
from .context import Context, Flow, is_trading, total
from .finance import cost_factor, unit_cost

# What one tender reads of its council and of the incumbent mutual, as numbers: passing
# these costs nothing, while passing the state into a function that branches updates the
# reference count of each of its 57 arrays on every call (mutualsim.jit).
Buyer = namedtuple("Buyer", ("lots", "budget", "coproduction", "risk_aversion", "w_price",
                             "w_quality", "w_social", "w_financial"))
Incumbent = namedtuple("Incumbent", ("v0", "capability", "cost_position", "cost_drift",
                                     "reserves", "quality", "social_value", "spinout_year"))
# The national firms' arrays of the state, (R, B) each: read, and the winners' contracts
# and revenue written.
Firms = namedtuple("Firms", ("cost", "quality", "social", "financial", "contracts",
                             "revenue"))
# One year's working arrays for the tenders (allocated once a year, not per tender).
TenderWork = namedtuple("TenderWork", ("bid_u", "noise", "bids", "bid_p", "local_bids",
                                       "bid_l", "value"))


@kernel_inline
def financial_standing(k: Context, reserves: float, v0: float, years_trading: float) -> float:
    """How a council rates a mutual's finances: track record and reserves, in [0, 1]."""
    record = min(years_trading / k.track_record_years, 1.0)
    cushion = min(max(reserves / (k.reserve_cushion * v0), 0.0), 1.0)
    return (k.standing_floor + k.standing_record_weight * record
            + (1.0 - k.standing_floor - k.standing_record_weight) * cushion)


@kernel_inline
def drawn_length(central: int, spread: int, u: float) -> int:
    """A contract length: ``central`` + a whole number uniform on -spread..spread (from the
    uniform ``u``), at least 1 year."""
    return max(central + int(math.floor(u * (2 * spread + 1))) - spread, 1)


@kernel_inline
def performance(k: Context, quality: float, social_value: float) -> float:
    """A council's view of its mutual's performance, in [0, 1]: quality and social value."""
    return (k.performance_quality_share * quality
            + (1.0 - k.performance_quality_share) * social_value)


@kernel_inline
def extension_prob(k: Context, perf: float, coproduction: float, risk_aversion: float
                   ) -> float:
    """Chance an expiring contract is extended (direct award) instead of tendered, for a
    mutual performing ``perf`` and its council's own ``coproduction`` and
    ``risk_aversion``."""
    style = 1.0 + k.extension_coproduction_shift * coproduction \
        - k.extension_risk_shift * risk_aversion
    p = (k.extension_prob + k.extension_performance_slope * (perf - k.performance_reference)) \
        * style
    return min(max(p, 0.0), 1.0)


@kernel_inline
def is_due_for_tender(stage: int, core_volume: float, next_tender: int, year: int) -> bool:
    """A trading mutual whose core contract expires this year."""
    return is_trading(stage) and core_volume > 0 and next_tender == year


@kernel_inline
def holds_contract(stage: int, core_volume: float) -> bool:
    """A trading mutual holding (some lots of) its core contract."""
    return is_trading(stage) and core_volume > 0


@kernel_inline
def run_tenders(st: Arrays, r: int, k: Context, d: Draws, year: int, support: np.ndarray,
                engagement: np.ndarray, led: np.ndarray) -> None:
    """Extend, break or tender every core contract (slots in order), see :func:`tender`.

    Draws, all from each slot's tender key ``d.keys[m]`` (drawn every year for every slot,
    so the stream does not depend on the state): the break-clause uniform (contract uniform
    BREAK) for a contract not expiring this year; the extension uniform (EXTENSION) for one
    expiring; for a tender, the bid uniforms and the score normals of the bidders that bid
    (or, in tests, the hand-set ``d.bid[m]``, ``d.score[m]``), the contract-length uniform
    (CONTRACT_LENGTH) and the local SMEs' numbers (:func:`mutualsim.rng.local_numbers`),
    each computed where :func:`tender` reads it. Changes ``next_tender``,
    ``extensions`` of extended contracts; awards each tendered one (``core_volume``,
    ``core_price``, ``next_tender``, ``lots_held``, ``extensions``, ``stage``, ``tenders``,
    ``tender_wins``, ``private_value``; ``contract_lost_year`` when the mutual won no lot:
    bookkeeping no rule reads, for reports) and the winning firms' ``firm_contracts``,
    ``firm_revenue`` (:func:`tender`). Ledger
    ``tenders``, ``mutual_tender_wins``, ``tenders_contested``, ``lots_won_local``,
    ``contract_extensions``, ``break_clauses``, ``tender_cost``, ``council_spend``.
    ODD 'Tendering'.
    """
    B, L, N = k.B, k.L, k.local_bidders
    work = TenderWork(np.empty(B), np.empty((B + 1, L)), np.empty(B, dtype=np.bool_),
                      np.empty(B), np.empty((N, L), dtype=np.bool_), np.empty(N), np.empty(L))
    firms = Firms(st.firm_cost, st.firm_quality, st.firm_social, st.firm_financial,
                  st.firm_contracts, st.firm_revenue)
    tenders = wins = extended = broken = 0
    for m in range(k.M):
        if not holds_contract(st.stage[r, m], st.core_volume[r, m]):
            continue
        key = d.keys[m]
        c = m // k.S
        perf = performance(k, st.quality[r, m], st.social_value[r, m])
        due = st.next_tender[r, m] == year
        barred = False
        if not due:
            # Break clause: a poorly performing contract is ended and tendered at once.
            if perf < k.break_threshold and \
                    contract_uniform(key, B, L, BREAK) < k.break_clause_prob:
                barred = True
                broken += 1
            else:
                continue
        elif st.extensions[r, m] < k.max_extensions and \
                contract_uniform(key, B, L, EXTENSION) < extension_prob(
                    k, perf, st.council_coproduction[r, c], st.council_risk_aversion[r, c]):
            # Extension or direct award instead of re-tendering.
            st.next_tender[r, m] = year + k.extension_years
            st.extensions[r, m] += 1
            extended += 1
            continue
        if d.bid.shape[0] > 0:
            copy_fixed_numbers(d, m, work.bid_u, work.noise)
        else:
            for b in range(B):
                work.bid_u[b] = bid_uniform(key, b)
            work.noise[:] = np.nan       # each score normal is computed where it is read
        buyer = Buyer(int(st.council_lots[r, c]), st.budget[r, c],
                      st.council_coproduction[r, c], st.council_risk_aversion[r, c],
                      st.council_w_price[r, c], st.council_w_quality[r, c],
                      st.council_w_social[r, c], st.council_w_financial[r, c])
        mutual = Incumbent(st.v0[r, m], st.capability[r, m], st.cost_position[r, m],
                           st.cost_drift[r, m], st.reserves[r, m], st.quality[r, m],
                           st.social_value[r, m], st.spinout_year[r, m])
        won, lot, bid_m, private = tender(k, buyer, mutual, firms, r, year, support[c],
                                          engagement[c], key, work, not barred, led)
        # Award: the mutual keeps the lots it won for a term drawn around contract_years.
        kept = won > 0
        st.core_volume[r, m] = lot * won
        st.core_price[r, m] = bid_m if kept else 0.0
        u_length = contract_uniform(key, B, L, CONTRACT_LENGTH)
        st.next_tender[r, m] = year + drawn_length(k.contract_years, k.contract_years_spread,
                                                   u_length) if kept else -1
        st.lots_held[r, m] = won
        st.extensions[r, m] = 0
        st.stage[r, m] = COMPETING
        st.tenders[r, m] += 1
        st.tender_wins[r, m] += kept
        st.private_value[r, m] = private
        if not kept:  # a contract lost is never tendered to the mutual again
            st.contract_lost_year[r, m] = year
        tenders += 1
        wins += kept
    led[Flow.tenders] += tenders
    led[Flow.mutual_tender_wins] += wins
    led[Flow.contract_extensions] += extended
    led[Flow.break_clauses] += broken


@kernel_inline
def copy_fixed_numbers(d: Draws, m: int, bid_u: np.ndarray, noise: np.ndarray) -> None:
    """Slot ``m``'s hand-set tender numbers (tests) into ``bid_u`` (B,), ``noise`` (B+1, L)."""
    for b in range(bid_u.shape[0]):
        bid_u[b] = d.bid[m, b]
    for i in range(noise.shape[0]):
        for j in range(noise.shape[1]):
            noise[i, j] = d.score[m, i, j]


@kernel_inline
def score_noise(noise: np.ndarray, key: np.uint64, k: Context, i: int, lot: int) -> float:
    """The score normal of bidder row ``i`` (0 the mutual, b + 1 firm b) for ``lot``:
    the hand-set ``noise[i, lot]`` in tests, else (nan there) number
    :func:`mutualsim.rng.score_normal` of the tender ``key``."""
    z = noise[i, lot]
    if z != z:
        z = score_normal(key, k.B, k.L, i, lot)
    return z


@kernel_inline
def local_entry_prob(k: Context, lot: float) -> float:
    """Chance a local SME bids for a lot of value ``lot`` (GBP m/yr): alone up to
    ``local_capacity``, in a consortium up to ``consortium_size`` times that, else never."""
    if lot <= k.local_capacity:
        return k.local_bid_prob
    if lot <= k.consortium_size * k.local_capacity:
        return k.local_bid_prob * k.consortium_prob
    return 0.0


@kernel_inline
def tender(k: Context, buyer: Buyer, mutual: Incumbent, firms: Firms, r: int, year: int,
           support: float, engagement: float, key: np.uint64, work: TenderWork,
           mutual_bids: bool, led: np.ndarray) -> tuple[int, float, float, float]:
    """One tender of a core contract of council ``buyer`` held by ``mutual``, in
    replication ``r``: returns the lots the mutual won, the lot size (GBP m/yr at unit cost
    1), the mutual's bid (unit price) and the value of the lots others won (GBP m/yr);
    :func:`run_tenders` awards the contract. ``support``, ``engagement``: the council's
    citizens' mean support and engagement.

    ``work.bid_u`` (B,) uniforms decide which national firms bid (probability
    ``private_bid_prob``); their score normals (:func:`score_noise`: ``work.noise`` (B+1, L),
    row 0 the mutual's, hand-set in tests, else nan and computed from ``key`` as read) are
    scaled by ``eval_noise``; local SME i bids for lot j if its entry uniform
    (:func:`mutualsim.rng.local_entry_uniform` of ``key``) is below
    :func:`local_entry_prob`, at unit cost ``local_unit_cost`` x (1 + ``firm_sd`` x its cost
    normal) (x (1 + ``consortium_cost_markup``) as a consortium), with its score normals;
    a number is computed only where it is read, so a tender costs what its bidders need.
    ``mutual_bids`` False: the mutual is barred (after a break clause). Prices are per unit
    of service (in-house cost 1); volumes GBP m at unit cost 1. Changes the winning firms'
    ``firm_contracts``, ``firm_revenue`` (row ``r`` of ``firms``). Ledger
    ``tenders_contested``, ``lots_won_local``, ``tender_cost``, ``council_spend``.
    """
    B, L, N = k.B, buyer.lots, k.local_bidders   # the council's own lots
    budget = buyer.budget
    v0 = mutual.v0
    bid_u, noise, bids, bid_p = work.bid_u, work.noise, work.bids, work.bid_p
    local_bids, bid_l, value = work.local_bids, work.bid_l, work.value
    volume = v0 * budget
    lot = volume / L
    ceiling = 1.0 - k.price_squeeze * (1.0 - budget)
    tender_cost = k.lot_tender_cost * L
    led[Flow.tender_cost] += tender_cost
    led[Flow.council_spend] += tender_cost

    # Mutual's bid: cost plus back-office overhead and the overhead of lots beyond the
    # first spread over the volume, capped at the ceiling.
    u_m = unit_cost(k, mutual.capability, support * engagement) * cost_factor(
        mutual.cost_position, mutual.cost_drift)
    overheads = k.backoffice_overhead * v0 + k.lot_overhead * (L - 1)
    bid_m = min((u_m + overheads / volume) * (1.0 + k.mutual_margin), ceiling)
    best = bid_m if mutual_bids else math.inf
    # National firms' bids: only firms that choose to bid and can deliver under the ceiling.
    scale = (lot / k.reference_lot) ** (-k.scale_elasticity)
    contested = False
    for b in range(B):
        cost_p = k.private_unit_cost * firms.cost[r, b] * scale
        bids[b] = bid_u[b] < k.private_bid_prob and cost_p <= ceiling
        bid_p[b] = min(cost_p * (1.0 + k.private_margin), ceiling)
        if bids[b]:
            best = min(best, bid_p[b])
            contested = True
    # Local SMEs (alone or in consortia) bid lot by lot; small lots attract them.
    p_local = local_entry_prob(k, lot)
    markup = 1.0 + (k.consortium_cost_markup if lot > k.local_capacity else 0.0)
    for i in range(N):
        cost_l = math.nan            # its cost normal is read only if it enters a lot
        for j in range(L):
            local_bids[i, j] = False
            if not local_entry_uniform(key, B, k.L, i, j) < p_local:
                continue
            if cost_l != cost_l:
                cost_l = k.local_unit_cost * (1.0 + k.firm_sd * local_cost_normal(
                    key, B, k.L, N, i)) * markup
                bid_l[i] = min(cost_l * (1.0 + k.local_margin), ceiling)
            local_bids[i, j] = cost_l <= ceiling
            if local_bids[i, j]:
                best = min(best, bid_l[i])
                contested = True
    led[Flow.tenders_contested] += 1.0 if contested else 0.0

    # Weights: the council's own; austerity tilts to price, its co-production to quality
    # and social value, its risk aversion to financial standing.
    tilt = 1.0 + k.coproduction_weight_shift * buyer.coproduction * engagement
    w_price = buyer.w_price * (1.0 + k.austerity_price_shift * (1.0 - budget))
    w_quality, w_social = buyer.w_quality * tilt, buyer.w_social * tilt
    w_fin = buyer.w_financial * (k.financial_weight_base + buyer.risk_aversion)
    weights = w_price + w_quality + w_social + w_fin
    w_price, w_quality = w_price / weights, w_quality / weights
    w_social, w_fin = w_social / weights, w_fin / weights

    score_m = -math.inf
    if mutual_bids:
        years_trading = float(year - mutual.spinout_year)
        standing = financial_standing(k, mutual.reserves, v0, years_trading)
        score_m = (w_price * best / bid_m + w_quality * mutual.quality
                   + w_social * mutual.social_value + w_fin * standing + k.incumbency_bonus)
    score_local = (w_quality * k.local_quality + w_social * k.local_social_value
                   + w_fin * k.local_financial)

    # Each lot to the highest score (the mutual on ties, then national firms, then local
    # SMEs, each in order); a lot nobody bids for returns in-house.
    won = local_won = 0
    for lot_i in range(L):
        value[lot_i] = 0.0
        best_p = -math.inf
        winner = -1
        for b in range(B):
            if not bids[b]:
                continue
            score_p = (w_price * best / bid_p[b] + w_quality * firms.quality[r, b]
                       + w_social * firms.social[r, b]
                       + w_fin * firms.financial[r, b])
            s = score_p + k.eval_noise * score_noise(noise, key, k, b + 1, lot_i)
            if s > best_p:
                best_p, winner = s, b
        local_winner = -1
        for i in range(N):
            if not local_bids[i, lot_i]:
                continue
            s = (w_price * best / bid_l[i] + score_local
                 + k.eval_noise * local_score_normal(key, B, k.L, N, i, lot_i))
            if s > best_p:
                best_p, local_winner = s, i
        if mutual_bids and score_m + k.eval_noise * score_noise(noise, key, k, 0, lot_i) \
                >= best_p:
            won += 1
        elif local_winner >= 0:
            value[lot_i] = bid_l[local_winner] * lot
            local_won += 1
        elif winner >= 0:
            value[lot_i] = bid_p[winner] * lot
            firms.contracts[r, winner] += 1
            firms.revenue[r, winner] += value[lot_i]
    led[Flow.lots_won_local] += local_won

    return won, lot, bid_m, total(value[:L])


@kernel_inline
def charge_lot_overheads(st: Arrays, r: int, k: Context, led: np.ndarray) -> None:
    """Each trading mutual pays ``lot_overhead`` (GBP m/yr) per lot of its core contract it
    holds beyond the first (the first is in ``backoffice_overhead``; a protected contract
    is one lot), after the year's accounts: added to ``costs`` and taken from
    ``reserves``. Ledger ``lot_overhead``. ODD 'Tendering'."""
    charged = np.zeros(k.M)
    for m in range(k.M):
        if not holds_contract(st.stage[r, m], st.core_volume[r, m]):
            continue
        charged[m] = k.lot_overhead * max(st.lots_held[r, m] - 1, 0)
        st.costs[r, m] += charged[m]
        st.reserves[r, m] -= charged[m]
    led[Flow.lot_overhead] += total(charged)
