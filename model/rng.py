"""Random streams: one generator per (seed, replication), a fixed block of draws per year.

Replication ``i`` of seed ``s`` draws only from ``SeedSequence(s, spawn_key=(i,))`` and
consumes a fixed number of numbers per year that depends on the scenario's dimensions, never
on the state. Tenders need many numbers (a decision to bid per firm, a score noise per bidder
and lot) but only the few slots tendered in a year read them, so each slot draws one 64-bit
*tender key* a year and a tendered slot expands its key with a counter-based hash
(:func:`tender_draws`): the stream stays state-independent while the work follows the
state. So a replication's trajectory is the same alone, in a batch of any size, in the
Mesa model or on any worker, and two scenarios with the same seed and dimensions share
common random numbers (paired comparisons).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .params import Scenario


def replication_generator(seed: int, replication: int) -> np.random.Generator:
    """The generator of one replication; depends on (seed, replication) only."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(replication),))))


def generators(seed: int, replications: Iterable[int]) -> list[np.random.Generator]:
    return [replication_generator(seed, i) for i in replications]


@dataclass(frozen=True)
class Layout:
    """Names and shapes of the uniforms and normals one replication draws each year."""

    uniform: tuple[tuple[str, tuple[int, ...]], ...]
    normal: tuple[tuple[str, tuple[int, ...]], ...]
    n_keys: int = 0      # one tender key per slot
    bidders: int = 0
    lots: int = 1

    @staticmethod
    def for_scenario(sc: Scenario) -> Layout:
        c, m, b, k = sc.councils, sc.councils * sc.services_per_council, sc.private_bidders, \
            sc.citizens_per_council
        return Layout(
            uniform=(("propose", (m,)), ("prep", (m,)), ("shock", (c,)), ("recession", (1,)),
                     ("external", (m,)), ("grant", (m,)), ("takeover", (m,))),
            normal=(("trading", (m,)), ("capability", (m,)), ("citizen", (c, k))),
            n_keys=m, bidders=b, lots=sc.lots,
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


class Draws:
    """One year's random numbers for a batch.

    ``draws.u[name]`` and ``draws.n[name]`` are arrays of shape (R, *shape);
    ``draws.tender(r, m)`` gives the tender numbers of the slots (r, m) being tendered.
    """

    def __init__(self, layout: Layout, uniform: np.ndarray, normal: np.ndarray,
                 keys: np.ndarray | None = None) -> None:
        self.layout = layout
        self.u = _split(uniform, layout.uniform)
        self.n = _split(normal, layout.normal)
        self.keys = keys if keys is not None else np.zeros(
            (uniform.shape[0], layout.n_keys), dtype=np.uint64)
        self.fixed_tender: tuple[np.ndarray, np.ndarray] | None = None  # tests set this

    def tender(self, r: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bid uniforms (n, B), score normals (n, B+1, L)) for tendered slots (r, m)."""
        if self.fixed_tender is not None:
            bid, score = self.fixed_tender
            return bid[r, m], score[r, m]
        return tender_draws(self.keys[r, m], self.layout.bidders, self.layout.lots)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective 64-bit mixer (Steele, Lea & Flood 2014)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def tender_draws(keys: np.ndarray, bidders: int, lots: int) -> tuple[np.ndarray, np.ndarray]:
    """Expand tender keys (n,) into bid uniforms (n, B) and score normals (n, B+1, L).

    Number j of a key is ``splitmix(key + (j + 1) * golden)``; uniforms are its top 53 bits,
    normals the inverse normal CDF of the same bits offset by half a step, so every number is
    a pure function of (key, j), whatever else is drawn.
    """
    from scipy.special import ndtri

    count = bidders + (bidders + 1) * lots
    j = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        bits = _splitmix(keys.astype(np.uint64)[:, None] + j[None, :] * _GOLDEN) >> np.uint64(11)
    scale = 2.0 ** -53
    bid = bits[:, :bidders] * scale
    score = ndtri((bits[:, bidders:] + 0.5) * scale).reshape(-1, bidders + 1, lots)
    return bid, score


def _split(block: np.ndarray, parts) -> dict[str, np.ndarray]:
    out, start = {}, 0
    r = block.shape[0]
    for name, shape in parts:
        size = int(np.prod(shape))
        out[name] = block[:, start:start + size].reshape((r, *shape))
        start += size
    return out


def draw_year(gens: list[np.random.Generator], layout: Layout) -> Draws:
    """Draw one year for every replication: one call per replication per distribution."""
    r = len(gens)
    uniform = np.empty((r, layout.n_uniform))
    normal = np.empty((r, layout.n_normal))
    keys = np.empty((r, layout.n_keys), dtype=np.uint64)
    for i, g in enumerate(gens):
        g.random(out=uniform[i])
        g.standard_normal(out=normal[i])
        keys[i] = g.bit_generator.random_raw(layout.n_keys)
    return Draws(layout, uniform, normal, keys)
