"""Slide-ready plots of survival results (matplotlib; no pyplot state, so Agg-safe).

Each function takes the frames produced by this package and an optional ``ax``, and
returns the :class:`~matplotlib.figure.Figure`. Without ``ax`` a new figure is built
with :class:`matplotlib.figure.Figure` directly, so nothing is registered with pyplot,
no GUI backend is needed and figures are freed like any other object. Fonts are at
least 11 pt so the plots stay readable when projected, and every series takes its colour
from :data:`PALETTE` (Okabe and Ito's colour-blind-safe set), in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

__all__ = [
    "PALETTE",
    "colour",
    "plot_km",
    "plot_hazard",
    "plot_cumulative_incidence",
    "plot_income_share",
    "plot_survival_at",
]

YEARS = "Years since spin-out"
SHARE_TRADING = "Share still trading"
LABEL_SIZE = 13
TICK_SIZE = 12
SMALL_SIZE = 11
#: Okabe & Ito (2008), "Color Universal Design": distinguishable with every common form of
#: colour blindness. Ordered for lines on white (the pale yellow #F0E442 last).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
#: Exit causes (insolvency, wound down, taken over) as stacked areas, in cause order.
CAUSE_PALETTE = ("#D55E00", "#E69F00", "#56B4E9", "#CC79A7", "#009E73")


def colour(i: int) -> str:
    """Colour of the ``i``-th series (cycling through :data:`PALETTE`)."""
    return PALETTE[i % len(PALETTE)]


def _axes(ax: Axes | None, figsize=(8.0, 5.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _style(ax: Axes, xlabel: str, ylabel: str, title: str | None, legend: bool = True) -> None:
    ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    if title:
        ax.set_title(title, fontsize=LABEL_SIZE + 1)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=SMALL_SIZE, frameon=False)


def _band(frame: pd.DataFrame, value: str, low: str, high: str) -> tuple[np.ndarray, np.ndarray]:
    """Band with undefined (NaN) ends drawn at the estimate itself, where it is degenerate."""
    v = frame[value].to_numpy(dtype=float)
    lo = frame[low].to_numpy(dtype=float)
    hi = frame[high].to_numpy(dtype=float)
    return np.where(np.isnan(lo), v, lo), np.where(np.isnan(hi), v, hi)


def _share_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def _compact(n: int) -> str:
    """Format a count for the at-risk table in at most five characters, so that the numbers
    of neighbouring years do not run into each other on a narrow (projected) figure."""
    if n < 10_000:
        return f"{n:,}"
    if n < 100_000:
        return f"{n / 1e3:.1f}k"
    if n < 10_000_000:
        return f"{n / 1e3:,.0f}k"
    return f"{n / 1e6:,.1f}M"


def plot_km(
    curves: Mapping[str, pd.DataFrame],
    at_risk_table: bool = True,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Kaplan–Meier curves with shaded confidence bands and a number-at-risk table.

    Parameters
    ----------
    curves : mapping of label to DataFrame
        Frames from :func:`~mutualsim.survival.kaplan_meier`, one per scenario.
    at_risk_table : bool
        Show the number still at risk at each labelled year under the plot, so the
        reader can see where a curve rests on few histories.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure; the table is then an inset below ``ax``,
        so leave room under it.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    ``S(t)`` holds for the whole year ``[t, t + 1)``, so the last step is drawn to
    ``T + 1``. Undefined band ends (NaN where S is 0 or 1) are drawn at S itself.
    """
    n_rows = len(curves) if at_risk_table else 0
    table_ax = None
    if ax is None:
        fig = Figure(figsize=(8.0, 5.0 + 0.3 * n_rows), layout="constrained")
        if n_rows:
            ax, table_ax = fig.subplots(2, 1, sharex=True, height_ratios=[5.0, 0.4 + 0.32 * n_rows])
        else:
            ax = fig.add_subplot()
    else:
        fig = ax.figure
        if n_rows:
            height = 0.08 * n_rows
            table_ax = ax.inset_axes([0.0, -0.24 - height, 1.0, height], sharex=ax)
    t_max = 0
    colors = {}
    for i, (label, frame) in enumerate(curves.items()):
        t = frame["time"].to_numpy()
        t_step = np.append(t, t[-1] + 1)
        s = frame["survival"].to_numpy(dtype=float)
        (line,) = ax.step(t_step, np.append(s, s[-1]), where="post", lw=2.5, label=str(label),
                          color=colour(i))
        lo, hi = _band(frame, "survival", "ci_low", "ci_high")
        ax.fill_between(
            t_step,
            np.append(lo, lo[-1]),
            np.append(hi, hi[-1]),
            step="post",
            alpha=0.2,
            color=line.get_color(),
            lw=0,
        )
        colors[label] = line.get_color()
        t_max = max(t_max, int(t.max()))
    ax.set_xlim(0, t_max + 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _share_axis(ax)
    _style(ax, YEARS, SHARE_TRADING, title)
    ax.xaxis.set_tick_params(labelbottom=True)
    if table_ax is not None:
        ticks = [int(x) for x in ax.get_xticks() if 0 <= x <= t_max and float(x).is_integer()]
        labels = list(curves)
        widest = 1
        for row, label in enumerate(labels):
            frame = curves[label]
            at_risk = dict(zip(frame["time"].to_numpy(), frame["at_risk"].to_numpy(), strict=True))
            for tick in ticks:
                text = _compact(int(at_risk.get(tick, 0)))
                widest = max(widest, len(text))
                table_ax.text(tick, row, text, ha="center", va="center", fontsize=SMALL_SIZE)
        table_ax.set_ylim(len(labels) - 0.5, -0.5)
        table_ax.set_yticks(range(len(labels)), [str(lab) for lab in labels])
        for tick_label, label in zip(table_ax.get_yticklabels(), labels, strict=True):
            tick_label.set_color(colors[label])
        # Row labels must clear half of the widest number centred on year 0.
        pad = 0.32 * SMALL_SIZE * widest + 6
        table_ax.tick_params(axis="y", length=0, pad=pad, labelsize=SMALL_SIZE)
        table_ax.tick_params(axis="x", bottom=False, labelbottom=False)
        for spine in table_ax.spines.values():
            spine.set_visible(False)
        table_ax.set_title("Number at risk", loc="left", fontsize=SMALL_SIZE, fontweight="bold")
    return fig


def plot_hazard(
    hazards: Mapping[str, pd.DataFrame],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Yearly exit hazard per scenario with its confidence band.

    Parameters
    ----------
    hazards : mapping of label to DataFrame
        Frames from :func:`~mutualsim.survival.hazard`.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax)
    for i, (label, frame) in enumerate(hazards.items()):
        t = frame["time"].to_numpy()
        (line,) = ax.plot(t, frame["hazard"], marker="o", lw=2, label=str(label),
                          color=colour(i))
        ax.fill_between(
            t, frame["ci_low"], frame["ci_high"], alpha=0.2, color=line.get_color(), lw=0
        )
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    _style(ax, YEARS, "Exits that year (% of those trading)", title)
    return fig


def _cause_columns(frame: pd.DataFrame) -> list[str]:
    labels = frame.attrs.get("causes")
    if labels:
        return list(labels)
    return [c[: -len("_ci_low")] for c in frame.columns if str(c).endswith("_ci_low")]


def plot_cumulative_incidence(
    ci_frame: pd.DataFrame,
    km_frame: pd.DataFrame | None = None,
    cause_names: Mapping | Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Cumulative incidence stacked by exit cause, with ``1 - KM`` drawn on top.

    The stack top and the line coincide (Aalen–Johansen curves add up to ``1 - S``), so
    the picture shows how the total share exited splits into insolvency, wind-down and
    takeover.

    Parameters
    ----------
    ci_frame : DataFrame
        From :func:`~mutualsim.survival.cumulative_incidence`.
    km_frame : DataFrame, optional
        From :func:`~mutualsim.survival.kaplan_meier`; defaults to ``ci_frame``'s own
        ``survival`` column.
    cause_names : mapping or sequence, optional
        Display names: a mapping from column label (or integer cause code) to name, or
        a sequence of names in cause order.
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax)
    labels = _cause_columns(ci_frame)
    t = ci_frame["time"].to_numpy()
    base = np.zeros(t.shape[0])
    for i, label in enumerate(labels):
        if isinstance(cause_names, Mapping):
            code = i + 1
            name = cause_names.get(label, cause_names.get(code, label))
        elif cause_names is not None:
            name = list(cause_names)[i]
        else:
            name = label
        top = base + ci_frame[label].to_numpy(dtype=float)
        ax.fill_between(t, base, top, step="post", alpha=0.85, label=str(name), lw=0,
                        color=CAUSE_PALETTE[i % len(CAUSE_PALETTE)])
        base = top
    km = km_frame if km_frame is not None else ci_frame
    ax.step(
        km["time"],
        1 - km["survival"],
        where="post",
        color="black",
        ls="--",
        lw=2,
        label="All exits (1 − Kaplan–Meier)",
    )
    ax.set_xlim(0, max(int(t.max()), 1))
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _share_axis(ax)
    _style(ax, YEARS, "Share exited, by cause", title)
    return fig


def _income_series(panel: pd.DataFrame | Mapping[str, pd.DataFrame],
                   label_column: str) -> list[tuple[str | None, pd.DataFrame]]:
    if isinstance(panel, Mapping):
        return [(str(k), g.sort_values("year")) for k, g in panel.items()]
    if label_column in panel.columns:
        return [(str(k), g.sort_values("year"))
                for k, g in panel.groupby(label_column, sort=False)]
    return [(None, panel.sort_values("year"))]


def plot_income_share(
    panel: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    ax: Axes | None = None,
    label_column: str = "label",
    xlabel: str = YEARS,
    ylabel: str = "Share of income",
    title: str | None = None,
    as_percent: bool = True,
    max_columns: int = 3,
) -> Figure:
    """Mean income share over time with its interval: one small panel per label.

    Overlapping shaded intervals of several series blend into an unreadable mix, so each
    series gets its own panel (shared axes) with its band shaded in its own colour and
    the other series' means as thin grey lines for comparison. A single series, or any
    series drawn on a given ``ax``, is drawn on one axes: with ``ax`` and several series
    the intervals are drawn as thin dashed lines (lines only), not shaded.

    Parameters
    ----------
    panel : DataFrame or mapping of label to DataFrame
        Columns ``year, mean, low, high``; a single frame may hold several series in a
        ``label_column`` column.
    ax : matplotlib.axes.Axes, optional
        Draw every series here (lines only) instead of in small panels.
    label_column : str
        Column that distinguishes series in a single frame.
    xlabel, ylabel, title : str
        Axis text; the defaults assume years since spin-out and a share in [0, 1].
    as_percent : bool
        Format the y axis as a percentage of 1.
    max_columns : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    series = _income_series(panel, label_column)
    if ax is not None or len(series) == 1:
        fig, ax = _axes(ax)
        shade = len(series) == 1
        for i, (label, frame) in enumerate(series):
            (line,) = ax.plot(frame["year"], frame["mean"], lw=2.5, color=colour(i),
                              label=label)
            if shade:
                ax.fill_between(frame["year"], frame["low"], frame["high"], alpha=0.25,
                                color=line.get_color(), lw=0)
            else:
                for edge in ("low", "high"):
                    ax.plot(frame["year"], frame[edge], lw=1, ls="--", color=line.get_color())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if as_percent:
            _share_axis(ax)
        _style(ax, xlabel, ylabel, title)
        return fig
    ncols = min(max_columns, len(series))
    nrows = -(-len(series) // ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.9 * nrows + 0.7), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True,
                                      squeeze=False)).ravel()
    for i, (label, frame) in enumerate(series):
        panel_ax = axes[i]
        for j, (_, other) in enumerate(series):
            if j != i:
                panel_ax.plot(other["year"], other["mean"], lw=1.2, color="#999999")
        panel_ax.fill_between(frame["year"], frame["low"], frame["high"], alpha=0.3,
                              color=colour(i), lw=0)
        panel_ax.plot(frame["year"], frame["mean"], lw=2.5, color=colour(i))
        panel_ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        if as_percent:
            _share_axis(panel_ax)
        _style(panel_ax, xlabel, ylabel, label, legend=False)
        panel_ax.title.set_color(colour(i))
    for extra in axes[len(series):]:
        extra.set_visible(False)
    if title:
        fig.suptitle(f"{title}\n(grey: the other settings' means)", fontsize=LABEL_SIZE + 1)
    return fig


def plot_survival_at(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    xlabel: str = "Policy value (e.g. contract protection, years)",
    title: str | None = None,
) -> Figure:
    """S(t) at a few horizons (e.g. 5, 10, 15 years) against a policy value, with CIs.

    Parameters
    ----------
    table : DataFrame
        Columns ``value, t, survival, ci_low, ci_high``: one row per policy value and
        horizon t.
    ax : matplotlib.axes.Axes, optional
    xlabel : str
        Name and unit of the policy lever on the x axis.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax)
    for i, (t, group) in enumerate(table.groupby("t", sort=True)):
        group = group.sort_values("value")
        s = group["survival"].to_numpy(dtype=float)
        lo, hi = _band(group, "survival", "ci_low", "ci_high")
        ax.errorbar(
            group["value"],
            s,
            yerr=np.vstack([s - lo, hi - s]),
            marker="o",
            lw=2,
            capsize=4,
            color=colour(i),
            label=f"after {t:g} years",
        )
    ax.set_ylim(0, 1.02)
    _share_axis(ax)
    _style(ax, xlabel, SHARE_TRADING, title)
    return fig
