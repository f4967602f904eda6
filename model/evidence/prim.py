"""PRIM (Friedman and Fisher 1999): find a box in input space where an outcome of interest
is dense, by peeling and then pasting.

Why our own: it is ~100 lines, has no dependency (EMA Workbench is only a test extra), and
the coverage/density trajectory is what a policy reader needs: how much of the good cases a
simple rule on the levers keeps (coverage) against how reliably the rule gives them (density).
Its peeling is EMA Workbench's ``prim`` with the original objective: on one dataset the two
trajectories and chosen boxes agree within 0.01 (tests/test_robust_prim_ema.py). Used by
``mutualsim sensitivity`` and ``mutualsim robust``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class Box:
    """Closed bounds per column, with its coverage, density and support on the data."""

    lower: np.ndarray
    upper: np.ndarray
    coverage: float
    density: float
    support: int

    def contains(self, x: np.ndarray) -> np.ndarray:
        return np.all((x >= self.lower) & (x <= self.upper), axis=1)

    def restricted(self, x: np.ndarray, names: Sequence[str]) -> dict[str, tuple[float, float]]:
        """Only the columns whose bounds are tighter than the data's range."""
        lo, hi = x.min(axis=0), x.max(axis=0)
        return {n: (float(self.lower[j]), float(self.upper[j]))
                for j, n in enumerate(names) if self.lower[j] > lo[j] or self.upper[j] < hi[j]}


def _stats(inside: np.ndarray, y: np.ndarray, total: float, lower: np.ndarray,
           upper: np.ndarray) -> Box:
    n = int(inside.sum())
    hits = float(y[inside].sum())
    return Box(lower.copy(), upper.copy(), hits / total if total else 0.0,
               hits / n if n else 0.0, n)


def peel(x: np.ndarray, y: np.ndarray, alpha: float = 0.05,
         min_support: float = 0.05) -> list[Box]:
    """The peeling trajectory: from the full box, repeatedly cut the ``alpha`` slice (lowest or
    highest values of one column) whose removal raises density most, while the box keeps at
    least ``min_support`` of the points. Ties on discrete columns remove a whole level."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n, d = x.shape
    total = float(y.sum())
    lower, upper = x.min(axis=0).copy(), x.max(axis=0).copy()
    inside = np.ones(n, bool)
    boxes = [_stats(inside, y, total, lower, upper)]
    while inside.sum() > max(min_support * n, 1):
        best = None
        for j in range(d):
            col = x[inside, j]
            for side in ("low", "high"):
                if side == "low":
                    q = np.quantile(col, alpha)
                    keep = col >= q if (col < q).any() else col > q
                else:
                    q = np.quantile(col, 1 - alpha)
                    keep = col <= q if (col > q).any() else col < q
                if keep.all() or not keep.any() or keep.sum() < min_support * n:
                    continue
                dens = y[inside][keep].mean()
                if best is None or dens > best[0]:
                    best = (dens, j, side, col[keep])
        if best is None:
            break
        _, j, side, kept = best
        if side == "low":
            lower[j] = kept.min()
        else:
            upper[j] = kept.max()
        inside = np.all((x >= lower) & (x <= upper), axis=1)
        boxes.append(_stats(inside, y, total, lower, upper))
    return boxes


def paste(x: np.ndarray, y: np.ndarray, box: Box, alpha: float = 0.05) -> Box:
    """Widen a peeled box one bound at a time while that raises its density (undoes greedy
    peels that went too far)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    total = float(y.sum())
    lower, upper = box.lower.copy(), box.upper.copy()
    current = box
    improved = True
    while improved:
        improved = False
        best = current
        for j in range(x.shape[1]):
            others = np.all((x >= lower) & (x <= upper) | (np.arange(x.shape[1]) == j), axis=1)
            step = max(1, int(alpha * current.support))
            for side in ("low", "high"):
                lo, hi = lower.copy(), upper.copy()
                if side == "low":
                    cand = np.sort(x[others & (x[:, j] < lower[j]), j])[::-1]
                    if not len(cand):
                        continue
                    lo[j] = cand[min(step, len(cand)) - 1]
                else:
                    cand = np.sort(x[others & (x[:, j] > upper[j]), j])
                    if not len(cand):
                        continue
                    hi[j] = cand[min(step, len(cand)) - 1]
                trial = _stats(np.all((x >= lo) & (x <= hi), axis=1), y, total, lo, hi)
                if trial.density > best.density:
                    best = trial
        if best is not current:
            lower, upper, current, improved = best.lower.copy(), best.upper.copy(), best, True
    return current


def select(boxes: Sequence[Box], min_coverage: float = 0.5) -> int:
    """Index of the densest box on the trajectory that still covers ``min_coverage``."""
    ok = [i for i, b in enumerate(boxes) if b.coverage >= min_coverage] or [0]
    return max(ok, key=lambda i: (boxes[i].density, -i))


def trajectory_frame(boxes: Sequence[Box]) -> pd.DataFrame:
    return pd.DataFrame({"step": range(len(boxes)), "coverage": [b.coverage for b in boxes],
                         "density": [b.density for b in boxes],
                         "support": [b.support for b in boxes]})


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_support: float = 0.05,
         min_coverage: float = 0.5) -> tuple[Box, pd.DataFrame]:
    """Peel, pick the densest box with at least ``min_coverage``, paste; return it and the
    peeling trajectory.

    Missing values are refused, never guessed: InputError if ``x`` or ``y`` holds a NaN
    (drop those rows first and report how many; a NaN outcome read as "not good" would
    bias the box).
    """
    values = x.to_numpy(float)
    y = np.asarray(y, float)
    bad_x, bad_y = int(np.isnan(values).any(axis=1).sum()), int(np.isnan(y).sum())
    if bad_x or bad_y:
        raise InputError(f"{bad_y} outcome values and {bad_x} rows of inputs are missing "
                         f"(NaN) among {len(y)} points; drop them first and report how many",
                         source="prim")
    boxes = peel(values, y, alpha, min_support)
    chosen = paste(values, y, boxes[select(boxes, min_coverage)], alpha)
    return chosen, trajectory_frame(boxes)
