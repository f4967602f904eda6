"""Constants derived once from a scenario, the per-year ledger the rules write to, and the
small helpers every rule shares (named selections of slots, sums in numpy's order).

Keeping these out of the rules means each rule reads as the mechanism it implements.
"""

from __future__ import annotations

import dataclasses
import math
from collections import namedtuple
from enum import IntEnum

import numpy as np

from ..jit import kernel_inline, kernel_jit
from ..params import STYLE_OVERRIDES, Scenario
from ..state import COMPETING, COUNCIL_STYLES, INCUBATING, PROTECTED

# Every numeric scenario parameter under its own name (style-dependent ones resolved from the
# commissioning style), plus dimensions and derived constants. A namedtuple, so compiled
# rules read ``k.protection_years`` like the scenario itself.
_SCENARIO_FIELDS = tuple(f.name for f in dataclasses.fields(Scenario)
                         if f.name != "commissioning_style")
_DERIVED = ("C", "S", "M", "B", "K", "L", "w_price", "w_quality", "w_social", "w_financial",
            "commissioning_style_mixed", "commissioning_style_index")
# Style-dependent parameters as set in the scenario (nan = not set: each council's own).
_STYLE_SET = tuple(n + "_set" for n in STYLE_OVERRIDES)
_DERIVED = _DERIVED + _STYLE_SET
Context = namedtuple("Context", _SCENARIO_FIELDS + _DERIVED)


def context(sc: Scenario) -> Context:
    """The scenario's constants for the kernel: ints stay ints, bools bools, the rest float.

    ``C`` councils, ``S`` services per council, ``M = C * S`` service slots, ``B`` private
    bidders, ``K`` citizens per council, ``L`` the most lots a council can use; ``w_*`` the
    normalised tender weights (population mean); ``*_set`` a style-dependent parameter as the
    scenario sets it (nan when each council takes its own).
    """
    values = {}
    for f in dataclasses.fields(Scenario):
        if f.name == "commissioning_style":
            continue
        v = getattr(sc, f.name)
        if v is None:                       # style-dependent: the preset's value
            v = sc.resolved(f.name)
        if isinstance(v, bool | np.bool_):
            values[f.name] = bool(v)
        elif f.type in ("int", int):
            values[f.name] = int(v)
        else:
            values[f.name] = float(v)
    w_price, w_quality, w_social, w_financial = sc.tender_weights()
    return Context(**values, C=sc.councils, S=sc.services_per_council,
                   M=sc.councils * sc.services_per_council, B=sc.private_bidders,
                   K=sc.citizens_per_council, L=sc.max_lots, w_price=w_price,
                   w_quality=w_quality, w_social=w_social, w_financial=w_financial,
                   commissioning_style_mixed=sc.commissioning_style == "mixed",
                   commissioning_style_index=(COUNCIL_STYLES.index(sc.commissioning_style)
                                              if sc.commissioning_style in COUNCIL_STYLES
                                              else -1),
                   **{n + "_set": (math.nan if getattr(sc, n) is None else float(getattr(sc, n)))
                      for n in STYLE_OVERRIDES})


class Flow(IntEnum):
    """What happened in one year, per replication: the ledger's entries (panel flows).

    Counts (proposals ... service_disruptions; tenders_contested ... break_clauses) are
    numbers of mutuals, tenders or lots; money (core_income ... assets_lost; tender_cost,
    lot_overhead) is GBP m in the year. ``tenders_contested``: tenders with at least one
    bid other than the mutual's; ``lots_won_local``: lots won by local SMEs or consortia;
    ``tender_cost``: the council's transaction cost of tendering (also in
    ``council_spend``); ``lot_overhead``: mutuals' per-lot contract overhead (in their
    costs).
    ``teckal_capped`` counts Teckal companies whose outside income the Teckal limit cut in
    the year.
    """

    proposals = 0
    abandoned = 1
    taken_back = 2
    spinouts = 3
    exits_insolvency = 4
    exits_wind_down = 5
    exits_takeover = 6
    tenders = 7
    mutual_tender_wins = 8
    core_income = 9
    external_income = 10
    trading_income = 11
    grant_income = 12
    council_spend = 13
    step_in_cost = 14
    service_disruptions = 15
    assets_preserved = 16
    assets_lost = 17
    tenders_contested = 18
    lots_won_local = 19
    contract_extensions = 20
    break_clauses = 21
    tender_cost = 22
    lot_overhead = 23
    teckal_capped = 24


FLOWS = tuple(f.name for f in Flow)
N_FLOWS = len(FLOWS)


@kernel_inline
def new_ledger() -> np.ndarray:
    """An empty ledger (len(Flow),), GBP m or counts; rules add to it with ``led[Flow.x]``."""
    return np.zeros(N_FLOWS)


# --- named selections of a slot (one replication r, slot m) ----------------------------------
@kernel_inline
def is_trading(stage: int) -> bool:
    """An independent mutual: protected or competing (not incubating, not exited)."""
    return stage == PROTECTED or stage == COMPETING


@kernel_inline
def is_active(stage: int) -> bool:
    """Runs its own accounts: a trading mutual or a Teckal company."""
    return stage == PROTECTED or stage == COMPETING or stage == INCUBATING


@kernel_inline
def delivers_service(stage: int, core_volume: float) -> bool:
    """The slot's service is delivered by its mutual (or Teckal company) this year."""
    return is_active(stage) and core_volume > 0


# Helpers called inside a loop over slots take scalars (or single arrays), never the state
# ``st``: numba increfs and decrefs every array of a tuple it passes to an inlined function
# that branches, on every call (measured: 480 ns a call for the 57 arrays of the state,
# 1 ns with scalars; benchmarks/profile_notes.md, session 6).
@kernel_inline
def council_supports(propensity: float) -> bool:
    """A council backs spin-outs when its ``propensity`` (``st.council_propensity[r, c]``)
    is positive; staff of a council that does not can only use the Right to Challenge.
    ODD 'Councils'."""
    return propensity > 0.0


@kernel_inline
def business_support(propensity: float, support: float) -> float:
    """A council's business-support capability for its spin-outs, in [0, 1]: its own
    ``support`` (``st.council_support[r, c]``) if it backs spin-outs (``propensity``
    positive, :func:`council_supports`), else 0 (staff who used the Right to Challenge get
    no help). ODD 'Councils'."""
    return support if council_supports(propensity) else 0.0


# --- sums in numpy's order ----------------------------------------------------------------
PAIRWISE_BLOCK = 128  # numpy's blocksize for pairwise summation


@kernel_inline
def _short_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of a[lo:lo+n] for n < 8: in order, from -0.0."""
    res = -0.0
    for i in range(lo, lo + n):
        res += a[i]
    return res


@kernel_jit
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of a[lo:lo+n] for n <= 128: plainly below 8 (:func:`_short_sum`), else
    in 8 interleaved partial sums combined pairwise."""
    if n < 8:
        return _short_sum(a, lo, n)
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@kernel_inline
def _left_size(n: int) -> int:
    """Where numpy splits a run of n > 128 numbers: half, rounded down to a multiple of 8."""
    half = n // 2
    return half - half % 8


@kernel_jit
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of a[lo:lo+n]: runs above 128 numbers split in two (left part
    a multiple of 8) and the halves' sums added. Written with an explicit stack because
    numba cannot reload recursive functions from its cache."""
    if n <= PAIRWISE_BLOCK:
        return _block_sum(a, lo, n)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    phase = np.zeros(64, dtype=np.int64)   # 0 new, 1 left half pending, 2 right half pending
    left = np.empty(64)
    top = 0
    starts[0], sizes[0] = lo, n
    while True:
        if sizes[top] > PAIRWISE_BLOCK:
            phase[top] = 1
            top += 1
            starts[top], sizes[top], phase[top] = starts[top - 1], _left_size(sizes[top - 1]), 0
            continue
        res = _block_sum(a, starts[top], sizes[top])
        top -= 1
        while top >= 0 and phase[top] == 2:   # a right half is done: add it to its left
            res = left[top] + res
            top -= 1
        if top < 0:
            return res
        left[top], phase[top] = res, 2        # a left half is done: do the right half
        n2 = _left_size(sizes[top])
        top += 1
        starts[top], sizes[top], phase[top] = starts[top - 1] + n2, sizes[top - 1] - n2, 0


@kernel_jit
def total(a: np.ndarray) -> float:
    """Sum of a 1-D float array, added in numpy's pairwise order (``a.sum()``), so totals
    are bit-identical to numpy's whatever the array's length."""
    return 0.0 + _pairwise(a, 0, a.shape[0])


@kernel_jit
def mean(a: np.ndarray) -> float:
    """``a.mean()`` of a 1-D float array, in numpy's order (nan when empty)."""
    return total(a) / a.shape[0]


@kernel_inline
def segment_mean(a: np.ndarray, lo: int, n: int) -> float:
    """``a[lo:lo + n].mean()`` of a 1-D float array (n > 0), in numpy's order (the same
    pairwise sum as :func:`total`), without making a view of the segment: a view costs two
    atomic reference-count updates (about 30 ns), more than averaging a handful of
    numbers. E.g. council c's citizens in a flat (C*K,) row: ``segment_mean(row, c*K, K)``.
    Fewer than 8 numbers (numpy adds them in order) are summed inline, without a call."""
    if n < 8:
        return (0.0 + _short_sum(a, lo, n)) / n
    return (0.0 + _pairwise(a, lo, n)) / n
