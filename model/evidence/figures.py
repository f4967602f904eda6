"""Figures of the sensitivity pipeline (matplotlib Figure API: no global state, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .prim import Box

STYLE = {"font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12,
         "xtick.labelsize": 11, "ytick.labelsize": 11, "legend.fontsize": 11}
DPI = 80
UNITS = {"S10": "share surviving 10 years", "RMST15": "years (of 15)",
         "council_spend": "GBP m/year", "step_in_cost": "GBP m/year"}


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def morris_figure(tables: dict[str, pd.DataFrame], path: Path, label: int = 6) -> None:
    """mu* against sigma for each outcome, the top ``label`` factors named."""
    with matplotlib.rc_context(STYLE):
        cols = min(2, len(tables))
        rows = -(-len(tables) // cols)
        fig = Figure(figsize=(6.5 * cols, 5.0 * rows))
        for k, (name, t) in enumerate(tables.items()):
            ax = fig.add_subplot(rows, cols, k + 1)
            ax.scatter(t["mu_star"], t["sigma"], s=18, color="tab:blue")
            noise = float(t["ee_noise"].iloc[0]) if "ee_noise" in t else np.nan
            if np.isfinite(noise):
                ax.axvline(noise, color="grey", ls="--", lw=1, label="noise level")
                ax.legend(loc="lower right")
            for n, row in t.head(label).iterrows():
                ax.annotate(n, (row["mu_star"], row["sigma"]), fontsize=11,
                            xytext=(3, 3), textcoords="offset points")
            unit = UNITS.get(name, "outcome units")
            ax.set_xlabel(f"mu* ({unit} per factor range)")
            ax.set_ylabel(f"sigma ({unit} per factor range)")
            ax.set_title(f"Morris screening: {name}")
        _save(fig, path)


def sobol_figure(table: pd.DataFrame, path: Path, outcome: str = "S10") -> None:
    """First-order and total Sobol indices with 95% CIs."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.0, 4.5))
        ax = fig.add_subplot()
        x = np.arange(len(table))
        ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=3,
               label="S1 (first order)")
        ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=3, label="ST (total)")
        ax.set_xticks(x, table.index, rotation=25, ha="right")
        ax.set_ylabel("Sobol index (share of variance)")
        ax.set_xlabel("parameter")
        ax.set_title(f"Sobol indices: {outcome}")
        ax.legend()
        _save(fig, path)


def prim_figure(trajectory: pd.DataFrame, box: Box, path: Path) -> None:
    """PRIM peeling trajectory: density against coverage, the chosen box marked."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(6.0, 4.5))
        ax = fig.add_subplot()
        sc = ax.scatter(trajectory["coverage"], trajectory["density"],
                        c=trajectory["step"], cmap="viridis", s=20)
        fig.colorbar(sc, ax=ax, label="peeling step")
        ax.scatter([box.coverage], [box.density], marker="*", s=200, color="tab:red",
                   label="chosen box (after pasting)")
        ax.set_xlabel("coverage (share of good cases in box)")
        ax.set_ylabel("density (share of box that is good)")
        ax.set_title("PRIM trade-off")
        ax.legend(loc="lower left")
        _save(fig, path)


def predictive_figure(ppd: pd.DataFrame, checks: pd.DataFrame, path: Path) -> None:
    """One panel per calibration target: the posterior-predictive distribution of the
    outcome in one simulated world (histogram), its 5-95% band and the published value."""
    from .outcomes import OUTCOME_UNITS
    n = len(checks)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.2 * n, 3.8))
        for k, (name, row) in enumerate(checks.iterrows()):
            ax = fig.add_subplot(1, n, k + 1)
            x = ppd[name].to_numpy(float)
            w = ppd["weight"].to_numpy(float) if "weight" in ppd else np.ones(len(x))
            ok = ~np.isnan(x)
            x, w = x[ok], w[ok]
            if len(x):
                bins: Any = min(30, max(5, len(np.unique(x))))
                if np.all(x == np.round(x)):  # counts: bins centred on whole numbers
                    step = max(1, int(np.ceil((x.max() - x.min() + 1) / 30)))
                    bins = np.arange(x.min() - 0.5, x.max() + step + 0.5, step)
                ax.hist(x, bins=bins, density=False,
                        weights=w / w.sum(), color="tab:blue", alpha=0.6,
                        label="posterior predictive")
                ax.axvspan(row["q05"], row["q95"], color="tab:blue", alpha=0.12,
                           label="5-95%")
            side = {"both": "", "at_least": " (lower bound)", "at_most": " (upper bound)"}
            ax.axvline(row["published"], color="black", lw=2,
                       label=f"published {row['published']:g}{side[row['side']]}")
            ax.set_xlabel(f"{name} ({OUTCOME_UNITS.get(name, 'outcome units')})")
            ax.set_ylabel("share of simulated worlds")
            ax.set_title(name)
            ax.legend(loc="upper right", fontsize=9)
        _save(fig, path)


def sobol_convergence_figure(frame: pd.DataFrame, path: Path, outcome: str) -> None:
    """S1 and ST (95% CIs as bars) of each factor against the number of Saltelli base
    samples N (log2 axis); ``frame`` as ``sensitivity.sobol_convergence`` gives it."""
    names = list(dict.fromkeys(frame["name"]))
    sizes = sorted(frame["n"].unique())
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(13.0, 5.0))
        for k, index in enumerate(("S1", "ST")):
            ax = fig.add_subplot(1, 2, k + 1)
            for j, name in enumerate(names):
                d = frame[frame["name"] == name].sort_values("n")
                shift = 2 ** ((j - len(names) / 2) * 0.012)   # spread the error bars
                ax.errorbar(d["n"] * shift, d[index], yerr=d[f"{index}_conf"], marker="o",
                            ms=3, lw=1, capsize=2, label=name, color=f"C{j % 10}")
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(n) for n in sizes])
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_xlabel("Saltelli base samples N (model points = N x (factors + 2))")
            ax.set_ylabel(f"{index} ({'first-order' if index == 'S1' else 'total'} index)")
            ax.set_title(f"{outcome}: {index} with 95% CI against N")
        fig.axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _save(fig, path)


def morris_stability_figure(frame: pd.DataFrame, path: Path) -> None:
    """Agreement of mu* rankings against the number of trajectories, per outcome
    (``sensitivity.morris_stability`` frames with an ``outcome`` column)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(13.0, 5.0))
        panels = (("spearman", "Spearman rank correlation of mu*"),
                  ("top", "share of top-10 factors in common"))
        for k, (what, label) in enumerate(panels):
            ax = fig.add_subplot(1, 2, k + 1)
            for j, (outcome, d) in enumerate(frame.groupby("outcome", sort=False)):
                ax.plot(d["trajectories"], d[f"prefix_{what}"], color=f"C{j}", marker="o",
                        ms=3, label=f"{outcome}: first r vs all")
                split = d.dropna(subset=[f"split_{what}"])
                ax.plot(split["trajectories"], split[f"split_{what}"], color=f"C{j}",
                        ls="--", marker="s", ms=3, label=f"{outcome}: two disjoint sets of r")
            ax.set_xlabel("Morris trajectories r")
            ax.set_ylabel(label)
            ax.set_ylim(-0.05 if what == "top" else None, 1.05)
            ax.set_title(f"Morris ranking stability: {label}")
        fig.axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _save(fig, path)
