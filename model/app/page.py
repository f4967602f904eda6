"""The workshop page: controls, survival against the baseline, one replication as agents.

Run with ``mutualsim app`` (or ``solara run mutualsim.app.page``). State lives in the
component (one per browser session); results come from the bounded cache in
:mod:`.results`.
"""

from __future__ import annotations

from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.solara_viz import UserInputs
from mesa.visualization.utils import update_counter

from ..analysis.compare import HORIZONS
from ..analysis.figures import fig_cif, fig_hazard, fig_income_share, fig_km
from ..errors import InputError
from .replication import MarketView, TradingView, ViewMarket
from .results import PageResults, compute, format_estimate
from .settings import Settings, control_name, default_raw, parse, user_params

TITLE = "mutualsim: do spun-out mutuals survive?"
S10_CLASS = "mutualsim-s10"
REPLICATION_CLASS = "mutualsim-replication"
YEAR_CLASS = "mutualsim-year"
#: Width of the controls column (the sidebar drawer).
SIDEBAR_WIDTH = "400px"

#: Layout and widget fixes for solara 1.58 with ipyvuetify 3 (Vuetify 3):
#: * the drawer is declared ``width="min-content"``, which Vuetify 3 turns into
#:   ``--v-layout-left: NaN``, so the main area and the app bar do not make room for it and the
#:   controls cover the left of the page. Give the drawer a fixed width and shift both by it
#:   (only where the drawer is permanent: Solara makes it a temporary overlay below 960 px).
#: * ``solara.Checkbox`` puts its label both in the 40 px box wrapper and in the ``<label>``;
#:   the copy in the wrapper wraps letter-wise and overlaps the real label. Hide that copy
#:   (font-size 0 on the wrapper; the box icon gets its size back from the input).
#: * figures shrink to their column instead of running under the next one.
CSS = f"""
@media (min-width: 961px) {{
  .v-navigation-drawer.v-navigation-drawer--active {{
    width: {SIDEBAR_WIDTH} !important; min-width: {SIDEBAR_WIDTH} !important;
  }}
  .v-main {{ --v-layout-left: {SIDEBAR_WIDTH} !important; }}
  .v-app-bar.v-toolbar {{
    left: {SIDEBAR_WIDTH} !important; width: calc(100% - {SIDEBAR_WIDTH}) !important;
  }}
}}
.v-checkbox .v-selection-control__wrapper {{ font-size: 0 !important; }}
.v-checkbox .v-selection-control__input {{ font-size: 1rem; }}
.v-main img.widget-image {{ max-width: 100%; height: auto; }}
"""


def ErrorMessage(text: str) -> solara.Element:
    """A red alert built from ipyvuetify directly: works with ipyvuetify 1.x and 3.x alike."""
    return solara.v.Alert(type="error", children=[text], class_="mutualsim-input-error")


def _figure(fig: Any) -> solara.Element:
    return solara.FigureMatplotlib(fig, format="png", dpi=90, bbox_inches="tight")


@solara.component
def SurvivalNumbers(results: PageResults) -> None:
    """S(5), S(10), S(15) with 95% intervals; S(10) of the chosen setting has a stable class."""
    table = results.survival_at()
    with solara.Card("Share still trading after 5, 10 and 15 years (95% CI)"):
        for label, estimates in table.items():
            with solara.Row():
                solara.Text(f"{label}:", style={"font-weight": "bold", "min-width": "14em"})
                for t in HORIZONS:
                    text = f"S({t}) = {format_estimate(estimates[t])}"
                    chosen = label == results.chosen.label and t == 10
                    solara.Text(text, classes=[S10_CLASS] if chosen else [],
                                style={"min-width": "12em"})
        s = results.settings
        solara.Text(f"{s.replications} replications x {s.councils} councils, seed {s.seed}; "
                    f"spin-outs: baseline {results.baseline.spinouts:,}, chosen "
                    f"{results.chosen.spinouts:,}. Same seed in both (common random numbers).")


@solara.component
def SurvivalViews(results: PageResults) -> None:
    """The four comparison figures, drawn once per result."""
    figures = solara.use_memo(
        lambda: [build(results.comparison)
                 for build in (fig_km, fig_hazard, fig_cif, fig_income_share)],
        [results])
    SurvivalNumbers(results)
    with solara.Columns([1, 1]):
        _figure(figures[0])
        _figure(figures[1])
    with solara.Columns([1, 1]):
        _figure(figures[2])
        _figure(figures[3])


@solara.component
def ReplicationViews(model: ViewMarket) -> None:
    """The agents picture and the ``mutuals_trading`` plot, redrawn after every step.

    Drawn here rather than by SolaraViz's own components view, whose draggable grid renders
    nothing with the offline solara-assets (Vuetify 3).
    """
    update_counter.get()  # SolaraViz bumps it after Step / Play / Reset
    year = model.year - 1 if model.year_index else model.params.start_year - 1
    with solara.Column(classes=[REPLICATION_CLASS]):
        solara.Text(f"Year {year} (after {model.year_index} of {model.params.years} steps)",
                    classes=[YEAR_CLASS], style={"font-weight": "bold"})
        with solara.Columns([3, 2]):
            MarketView(model)
            TradingView(model)


@solara.component
def Replication(settings: Settings) -> None:
    """Mesa's SolaraViz for one replication of the chosen setting (Step / Play / Reset).

    SolaraViz puts its controls (Step, Play, Reset, "Time:") in the sidebar and replaces the
    model on Reset; the views read the same reactive model, so they follow it.
    """
    kwargs = settings.model_kwargs()
    model = solara.use_reactive(solara.use_memo(lambda: ViewMarket(**kwargs), [settings]))
    SolaraViz(model, components=[], model_params=kwargs, name=TITLE, play_interval=400)
    ReplicationViews(model.value)


@solara.component
def Page() -> None:
    """Controls in the sidebar; survival views, then one replication, in the main area."""
    raw = solara.use_reactive(default_raw())
    settings = solara.use_reactive(Settings())
    message = solara.use_reactive(None)

    def on_change(name: str, value: Any) -> None:
        if value is None:  # a cleared select: keep the current value
            return
        new = {**raw.value, control_name(name): value}
        raw.value = new
        try:
            settings.value = parse(new)
            message.value = None
        except InputError as err:
            message.value = str(err)

    def run() -> tuple[PageResults | None, str | None]:
        try:
            return compute(settings.value), None
        except InputError as err:
            return None, str(err)
        except Exception as err:  # noqa: BLE001 - the page must stay up whatever happens
            return None, f"could not compute this setting: {err}"

    results, failure = solara.use_memo(run, [settings.value])

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.Sidebar():
        with solara.Card("Scenario"):
            UserInputs(user_params(raw.value), on_change=on_change)
            if message.value:
                ErrorMessage(f"{message.value}. Showing the last valid setting.")
    with solara.Column():
        solara.Markdown(f"## {TITLE}\nThe chosen setting against the baseline (current "
                        "practice), then one replication of the chosen setting as agents.")
        if message.value:
            ErrorMessage(f"{message.value}. Showing the last valid setting.")
        if failure:
            ErrorMessage(failure)
        if results is not None:
            SurvivalViews(results)
        solara.Markdown("### One replication, year by year\nReset rebuilds it with the "
                        "current setting; Step advances one year, ▶ plays (both in the "
                        "sidebar's *Controls*).")
        Replication(settings.value).key(repr(settings.value.model_kwargs()))
