"""Random streams: one generator per (seed, replication), a fixed block of draws per year.

Replication ``i`` of seed ``s`` draws only from ``SeedSequence(s, spawn_key=(i,))`` and
consumes a fixed number of numbers per year that depends on the scenario's dimensions, never
on the state. So a replication's trajectory is the same alone, in a batch of any size, in the
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

    @staticmethod
    def for_scenario(sc: Scenario) -> Layout:
        c, m, b, k = sc.councils, sc.councils * sc.services_per_council, sc.private_bidders, \
            sc.citizens_per_council
        return Layout(
            uniform=(("propose", (m,)), ("prep", (m,)), ("shock", (c,)), ("recession", (1,)),
                     ("bid", (m, b)), ("external", (m,)), ("grant", (m,)),
                     ("takeover", (m,))),
            normal=(("score", (m, b + 1, sc.lots)), ("trading", (m,)), ("capability", (m,)),
                    ("citizen", (c, k))),
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

    ``draws.u[name]`` and ``draws.n[name]`` are arrays of shape (R, *shape).
    """

    def __init__(self, layout: Layout, uniform: np.ndarray, normal: np.ndarray) -> None:
        self.u = _split(uniform, layout.uniform)
        self.n = _split(normal, layout.normal)


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
    for i, g in enumerate(gens):
        g.random(out=uniform[i])
        g.standard_normal(out=normal[i])
    return Draws(layout, uniform, normal)
