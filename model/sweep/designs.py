"""Experimental designs: which factor values each design point gets.

Every design returns a list of ``{factor: value}`` dicts in design order. Continuous
designs (Latin hypercube, Morris, Sobol) sample the unit hypercube and map each column to
its factor's range with :func:`to_range`, so whole-number factors are handled one way for
all of them. The only randomness in a sweep besides the simulation's own streams is here,
and it comes from a generator seeded by the experiment.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

KINDS = ("grid", "lhs", "morris", "sobol", "points")


@dataclass(frozen=True)
class Range:
    """A continuous factor: a closed interval, and whether the field is a whole number."""

    low: float
    high: float
    whole: bool


def grid(levels: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Full factorial: every combination, the last factor varying fastest."""
    names = list(levels)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(levels[n] for n in names))]


def points(columns: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Explicit points: point i takes the i-th value of every column (all of one length)."""
    names = list(columns)
    return [dict(zip(names, row, strict=True))
            for row in zip(*(columns[n] for n in names), strict=True)]


def to_range(unit: np.ndarray, ranges: dict[str, Range]) -> list[dict[str, Any]]:
    """Map rows of ``unit`` (values in [0, 1]) to factor values.

    Floats scale linearly to ``[low, high]``. Whole numbers take ``low + floor(u * (k))``
    with ``k = high - low + 1`` levels, so each whole number gets an equal share of [0, 1)
    and a stratified design stays stratified; ``u = 1`` maps to ``high``.
    """
    points: list[dict[str, Any]] = [{} for _ in range(unit.shape[0])]
    for j, (name, r) in enumerate(ranges.items()):
        u = np.clip(unit[:, j], 0.0, 1.0)
        if r.whole:
            k = int(r.high) - int(r.low) + 1
            values = [int(v) for v in np.minimum(int(r.low) + np.floor(u * k), int(r.high))]
        else:
            values = [float(v) for v in r.low + u * (r.high - r.low)]
        for point, value in zip(points, values, strict=True):
            point[name] = value
    return points


def latin_hypercube(ranges: dict[str, Range], samples: int,
                    rng: np.random.Generator) -> list[dict[str, Any]]:
    """``samples`` points of a Latin hypercube (scipy.stats.qmc)."""
    from scipy.stats import qmc
    unit = qmc.LatinHypercube(d=len(ranges), rng=rng).random(samples)
    return to_range(unit, ranges)


def _salib(kind: str, source: str):
    """Import a SALib sampler lazily: it is the optional extra ``mutualsim[sensitivity]``."""
    try:
        if kind == "morris":
            from SALib.sample import morris as module
        else:
            from SALib.sample import sobol as module
    except ModuleNotFoundError:
        raise InputError(f"kind = {kind!r} needs SALib; install it with "
                         "pip install 'mutualsim[sensitivity]'", source=source) from None
    return module


def _unit_problem(ranges: dict[str, Range]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges),
            "bounds": [[0.0, 1.0]] * len(ranges)}


def morris(ranges: dict[str, Range], trajectories: int, levels: int,
           rng: np.random.Generator, source: str) -> list[dict[str, Any]]:
    """Morris elementary-effects trajectories ((k + 1) * trajectories points)."""
    module = _salib("morris", source)
    unit = module.sample(_unit_problem(ranges), trajectories, num_levels=levels, seed=rng)
    return to_range(np.asarray(unit), ranges)


def sobol(ranges: dict[str, Range], samples: int, second_order: bool,
          rng: np.random.Generator, source: str) -> list[dict[str, Any]]:
    """Saltelli's extension of the Sobol' sequence for Sobol' indices."""
    module = _salib("sobol", source)
    unit = module.sample(_unit_problem(ranges), samples, calc_second_order=second_order,
                         seed=rng)
    return to_range(np.asarray(unit), ranges)
