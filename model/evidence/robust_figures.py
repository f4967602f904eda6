"""Figures of ``mutualsim robust`` (matplotlib Figure API: no global state, no display).

* ``outcomes.png``: each reported outcome by policy across futures (one dot per future,
  box = quartiles, whiskers = 5% and 95%);
* ``regret.png``: each policy's regret across futures, its maximum marked;
* ``prim.png``: per policy that fails somewhere, the PRIM peeling trade-off (density
  against coverage, the chosen box starred) and the futures on the box's two most
  restricted uncertainties, failing ones in red, the box drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .figures import DPI, STYLE

if TYPE_CHECKING:
    from .robust import FailureBox, RobustExperiment


#: Axis labels of the reported outcomes, with units.
AXIS = {"S10": "S(10), share still trading", "RMST15": "RMST 15 (years trading)",
        "council_spend": "council spend (GBP m/year)"}


def _labels(names: Sequence[str]) -> list[str]:
    return [n if len(n) <= 22 else n[:21] + "…" for n in names]


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def outcomes_figure(table: pd.DataFrame, policies: Sequence[str], path: Path) -> None:
    """Each reported outcome by policy: one dot per future, 5/25/50/75/95% box."""
    from .robust import REPORTED
    rng = np.random.default_rng(0)  # jitter of the dots only
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(5.0 * len(REPORTED), 4.8))
        for k, (outcome, (higher, unit)) in enumerate(REPORTED.items()):
            ax = fig.add_subplot(1, len(REPORTED), k + 1)
            data = [table.loc[table["policy"] == p, outcome].dropna().to_numpy()
                    for p in policies]
            ax.boxplot(data, whis=(5, 95), showfliers=False, widths=0.5)
            for i, y in enumerate(data):
                ax.scatter(i + 1 + rng.uniform(-0.15, 0.15, len(y)), y, s=9, alpha=0.5,
                           color="tab:blue")
            ax.set_xticks(range(1, len(policies) + 1), _labels(policies), rotation=25,
                          ha="right")
            ax.set_xlabel("policy")
            ax.set_ylabel(AXIS.get(outcome, f"{outcome} ({unit})"))
            ax.set_title(f"{outcome} across futures ({'higher' if higher else 'lower'} "
                         "is better)")
        _save(fig, path)


def regret_figure(regrets: dict[str, pd.DataFrame], path: Path) -> None:
    """Regret against the best policy in each future, per policy; maximum starred."""
    from .robust import REPORTED
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(5.0 * len(regrets), 4.8))
        for k, (outcome, frame) in enumerate(regrets.items()):
            ax = fig.add_subplot(1, len(regrets), k + 1)
            names = list(frame.columns)
            data = [frame[c].to_numpy(float) for c in names]
            if len(frame):
                ax.boxplot(data, whis=(5, 95), showfliers=False, widths=0.5)
                ax.scatter(range(1, len(names) + 1), [d.max() for d in data], marker="*",
                           s=120, color="tab:red", label="maximum regret", zorder=3)
                ax.legend(loc="best")
            ax.set_xticks(range(1, len(names) + 1), _labels(names), rotation=25, ha="right")
            ax.set_xlabel("policy")
            ax.set_ylabel("regret: " + AXIS.get(outcome, f"{outcome} "
                                                f"({REPORTED[outcome][1]})"))
            ax.set_title(f"Regret vs best policy per future: {outcome}")
        _save(fig, path)


def _two_dims(fb: FailureBox, uncertainties: Sequence[str], table: pd.DataFrame) -> list[str]:
    """The two uncertainties the box restricts most (share of their range cut off)."""
    def cut(name: str) -> float:
        lo, hi = fb.limits.get(name, (np.nan, np.nan))
        full = float(table[name].max() - table[name].min())
        return 0.0 if name not in fb.limits or full <= 0 else 1 - (hi - lo) / full
    return sorted(uncertainties, key=lambda u: (-cut(u), uncertainties.index(u)))[:2]


def prim_figure(table: pd.DataFrame, boxes: Sequence[FailureBox], spec: RobustExperiment,
                path: Path) -> None:
    """PRIM trade-off and box per policy that fails in some but not all futures (a note
    for the others)."""
    shown = [fb for fb in boxes if fb.trajectory is not None]
    rows = max(len(shown), 1)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(11.0, 4.2 * rows))
        if not shown:
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(0.5, 0.5, "no policy fails in some futures and meets the threshold in "
                    "others:\n" + "\n".join(f"{fb.policy}: {fb.describe()}" for fb in boxes),
                    ha="center", va="center")
        for r, fb in enumerate(shown):
            ax = fig.add_subplot(rows, 2, 2 * r + 1)
            t = fb.trajectory
            sc = ax.scatter(t["coverage"], t["density"], c=t["step"], cmap="viridis", s=18)
            fig.colorbar(sc, ax=ax, label="peeling step")
            ax.scatter([fb.box.coverage], [fb.box.density], marker="*", s=200,
                       color="tab:red", label="chosen box (after pasting)")
            ax.set_xlabel("coverage (share of failing futures in box)")
            ax.set_ylabel("density (share of box failing)")
            ax.set_title(f"PRIM trade-off: {_labels([fb.policy])[0]}")
            ax.legend(loc="lower left")

            ax = fig.add_subplot(rows, 2, 2 * r + 2)
            sub = table[table["policy"] == fb.policy]
            dims = _two_dims(fb, list(spec.uncertainties), sub)
            failed = _failed(sub, spec)
            xs = sub[dims[0]].to_numpy(float)
            ys = sub[dims[1]].to_numpy(float) if len(dims) > 1 else np.zeros(len(sub))
            ax.scatter(xs[failed == 0], ys[failed == 0], s=18, color="tab:blue",
                       label="meets threshold")
            ax.scatter(xs[failed == 1], ys[failed == 1], s=24, color="tab:red", marker="x",
                       label="fails threshold")
            j = [spec.uncertainties.index(d) for d in dims]
            lo, hi = fb.box.lower[j], fb.box.upper[j]
            if len(dims) < 2:
                lo, hi = np.append(lo, -0.5), np.append(hi, 0.5)
            ax.add_patch(Rectangle((lo[0], lo[1]), hi[0] - lo[0], hi[1] - lo[1], fill=False,
                                   ec="black", lw=1.5, label="PRIM box"))
            ax.set_xlabel(f"{dims[0]} ({_unit(dims[0])})")
            ax.set_ylabel(f"{dims[1]} ({_unit(dims[1])})" if len(dims) > 1 else "")
            ax.set_title(f"Where it fails: coverage {fb.box.coverage:.2f}, density "
                         f"{fb.box.density:.2f}")
            ax.legend(loc="best", fontsize=9)
        _save(fig, path)


def _failed(sub: pd.DataFrame, spec: RobustExperiment) -> np.ndarray:
    from .robust import fails
    return fails(sub, spec.threshold).to_numpy(float)


def _unit(name: str) -> str:
    from ..params import FIELDS
    return str(FIELDS[name].metadata.get("unit", "")) if name in FIELDS else ""
