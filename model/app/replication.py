"""One replication as agents, stepped year by year with Mesa's SolaraViz.

The picture is space-free on purpose: the model has no geography, so councils are laid out
in a grid, each with its candidate services as markers coloured by stage, and the private
bidders in a row above, sized by the contracts they hold.
"""

from __future__ import annotations

import io
import math

import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization.utils import update_counter

from ..agents import Council, Mutual, PrivateBidder
from ..market import MutualMarket
from ..survival.plots import PALETTE

#: Stage -> (colour, legend label); stages a service passes through before and after trading.
#: Okabe-Ito colours (colour-blind safe) for the stages that matter, greys for the rest.
STAGE_STYLE: dict[str, tuple[str, str]] = {
    "in_house": ("#DDDDDD", "in house"),
    "proposed": ("#F0E442", "proposed"),
    "incubating": ("#CC79A7", "incubating (Teckal)"),
    "protected": ("#0072B2", "protected contract"),
    "competing": ("#009E73", "competing"),
    "exited": ("#D55E00", "exited"),
    "abandoned": ("#999999", "abandoned"),
    "taken_back": ("#555555", "taken back"),
}
BIDDER_COLOUR = "#000000"
TRADING_COLOUR, INCUBATING_COLOUR = PALETTE[0], PALETTE[4]


def year_label(model: MutualMarket) -> str:
    """Where the replication stands: ``"Start: 0 of 30 years simulated (first year 2010)"``
    before any step, then ``"2012: 3 of 30 years simulated"`` (the last simulated year)."""
    p = model.params
    if model.year_index == 0:
        return f"Start: 0 of {p.years} years simulated (first year {p.start_year})"
    return f"{model.year - 1}: {model.year_index} of {p.years} years simulated"


class ViewMarket(MutualMarket):
    """``MutualMarket`` under the name the page registers with SolaraViz."""


def _grid(n: int) -> int:
    """Columns of a roughly 16:10 grid of ``n`` cells."""
    return max(1, math.ceil(math.sqrt(n * 1.6)))


def draw_market(model: MutualMarket) -> Figure:
    """Councils as grid cells, their services as coloured markers, bidders on top."""
    councils = list(model.agents_by_type[Council])
    # Live mutuals, and those that left the agent sets (exited, abandoned, taken back).
    mutuals = [*model.agents_by_type[Mutual], *model.former_mutuals]
    bidders = list(model.agents_by_type[PrivateBidder])
    k = model.params.services_per_council
    cols = _grid(len(councils))
    rows = math.ceil(len(councils) / cols)
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.add_subplot()
    stage_of = {m.index: m.stage for m in mutuals}
    xs: list[float] = []
    ys: list[float] = []
    colours: list[str] = []
    for c in councils:
        cx, cy = c.index % cols, rows - 1 - c.index // cols
        for j in range(k):
            stage = stage_of.get(c.index * k + j, "in_house")
            xs.append(cx + (j - (k - 1) / 2) * 0.8 / k)
            ys.append(cy)
            colours.append(STAGE_STYLE[stage][0])
    size = min(150.0, max(10.0, 14000.0 / max(len(xs), 1)))
    ax.scatter(xs, ys, c=colours, s=size, marker="s", linewidths=0)
    if bidders:
        wins = [b.contracts_won for b in bidders]
        bx = [i * (cols - 1) / max(len(bidders) - 1, 1) for i in range(len(bidders))]
        ax.scatter(bx, [rows + 0.6] * len(bidders), s=[30 + 12 * w for w in wins],
                   c=BIDDER_COLOUR, marker="D")
    ax.set_xlim(-0.7, cols - 0.3)
    ax.set_ylim(-0.7, rows + 1.3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{len(councils)} councils (cells), services by stage;\n"
                 "private bidders on top (size = contracts won)", fontsize=12)
    handles = [Line2D([], [], marker="s", ls="", color=colour, label=label)
               for colour, label in STAGE_STYLE.values()]
    handles.append(Line2D([], [], marker="D", ls="", color=BIDDER_COLOUR,
                          label="private bidder"))
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=11,
               frameon=False)
    return fig


def draw_trading(model: MutualMarket) -> Figure:
    """Mutuals trading by year so far (the panel's ``mutuals_trading``; step 0 is the year
    before the first simulated one)."""
    frame = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(4.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    if len(frame):
        ax.plot(frame["year"], frame["mutuals_trading"], marker="o", lw=2.5,
                color=TRADING_COLOUR, label="trading")
        ax.plot(frame["year"], frame["mutuals_incubating"], lw=2, ls="--",
                color=INCUBATING_COLOUR, label="incubating")
        ax.legend(fontsize=11, frameon=False)
    ax.set_xlim(model.params.start_year - 1.5, model.params.end_year + 0.5)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Year", fontsize=13)
    ax.set_ylabel("Mutuals (count)", fontsize=13)
    ax.tick_params(labelsize=12)
    ax.set_title("Mutuals trading in this replication", fontsize=13)
    ax.grid(True, alpha=0.3)
    return fig


def _png(fig: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


@solara.component
def MarketView(model: MutualMarket) -> solara.Element:
    """SolaraViz component: the agents picture, drawn again only after a step or reset."""
    step = update_counter.get()
    image = solara.use_memo(lambda: _png(draw_market(model)), [model, model.year_index, step])
    return solara.Image(image)


@solara.component
def TradingView(model: MutualMarket) -> solara.Element:
    """SolaraViz component: the ``mutuals_trading`` plot, drawn again only after a step."""
    step = update_counter.get()
    image = solara.use_memo(lambda: _png(draw_trading(model)), [model, model.year_index, step])
    return solara.Image(image)
