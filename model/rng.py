"""Random streams: one generator per (seed, replication), a fixed block of draws per year.

Replication ``i`` of seed ``s`` draws only from ``SeedSequence(s, spawn_key=(i,))`` and
consumes a fixed number of numbers per year that depends on the scenario's dimensions, never
on the state: one uniform per council (budget shock) and one for the recession, one normal
per citizen, then one 64-bit *slot key* per service slot. Every number a slot reads is a
pure function of its key, expanded by a counter-based hash only when its stage reads it: its
yearly numbers (:data:`SLOT_NUMBERS`: proposal, preparation, outside contracts, grant,
takeover, cost, volume and trading shocks, learning noise, the Teckal appraisal;
:func:`slot_uniform`, :func:`slot_normal`) and, in a year it is tendered, its tender's
(a decision to bid per firm, a score noise per bidder and lot, the contract's numbers:
:func:`tender_numbers`). About three quarters of the slots are in-house services that read
one number a year, so the stream stays state-independent while the work follows the state.
So a replication's trajectory is the same alone, in a batch of any size, on any
thread, in the Mesa model or on any worker, and two scenarios with the same seed and
dimensions share common random numbers (paired comparisons).

The compiled kernel draws each year's block inside its loop (:func:`draw_year`) with numba's
``np.random.Generator`` support, which reproduces numpy's ``random`` and
``standard_normal`` streams bit for bit; :class:`Layout` names the same block for the
per-agent reference model in ``tests/reference``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .jit import JIT_DISABLED, kernel_entry, kernel_inline, kernel_jit
from .params import Scenario


def replication_generator(seed: int, replication: int) -> np.random.Generator:
    """The generator of one replication; depends on (seed, replication) only."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(replication),))))


def generators(seed: int, replications: Iterable[int]) -> list[np.random.Generator]:
    return [replication_generator(seed, i) for i in replications]


@dataclass(frozen=True)
class Layout:
    """Names and shapes of the uniforms and normals one replication draws each year, in
    the order they are drawn (then ``n_keys`` raw 64-bit tender keys)."""

    uniform: tuple[tuple[str, tuple[int, ...]], ...]
    normal: tuple[tuple[str, tuple[int, ...]], ...]
    n_keys: int = 0      # one tender key per slot
    bidders: int = 0
    lots: int = 1
    local: int = 0       # local SME bidders (numbers from the tender key)

    @staticmethod
    def for_scenario(sc: Scenario) -> Layout:
        c, m, b, k = sc.councils, sc.councils * sc.services_per_council, sc.private_bidders, \
            sc.citizens_per_council
        return Layout(
            uniform=(("shock", (c,)), ("recession", (1,))),
            normal=(("citizen", (c, k)),),
            n_keys=m, bidders=b, lots=sc.max_lots, local=sc.local_bidders,
        )

    @staticmethod
    def _size(parts: tuple[tuple[str, tuple[int, ...]], ...]) -> int:
        return sum(int(np.prod(shape)) for _, shape in parts)

    @property
    def n_uniform(self) -> int:
        return self._size(self.uniform)

    @property
    def n_normal(self) -> int:
        return self._size(self.normal)


# One replication's random numbers for one year, as named views (shapes for M slots,
# C councils, K citizens per council, B bidders, L lots):
#   uniforms  shock (C,) recession (1,)
#   normals   citizen (C*K,) (council-major)
#   keys      (M,) uint64: each slot's yearly key; every number a slot reads (its yearly
#             numbers, :data:`SLOT_NUMBERS`, and its tender's) is a pure function of its key
#   bid, score: hand-set tender numbers for tests, (M, B) and (M, B+1, L); with zero rows
#             (the normal case) each tendered slot expands its key instead.
#   slot:     hand-set yearly slot numbers for tests, (M, N_SLOT_NUMBERS) in the order of
#             SLOT_NUMBERS; with zero rows (the normal case) a slot expands its key.
Draws = namedtuple("Draws", ("shock", "recession", "citizen", "keys", "bid", "score", "slot"))


@kernel_inline
def split_year(u: np.ndarray, z: np.ndarray, keys: np.ndarray, C: int, M: int, B: int,
               L: int) -> Draws:
    """Name the parts of one year's uniforms ``u``, normals ``z`` and ``keys`` (the order
    of :meth:`Layout.for_scenario`: each part starts where the one before it ends)."""
    shock = u[0:C]
    recession = u[C:C + 1]
    return Draws(shock, recession, z, keys, np.empty((0, B)), np.empty((0, B + 1, L)),
                 np.empty((0, N_SLOT_NUMBERS)))


if JIT_DISABLED:
    def draw_keys(gen: np.random.Generator, n: int) -> np.ndarray:
        """``n`` raw 64-bit outputs of the generator's bit generator."""
        return gen.bit_generator.random_raw(n)
else:
    from numba.np.random.generator_core import next_uint64

    @kernel_jit
    def draw_keys(gen: np.random.Generator, n: int) -> np.ndarray:
        """``n`` raw 64-bit outputs of the generator's bit generator (as ``random_raw``)."""
        out = np.empty(n, dtype=np.uint64)
        bits = gen.bit_generator
        for i in range(n):
            out[i] = next_uint64(bits)
        return out


@kernel_jit
def draw_year(gen: np.random.Generator, C: int, M: int, K: int, B: int, L: int) -> Draws:
    """One year's numbers for one replication: uniforms, then normals, then tender keys."""
    u = gen.random(C + 1)
    z = gen.standard_normal(C * K)
    keys = draw_keys(gen, M)
    return split_year(u, z, keys, C, M, B, L)


# --- tender numbers: a counter-based hash of each slot's key --------------------------------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_STEP = 2.0 ** -53


@kernel_inline
def splitmix(x: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@kernel_jit
def tender_numbers(key: np.uint64, bid: np.ndarray, score: np.ndarray) -> None:
    """Expand one tender key into bid uniforms ``bid`` (B,) and score normals ``score``
    (B+1, L), in place.

    Number j of a key is ``splitmix(key + (j + 1) * golden)``; uniforms are its top 53 bits,
    normals the inverse normal CDF of the same bits offset by half a step, so every number
    is a pure function of (key, j), whatever else is drawn: bid uniform b is number b
    (:func:`bid_uniform`), score normal (i, l) number B + i L + l (:func:`score_normal`).
    """
    B = bid.shape[0]
    L = score.shape[1]
    for b in range(B):
        bid[b] = bid_uniform(key, b)
    for i in range(B + 1):
        for lot in range(L):
            score[i, lot] = score_normal(key, B, L, i, lot)


@kernel_inline
def bid_uniform(key: np.uint64, b: int) -> float:
    """Firm ``b``'s bid uniform of a tender key (number b)."""
    return key_uniform(key, b)


@kernel_inline
def score_normal(key: np.uint64, B: int, L: int, i: int, lot: int) -> float:
    """Score normal of bidder row ``i`` (0 the mutual, b + 1 firm b) for ``lot`` of a tender
    key, for B firms and up to L lots: number B + i L + lot. The kernel computes only the
    normals a tender reads (the bidders' that bid), each where it is read."""
    return key_normal(key, B + i * L + lot)


# --- contract numbers: the same key's numbers after the bid uniforms and score normals --------
# Number j of a key, for j >= B + (B+1) L (B firms, L lots): four contract uniforms, then the
# N local SMEs' entry uniforms (N, L), cost normals (N,) and score normals (N, L).
CONTRACT_LENGTH, EXTENSION, BREAK, PROTECTION = range(4)
N_CONTRACT_UNIFORMS = 4


@kernel_inline
def key_uniform(key: np.uint64, j: int) -> float:
    """Number ``j`` of a tender key as a uniform on [0, 1) (as in :func:`tender_numbers`)."""
    return float(splitmix(key + np.uint64(j + 1) * _GOLDEN) >> _S11) * _STEP


@kernel_inline
def key_normal(key: np.uint64, j: int) -> float:
    """Number ``j`` of a tender key as a standard normal (as in :func:`tender_numbers`)."""
    bits = splitmix(key + np.uint64(j + 1) * _GOLDEN) >> _S11
    return ndtri((float(bits) + 0.5) * _STEP)


@kernel_inline
def contract_uniform(key: np.uint64, B: int, L: int, which: int) -> float:
    """Contract uniform ``which`` (CONTRACT_LENGTH, EXTENSION, BREAK, PROTECTION) of a key."""
    return key_uniform(key, B + (B + 1) * L + which)


@kernel_inline
def _local_base(B: int, L: int) -> int:
    return B + (B + 1) * L + N_CONTRACT_UNIFORMS


@kernel_inline
def local_entry_uniform(key: np.uint64, B: int, L: int, i: int, lot: int) -> float:
    """Local SME ``i``'s entry uniform for ``lot`` of a tender key (see :func:`local_numbers`)."""
    return key_uniform(key, _local_base(B, L) + i * L + lot)


@kernel_inline
def local_cost_normal(key: np.uint64, B: int, L: int, N: int, i: int) -> float:
    """Local SME ``i``'s cost normal of a tender key, N local SMEs (see :func:`local_numbers`)."""
    return key_normal(key, _local_base(B, L) + N * L + i)


@kernel_inline
def local_score_normal(key: np.uint64, B: int, L: int, N: int, i: int, lot: int) -> float:
    """Local SME ``i``'s score normal for ``lot`` of a tender key (see :func:`local_numbers`)."""
    return key_normal(key, _local_base(B, L) + N * L + N + i * L + lot)


@kernel_jit
def local_numbers(key: np.uint64, B: int, L: int, entry: np.ndarray, cost: np.ndarray,
                  score: np.ndarray) -> None:
    """The local SMEs' numbers of one tender key, in place: entry uniforms ``entry``
    (N, L), cost normals ``cost`` (N,) and score normals ``score`` (N, L), numbers
    B + (B+1) L + 4 on in that order (after the contract uniforms). The kernel reads each
    where it needs it (:func:`local_entry_uniform`, :func:`local_cost_normal`,
    :func:`local_score_normal`); this expands them all, for the reference model."""
    N = cost.shape[0]
    for i in range(N):
        for lot in range(L):
            entry[i, lot] = local_entry_uniform(key, B, L, i, lot)
    for i in range(N):
        cost[i] = local_cost_normal(key, B, L, N, i)
    for i in range(N):
        for lot in range(L):
            score[i, lot] = local_score_normal(key, B, L, N, i, lot)


# --- a slot's yearly numbers: the same key, from number SLOT_BASE on --------------------
# Every number a slot reads in a year outside a tender (whether it is proposed, how its
# preparation goes, its outside contracts, grant, takeover, cost and volume shocks, trading
# noise, learning noise, the end-of-incubation appraisal) is number SLOT_BASE + i of its
# yearly key, i its index in SLOT_NUMBERS. A slot computes only the numbers its stage reads
# (an in-house service reads one, a trading mutual eight): the work follows the state while
# every number stays a pure function of (seed, replication, year, slot). SLOT_BASE lies far
# beyond any tender's numbers and does not depend on the number of bidders, lots or local
# SMEs, so scenarios that differ in those still share their slots' yearly numbers.
SLOT_NUMBERS = ("propose", "prep", "external", "grant", "takeover", "pension",  # uniforms
                "trading", "capability", "appraisal", "pay", "volume")         # normals
(SLOT_PROPOSE, SLOT_PREP, SLOT_EXTERNAL, SLOT_GRANT, SLOT_TAKEOVER, SLOT_PENSION,
 SLOT_TRADING, SLOT_CAPABILITY, SLOT_APPRAISAL, SLOT_PAY, SLOT_VOLUME) = range(len(SLOT_NUMBERS))
N_SLOT_UNIFORMS = 6
N_SLOT_NUMBERS = len(SLOT_NUMBERS)
SLOT_BASE = 1 << 32


@kernel_inline
def slot_uniform(d: Draws, m: int, which: int) -> float:
    """Slot ``m``'s yearly uniform ``which`` (SLOT_PROPOSE ... SLOT_PENSION): number SLOT_BASE +
    ``which`` of its key (or the hand-set ``d.slot[m, which]`` in tests)."""
    if d.slot.shape[0] > 0:
        return d.slot[m, which]
    return key_uniform(d.keys[m], SLOT_BASE + which)


@kernel_inline
def slot_normal(d: Draws, m: int, which: int) -> float:
    """Slot ``m``'s yearly standard normal ``which`` (SLOT_TRADING ... SLOT_VOLUME): number
    SLOT_BASE + ``which`` of its key (or the hand-set ``d.slot[m, which]`` in tests)."""
    if d.slot.shape[0] > 0:
        return d.slot[m, which]
    return key_normal(d.keys[m], SLOT_BASE + which)


@kernel_entry
def _expand_slots(keys: np.ndarray, out: np.ndarray) -> None:
    for i in range(keys.shape[0]):
        for w in range(N_SLOT_NUMBERS):
            if w < N_SLOT_UNIFORMS:
                out[i, w] = key_uniform(keys[i], SLOT_BASE + w)
            else:
                out[i, w] = key_normal(keys[i], SLOT_BASE + w)


def slot_draws(keys: np.ndarray) -> np.ndarray:
    """Expand slot keys (n,) into every yearly slot number (n, N_SLOT_NUMBERS), columns in
    the order of SLOT_NUMBERS (uniforms, then normals; used by the per-agent reference
    model, which reads them by name)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    out = np.empty((keys.shape[0], N_SLOT_NUMBERS))
    with np.errstate(over="ignore"):
        _expand_slots(keys, out)
    return out


@kernel_entry
def _expand_contract(keys: np.ndarray, B: int, L: int, contract: np.ndarray,
                     entry: np.ndarray, cost: np.ndarray, score: np.ndarray) -> None:
    for i in range(keys.shape[0]):
        for w in range(N_CONTRACT_UNIFORMS):
            contract[i, w] = contract_uniform(keys[i], B, L, w)
        local_numbers(keys[i], B, L, entry[i], cost[i], score[i])


def contract_draws(keys: np.ndarray, bidders: int, lots: int, local: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expand tender keys (n,) into contract uniforms (n, 4) (indices CONTRACT_LENGTH,
    EXTENSION, BREAK, PROTECTION), local SMEs' entry uniforms (n, N, L), cost normals
    (n, N) and score normals (n, N, L) (used by the per-agent reference model)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    n = keys.shape[0]
    contract = np.empty((n, N_CONTRACT_UNIFORMS))
    entry, score = np.empty((n, local, lots)), np.empty((n, local, lots))
    cost = np.empty((n, local))
    with np.errstate(over="ignore"):
        _expand_contract(keys, bidders, lots, contract, entry, cost, score)
    return contract, entry, cost, score


@kernel_entry
def _expand(keys: np.ndarray, bid: np.ndarray, score: np.ndarray) -> None:
    for i in range(keys.shape[0]):
        tender_numbers(keys[i], bid[i], score[i])


def tender_draws(keys: np.ndarray, bidders: int, lots: int) -> tuple[np.ndarray, np.ndarray]:
    """Expand tender keys (n,) into bid uniforms (n, B) and score normals (n, B+1, L)
    (:func:`tender_numbers` for each key; used by the per-agent reference model)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    bid = np.empty((keys.shape[0], bidders))
    score = np.empty((keys.shape[0], bidders + 1, lots))
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps (only warns uncompiled)
        _expand(keys, bid, score)
    return bid, score


# --- the inverse normal CDF -------------------------------------------------------------
# A port of Cephes' ``ndtri`` (S. L. Moshier, Cephes Math Library 2.1, 1989), the algorithm
# and coefficients scipy.special.ndtri uses, so the kernel gives scipy's values without
# calling scipy through a C pointer (which numba cannot cache). Accuracy (Cephes): relative
# error below 7.2e-16 on (0.125, 1) and 4.6e-16 on (3e-308, 0.135).
_S2PI = 2.50662827463100050242E0   # sqrt(2 pi)
_EXP_M2 = 0.13533528323661269189   # exp(-2)
# |y - 0.5| <= 3/8
_P0 = np.array([-5.99633501014107895267E1, 9.80010754185999661536E1,
                -5.66762857469070293439E1, 1.39312609387279679503E1,
                -1.23916583867381258016E0])
_Q0 = np.array([1.95448858338141759834E0, 4.67627912898881538453E0,
                8.63602421390890590575E1, -2.25462687854119370527E2,
                2.00260212380060660359E2, -8.20372256168333339912E1,
                1.59056225126211695515E1, -1.18331621121330003142E0])
# z = sqrt(-2 log y) in [2, 8)
_P1 = np.array([4.05544892305962419923E0, 3.15251094599893866154E1,
                5.71628192246421288162E1, 4.40805073893200834700E1,
                1.46849561928858024014E1, 2.18663306850790267539E0,
                -1.40256079171354495875E-1, -3.50424626827848203418E-2,
                -8.57456785154685413611E-4])
_Q1 = np.array([1.57799883256466749731E1, 4.53907635128879210584E1,
                4.13172038254672030440E1, 1.50425385692907503408E1,
                2.50464946208309415979E0, -1.42182922854787788574E-1,
                -3.80806407691578277194E-2, -9.33259480895457427372E-4])
# z in [8, 64)
_P2 = np.array([3.23774891776946035970E0, 6.91522889068984211695E0,
                3.93881025292474443415E0, 1.33303460815807542389E0,
                2.01485389549179081538E-1, 1.23716634817820021358E-2,
                3.01581553508235416007E-4, 2.65806974686737550832E-6,
                6.23974539184983293730E-9])
_Q2 = np.array([6.02427039364742014255E0, 3.67983563856160859403E0,
                1.37702099489081330271E0, 2.16236993594496635890E-1,
                1.34204006088543189037E-2, 3.28014464682127739104E-4,
                2.89247864745380683936E-6, 6.79019408009981274425E-9])


@kernel_inline
def _polevl(x: float, coef: np.ndarray) -> float:
    """coef[0] x^N + ... + coef[N], by Horner's rule."""
    ans = coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@kernel_inline
def _p1evl(x: float, coef: np.ndarray) -> float:
    """x^N + coef[0] x^(N-1) + ... + coef[N-1] (leading coefficient 1)."""
    ans = x + coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@kernel_entry
def ndtri(y0: float) -> float:
    """x such that the standard normal CDF at x is ``y0``; -inf at 0, inf at 1, nan
    outside [0, 1] (as scipy.special.ndtri)."""
    if y0 == 0.0:
        return -math.inf
    if y0 == 1.0:
        return math.inf
    if not (0.0 < y0 < 1.0):
        return math.nan
    negate = True
    y = y0
    if y > 1.0 - _EXP_M2:
        y = 1.0 - y
        negate = False
    if y > _EXP_M2:
        y = y - 0.5
        y2 = y * y
        x = y + y * (y2 * _polevl(y2, _P0) / _p1evl(y2, _Q0))
        return x * _S2PI
    x = math.sqrt(-2.0 * math.log(y))
    x0 = x - math.log(x) / x
    z = 1.0 / x
    if x < 8.0:
        x1 = z * _polevl(z, _P1) / _p1evl(z, _Q1)
    else:
        x1 = z * _polevl(z, _P2) / _p1evl(z, _Q2)
    x = x0 - x1
    return -x if negate else x
