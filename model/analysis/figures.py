"""The five comparison figures, built on :mod:`mutualsim.survival.plots`.

Every function takes a :class:`~mutualsim.analysis.compare.Comparison` and returns a
:class:`matplotlib.figure.Figure` (no pyplot state), so they work in notebooks, tests
and the headless CLI alike.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..survival.plots import (
    LABEL_SIZE,
    SMALL_SIZE,
    plot_cumulative_incidence,
    plot_hazard,
    plot_income_share,
    plot_km,
    plot_survival_at,
)
from .compare import CAUSE_LABELS, CAUSES, Comparison, axis_label

__all__ = ["FIGURES", "all_figures", "fig_cif", "fig_hazard", "fig_income_share", "fig_km",
           "fig_survival_at"]


def _title(comparison: Comparison) -> str:
    return comparison.meta.get("title") or axis_label(comparison.factor)


def fig_km(comparison: Comparison) -> Figure:
    """Kaplan-Meier curves per value with 95% bands and a number-at-risk table."""
    curves = {g.label: g.km() for g in comparison.groups}
    return plot_km(curves, at_risk_table=True,
                   title=f"Share still trading, by {_title(comparison).lower()}")


def fig_hazard(comparison: Comparison) -> Figure:
    """Yearly exit hazard; dotted lines mark where protected contracts end.

    Years with fewer than 30 mutuals at risk are dropped: their hazards are noise.
    """
    hazards = {}
    for g in comparison.groups:
        h = g.hazard()
        hazards[g.label] = h[(h["at_risk"] >= 30) & (h["time"] >= 1)]
    fig = plot_hazard(hazards, title="Exit risk by year since spin-out")
    ax = fig.axes[0]
    if comparison.factor == "protection_years":
        for g, line in zip(comparison.groups, ax.get_lines(), strict=False):
            if 0 < g.value < 50:
                ax.axvline(g.value + 0.5, color=line.get_color(), ls=":", lw=1.5)
        legend = ax.get_legend()
        if legend is not None:
            legend.set_title("dotted: protection ends", prop={"size": SMALL_SIZE})
    return fig


def fig_cif(comparison: Comparison, max_panels: int = 6) -> Figure:
    """Cumulative incidence by exit cause, one small panel per value (at most 6)."""
    groups = comparison.groups
    if len(groups) > max_panels:  # first, last and evenly spaced between
        idx = np.unique(np.linspace(0, len(groups) - 1, max_panels).round().astype(int))
        groups = [groups[i] for i in idx]
    ncols = min(3, len(groups))
    nrows = math.ceil(len(groups) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.4 * nrows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
    names = [CAUSE_LABELS[c] for c in CAUSES]
    if comparison.origin == "incubation":  # a take-back ends a venture too
        names.append(CAUSE_LABELS["taken_back"])
    for ax, g in zip(axes, groups, strict=False):
        plot_cumulative_incidence(g.incidence(), g.km(), names, ax=ax, title=g.label)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels),
               fontsize=SMALL_SIZE, frameon=False)
    fig.suptitle(f"How mutuals exit, by {_title(comparison).lower()}", fontsize=LABEL_SIZE + 1)
    return fig


def fig_income_share(comparison: Comparison) -> Figure:
    """Parent council's share of mutuals' income by calendar year, mean and 10-90% band:
    one small panel per value (overlapping shaded bands would blend into one another)."""
    series = {g.label: g.income_share.dropna(subset=["mean"])
              for g in comparison.groups if g.income_share is not None}
    return plot_income_share(series, xlabel="Calendar year",
                             ylabel="Council's share of income (%)",
                             title="Dependence on the parent council "
                                   "(mean and 10-90% of replications)")


def fig_survival_at(comparison: Comparison) -> Figure:
    """S(5), S(10), S(15) against the factor, with 95% intervals."""
    table = comparison.survival_at_table()
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                  for v in comparison.values)
    if not numeric:
        table = table.assign(value=table["label"])
    return plot_survival_at(table, xlabel=axis_label(comparison.factor),
                            title="Share still trading after 5, 10 and 15 years")


#: File stem -> figure builder, in report order.
FIGURES = {
    "survival_curves": fig_km,
    "hazard": fig_hazard,
    "exit_causes": fig_cif,
    "income_share": fig_income_share,
    "survival_by_factor": fig_survival_at,
}


def all_figures(comparison: Comparison) -> dict[str, Figure]:
    """Every figure of the report, keyed by file stem."""
    return {name: build(comparison) for name, build in FIGURES.items()}
