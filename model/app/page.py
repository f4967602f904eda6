"""The workshop page: controls, survival against the baseline, one replication as agents.

Run with ``mutualsim app`` (or ``solara run mutualsim.app.page``). State lives in the
component (one per browser session); results come from the bounded cache in
:mod:`.results`. Made for a room: every control shows its value and unit, type is large,
the layout fits 1280x720 (a projector) with nothing clipped, charts use a colour-blind-safe
palette, and a "Presenter view" button hides the controls. The "Handout" button downloads
a two-page print-ready summary (:mod:`mutualsim.analysis.handout`).
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from dataclasses import replace
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization.solara_viz import ModelController, ShowSteps
from mesa.visualization.utils import update_counter

from ..analysis.compare import HORIZONS
from ..analysis.figures import fig_cif, fig_hazard, fig_income_share, fig_km
from ..analysis.handout import in_ten, render_handout
from ..analysis.uncertainty import PosteriorComparison
from ..errors import InputError
from .council import CouncilCard, council_name, council_path
from .replication import MarketView, TradingView, ViewMarket, year_label
from .results import (
    BASELINE_LABEL,
    CHOSEN_LABEL,
    POSTERIOR_DRAWS,
    PageResults,
    compute,
    compute_posterior,
    format_estimate,
    replications_per_draw,
)
from .settings import CONTROLS, Control, Settings, default_raw, describe, parse, value_text
from .upload import UPLOAD_ERROR_CLASS, CouncilPicker, receive

TITLE = "Do spun-out mutuals survive? (mutualsim)"
S10_CLASS = "mutualsim-s10"
REPLICATION_CLASS = "mutualsim-replication"
YEAR_CLASS = "mutualsim-year"
CONTROL_CLASS = "mutualsim-control"
VALUE_CLASS = "mutualsim-value"
PRESENTER_CLASS = "mutualsim-presenter"
HANDOUT_CLASS = "mutualsim-handout"
SETTINGS_CLASS = "mutualsim-settings"
POSTERIOR_CLASS = "mutualsim-posterior"
POSTERIOR_NOTE_CLASS = "mutualsim-posterior-note"
HANDOUT_FILE = "mutualsim-handout.html"
#: Width of the controls column (the sidebar drawer).
SIDEBAR_WIDTH = "340px"
#: Figure width (inches) of one grid cell; wide figures (small multiples) take two cells.
#: With 13 pt labels this shows labels at about 15 px at 1280x720, and larger in presenter
#: view, where the figures take the whole width.
CELL_WIDTH, CELL_HEIGHT = 5.2, 4.0
PLAY_INTERVAL_MS = 400

#: Layout and widget fixes for solara 1.58 with ipyvuetify 3 (Vuetify 3):
#: * the drawer is declared ``width="min-content"``, which Vuetify 3 turns into
#:   ``--v-layout-left: NaN``, so the main area and the app bar do not make room for it and the
#:   controls cover the left of the page. Give the drawer a fixed width and shift both by it
#:   (only where the drawer is permanent: Solara makes it a temporary overlay below 960 px).
#: * ``solara.Checkbox`` puts its label both in the 40 px box wrapper and in the ``<label>``;
#:   the copy in the wrapper wraps letter-wise and overlaps the real label. Hide that copy
#:   (font-size 0 on the wrapper; the box icon gets its size back from the input).
#: * figures sit in a two-column grid whose columns may shrink (``minmax(0, 1fr)``), and
#:   scale to their cell, so nothing runs under the next column or off the page.
#: * large type for the back of a room.
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
.v-main {{ font-size: 18px; overflow-x: hidden; }}
.v-main .v-container, .v-main > div {{ max-width: 100%; }}
.mutualsim-page {{ max-width: 100%; min-width: 0; padding: 4px 12px 24px 12px; }}
.mutualsim-page h2 {{ font-size: 26px; margin: 18px 0 6px 0; }}
.mutualsim-figures {{ display: grid !important; grid-template-columns: minmax(0, 1fr)
  minmax(0, 1fr); gap: 10px; width: 100%; }}
.mutualsim-figures > * {{ min-width: 0; }}
.mutualsim-wide {{ grid-column: 1 / -1; }}
.mutualsim-figures img, .mutualsim-replication img {{ width: 100%; height: auto;
  max-width: 100%; display: block; }}
.mutualsim-numbers table {{ border-collapse: collapse; width: 100%; font-size: 20px; }}
.mutualsim-numbers td, .mutualsim-numbers th {{ padding: 4px 10px; text-align: left;
  border-bottom: 1px solid #ccc; }}
.mutualsim-numbers td.s {{ font-size: 24px; font-weight: bold; }}
.mutualsim-numbers .ci {{ font-size: 15px; color: #555; font-weight: normal; }}
.{SETTINGS_CLASS} {{ font-size: 17px; }}
.{CONTROL_CLASS} {{ margin: 2px 0 10px 0; }}
.{CONTROL_CLASS} .mutualsim-label {{ font-size: 17px; }}
.{CONTROL_CLASS} .{VALUE_CLASS} {{ font-size: 19px; font-weight: bold; color: #0072B2;
  white-space: nowrap; }}
.v-app-bar .v-toolbar-title {{ font-size: 22px; }}
"""
#: Presenter view (while the page holds an element of class PRESENTER_ON): no controls
#: column; the results take the whole width. Static CSS (``:has``), because Solara does not
#: take a changed style sheet back out of the page.
PRESENTER_ON = "mutualsim-presenter-on"
PRESENTER_CSS = f"""
.v-application:has(.{PRESENTER_ON}) .v-navigation-drawer {{ display: none !important; }}
.v-application:has(.{PRESENTER_ON}) .v-main {{
  --v-layout-left: 0px !important; padding-left: 0 !important; }}
.v-application:has(.{PRESENTER_ON}) .v-app-bar.v-toolbar {{
  left: 0 !important; width: 100% !important; }}
.v-application:has(.{PRESENTER_ON}) .v-app-bar .v-app-bar-nav-icon {{
  display: none !important; }}
"""


def ErrorMessage(text: str, class_: str = "mutualsim-input-error") -> solara.Element:
    """A red alert built from ipyvuetify directly: works with ipyvuetify 1.x and 3.x alike."""
    return solara.v.Alert(type="error", children=[text], class_=class_)


@solara.component
def CouncilFileCard(path: str | None, message: str | None, on_file) -> None:
    """The council now shown, the picker to load another, and the last upload's error."""
    with solara.Card("Your council", classes=["mutualsim-council-file-card"]):
        now = council_name(path) if path is not None else "none loaded"
        with solara.Row(justify="space-between", style={"align-items": "baseline"}):
            solara.Text("Now:", classes=["mutualsim-label"])
            solara.Text(now, classes=["mutualsim-council-now"],
                        style={"font-weight": "bold", "color": "#0072B2"})
        CouncilPicker(on_file)
        if message:
            ErrorMessage(f"{message}. Still showing: {now}.", class_=UPLOAD_ERROR_CLASS)


def png(fig: Figure, cells: int = 1, dpi: int = 110) -> bytes:
    """A figure as PNG bytes at the page's size (``cells`` grid cells wide)."""
    fig.set_size_inches(CELL_WIDTH * cells, CELL_HEIGHT + (0.5 if cells == 1 else 0.4))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_url(text: str, mime: str = "text/html") -> str:
    return f"data:{mime};charset=utf-8;base64,{base64.b64encode(text.encode()).decode()}"


def _whole(value: Any) -> Any:
    """Slider values come back as floats from the browser: whole ones as int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@solara.component
def ControlView(control: Control, value: Any, on_change) -> solara.Element:
    """A control with its label and current value (with unit) in large type above it."""
    def change(new: Any) -> None:
        on_change(control.name, new)

    with solara.Column(classes=[CONTROL_CLASS], gap="0px") as main:
        if control.kind != "text":
            # A long value (the uncertainty's "calibrated posterior") goes under its label.
            wrap = {"flex-wrap": "wrap"} if control.name == "uncertainty" else {}
            with solara.Row(justify="space-between", style={"align-items": "baseline", **wrap}):
                solara.Text(control.label, classes=["mutualsim-label"])
                solara.Text(value_text(control, value), classes=[VALUE_CLASS],
                            style={"margin-left": "auto"} if wrap else None)
        if control.kind == "slider":
            decimals = 3 if control.step < 1 else 0

            def slide(new: Any) -> None:
                change(_whole(round(float(new), decimals)) if decimals else int(new))
            solara.v.Slider(v_model=value, min=control.lo, max=control.hi, step=control.step,
                            on_v_model=slide, hide_details=True, thumb_label=False,
                            class_=f"mutualsim-input-{control.name}")
        elif control.kind == "select":
            solara.Select("", values=list(control.choices), value=value,
                          on_value=change, dense=True, classes=[f"mutualsim-input-{control.name}"])
        elif control.kind == "switch":
            solara.Checkbox(label=f"{control.label} in large contracts", value=value,
                            on_value=change)
        else:
            solara.InputText(control.label, value=str(value), on_value=change)
            solara.Text(f"Now: {value}", classes=[VALUE_CLASS])
    return main


@solara.component
def Controls(raw: dict[str, Any], on_change) -> None:
    """Every control of :data:`~.settings.CONTROLS`, showing its value."""
    with solara.Column(gap="0px"):
        for control in CONTROLS:
            ControlView(control, raw[control.name], on_change).key(control.name)


@solara.component
def Words(lines: list[tuple[str, str]]) -> None:
    """Lines of plain text, each with an optional bold lead (escaped). Not
    ``solara.Markdown``: that loads KaTeX for formulas from a CDN on every page, which an
    offline page cannot reach (the requests failed with 404s) and these words never need."""
    body = "<br>".join((f"<b>{html.escape(lead)}</b> " if lead else "") + html.escape(text)
                       for lead, text in lines)
    solara.HTML(tag="div", unsafe_innerHTML=body)


@solara.component
def CurrentSettings(settings: Settings) -> None:
    """The setting in words (the controls may be hidden in presenter view)."""
    chosen = describe(settings, against=Settings(councils=settings.councils))
    baseline = describe(Settings(councils=settings.councils))
    with solara.Column(classes=[SETTINGS_CLASS], gap="2px"):
        run = (f"{settings.replications} replications x {settings.councils} councils x "
               f"{settings.scenario().years} years, seed {settings.seed}; the same random "
               "numbers in both (common random numbers)." + _uncertainty_words(settings))
        Words([(f"{CHOSEN_LABEL} setting:", f"{chosen}."),
               (f"{BASELINE_LABEL} (current practice):", f"{baseline}."), ("", run)])


def _uncertainty_words(settings: Settings) -> str:
    if settings.uncertainty != "posterior":
        return "  \nUncertainty: one parameter set (the calibrated defaults)."
    return (f"  \nUncertainty: calibrated posterior, {POSTERIOR_DRAWS} parameter sets x "
            f"{replications_per_draw(settings)} replications each, the same sets and random "
            "numbers for both settings.")


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.0f}%"


def _band(mid: float, lo: float, hi: float) -> str:
    """``62% (55%-68%)``."""
    return f"{_pct(mid)} ({_pct(lo)}-{_pct(hi)})"


def _points(mid: float, lo: float, hi: float) -> str:
    """``+4 points (+1 to +7)``."""
    if math.isnan(mid):
        return "n/a"
    def one(x: float) -> str:
        return "?" if math.isnan(x) else f"{100 * x:+.0f}"
    return f"{one(mid)} points ({one(lo)} to {one(hi)})"


def posterior_note(pc: PosteriorComparison) -> str:
    """One line in plain words: why the posterior interval is wider, with this run's
    widths (the baseline's S(10))."""
    row = pc.table().iloc[0]
    post = 100 * (row["S10_high"] - row["S10_low"])
    km = 100 * (row["single_S10_high"] - row["single_S10_low"])
    return (f"Why the range is wider ({post:.0f} points for the baseline's S(10), against "
            f"{km:.0f} for one parameter set at the same {pc.replications} replications): "
            "it also carries what the published figures "
            "leave unknown about the model's parameters, which more replications cannot "
            "remove; the difference is taken set by set, so what both settings share "
            "cancels.")


@solara.component
def PosteriorNumbers(pc: PosteriorComparison) -> None:
    """Posterior mode: S(5/10/15) as posterior median with a 90% interval, the paired
    difference of S(10) to the baseline and P(better), and why the interval is wider."""
    table = pc.table()
    level = f"{pc.level:.0%}"
    with solara.Card(f"Share still trading after 5, 10 and 15 years: posterior median "
                     f"and {level} range", classes=["mutualsim-numbers", POSTERIOR_CLASS]):
        with solara.v.Html(tag="table"):
            with solara.v.Html(tag="tr"):
                for head in ("Setting", *(f"after {t} years" for t in HORIZONS),
                             "S(10) against the baseline", "P(better)"):
                    solara.v.Html(tag="th", children=[head])
            for j, row in table.iterrows():
                with solara.v.Html(tag="tr"):
                    solara.v.Html(tag="td", children=[row["label"]])
                    for t in HORIZONS:
                        with solara.v.Html(tag="td", class_="s"):
                            solara.v.Html(tag="div", children=[in_ten(row[f"S{t}"])])
                            text = f"S({t}) = " + _band(row[f"S{t}"], row[f"S{t}_low"],
                                                        row[f"S{t}_high"])
                            chosen = j == len(table) - 1 and t == 10
                            solara.Text(text, classes=[S10_CLASS] if chosen else ["ci"],
                                        style={"font-size": "15px", "font-weight": "normal",
                                               "color": "#444"})
                    if j == 0:
                        solara.v.Html(tag="td", children=["reference"])
                        solara.v.Html(tag="td", children=["-"])
                    else:
                        solara.v.Html(tag="td", class_="s", children=[_points(
                            row["dS10"], row["dS10_low"], row["dS10_high"])])
                        p = row["p_better_S10"]
                        solara.v.Html(tag="td", class_="s",
                                      children=["n/a" if math.isnan(p) else f"{p:.2f}"])
        para = "font-size: 15px; margin: 6px 0 0 0"
        solara.v.Html(tag="p", class_=POSTERIOR_NOTE_CLASS, style_=para,
                      children=[posterior_note(pc)])
        solara.v.Html(tag="p", style_=para, children=[
            f"{pc.n_draws} parameter sets from the calibrated posterior x "
            f"{pc.replications} replications each, per setting; in brackets: the {level} "
            "range across parameter sets. P(better): share of parameter sets in which the "
            "chosen setting keeps more mutuals trading after 10 years. The figures below "
            "are of one parameter set."])


@solara.component
def SurvivalNumbers(results: PageResults) -> None:
    """S(5), S(10), S(15) with 95% intervals, in plain words; S(10) of the chosen setting
    has a stable class."""
    table = results.survival_at()
    with solara.Card("Share still trading after 5, 10 and 15 years",
                     classes=["mutualsim-numbers"]):
        with solara.v.Html(tag="table"):
            with solara.v.Html(tag="tr"):
                solara.v.Html(tag="th", children=["Setting"])
                for t in HORIZONS:
                    solara.v.Html(tag="th", children=[f"after {t} years"])
            for label, estimates in table.items():
                with solara.v.Html(tag="tr"):
                    solara.v.Html(tag="td", children=[label])
                    for t in HORIZONS:
                        e = estimates[t]
                        with solara.v.Html(tag="td", class_="s"):
                            chosen = label == results.chosen.label and t == 10
                            solara.v.Html(tag="div", children=[f"{in_ten(e.estimate)}"])
                            solara.Text(f"S({t}) = {format_estimate(e)}",
                                        classes=[S10_CLASS] if chosen else ["ci"],
                                        style={"font-size": "15px", "font-weight": "normal",
                                               "color": "#444"})
        solara.Text(f"Spin-outs followed: baseline {results.baseline.spinouts:,}, chosen "
                    f"{results.chosen.spinouts:,}. In brackets: 95% interval.",
                    style={"font-size": "15px"})


@solara.component
def SurvivalViews(results: PageResults, numbers: bool = True) -> None:
    """The numbers (unless ``numbers`` is False) and the four comparison figures, drawn
    once per result."""
    images = solara.use_memo(  # drawn once per result, not on every render of the page
        lambda: [png(fig_km(results.comparison)), png(fig_hazard(results.comparison)),
                 png(fig_cif(results.comparison), cells=2),
                 png(fig_income_share(results.comparison), cells=2)],
        [results.settings])  # hashable; PageResults compares arrays
    if numbers:
        SurvivalNumbers(results)
    with solara.Column(classes=["mutualsim-figures"], gap="0px"):
        solara.Image(images[0])
        solara.Image(images[1])
        with solara.Div(classes=["mutualsim-wide"]):
            solara.Image(images[2])
        with solara.Div(classes=["mutualsim-wide"]):
            solara.Image(images[3])


@solara.component
def ReplicationViews(model: ViewMarket) -> None:
    """The agents picture and the ``mutuals_trading`` plot, redrawn after every step."""
    update_counter.get()  # Mesa's ModelController bumps it after Step / Play / Reset
    with solara.Column(classes=[REPLICATION_CLASS]):
        solara.Text(year_label(model), classes=[YEAR_CLASS],
                    style={"font-weight": "bold", "font-size": "22px"})
        with solara.Columns([3, 2]):
            MarketView(model)
            TradingView(model)


@solara.component
def Replication(settings: Settings) -> None:
    """One replication of the chosen setting, stepped with Mesa's controller (Reset, Play,
    Step) and step counter; Reset rebuilds it with the page's setting."""
    kwargs = settings.model_kwargs()
    model = solara.use_reactive(solara.use_memo(lambda: ViewMarket(**kwargs), [settings]))
    play = solara.use_reactive(PLAY_INTERVAL_MS)
    render = solara.use_reactive(1)
    threads = solara.use_reactive(False)
    with solara.Row(style={"align-items": "center", "gap": "24px"}):
        with solara.Div(style={"min-width": "260px"}):
            ModelController(model, model_parameters=kwargs, play_interval=play,
                            render_interval=render, use_threads=threads)
        ShowSteps(model.value)
    ReplicationViews(model.value)


def PosteriorView(posterior: solara.Result, settings: Settings) -> None:
    """The posterior card once computed; meanwhile a line saying what is being computed."""
    if posterior.state == solara.ResultState.FINISHED and posterior.value is not None:
        PosteriorNumbers(posterior.value)
    elif posterior.state == solara.ResultState.ERROR:
        error = posterior.error
        ErrorMessage(str(error) if isinstance(error, InputError)
                     else f"could not compute the posterior comparison: {error}")
    else:
        solara.Text(f"Computing the calibrated posterior: {POSTERIOR_DRAWS} parameter sets "
                    f"x {replications_per_draw(settings)} replications for each setting (settings "
                    "seen before come back at once)...",
                    classes=["mutualsim-posterior-wait"],
                    style={"font-size": "17px", "color": "#0072B2"})


def handout_html(results: PageResults) -> str:
    """The two-page handout of what the page shows now."""
    s = results.settings
    compared = {f"{BASELINE_LABEL} (current practice)": describe(Settings(councils=s.councils)),
                f"{CHOSEN_LABEL} setting": describe(s, against=Settings(councils=s.councils))}
    return render_handout(results.comparison, title="Do spun-out mutuals survive? "
                          "A setting against current practice", compared=compared,
                          created=time.strftime("%d %B %Y, %H:%M UTC", time.gmtime()))


@solara.component
def HandoutLink(results: PageResults) -> None:
    """A link that downloads the handout of what the page shows, prepared in the background
    as soon as the results are there (a plain link with a ``data:`` address: one click, no
    script, no network; Solara's FileDownload renders nothing with Vuetify 3)."""
    prepared = solara.use_thread(lambda: handout_html(results), dependencies=[results.settings])
    style = {"font-size": "16px", "font-weight": "bold", "padding": "6px 14px",
             "border": "1px solid #0072B2", "border-radius": "4px", "color": "#0072B2",
             "text-decoration": "none"}
    if prepared.value is not None and prepared.state == solara.ResultState.FINISHED:
        solara.v.Html(tag="a", class_=HANDOUT_CLASS, style_=";".join(
                          f"{k}:{v}" for k, v in style.items()),
                      attributes={"href": data_url(prepared.value), "download": HANDOUT_FILE,
                                  "title": "Two pages, print-ready: open it and print, or "
                                           "save as PDF"},
                      children=["⤓ Handout (2 pages, print-ready)"])
    elif prepared.state == solara.ResultState.ERROR:
        solara.Text(f"Handout not available: {prepared.error}")
    else:
        solara.Text("Preparing the handout...", style={"font-size": "16px", "color": "#555"})


@solara.component
def Page() -> None:
    """Controls in the sidebar; settings, survival views, then one replication, in the main
    area; presenter view and handout in the app bar."""
    raw = solara.use_reactive(default_raw())
    initial = solara.use_memo(lambda: parse(raw.value), [])  # once, not on every render
    settings = solara.use_reactive(initial)
    message = solara.use_reactive(None)
    presenter = solara.use_reactive(False)
    council = solara.use_reactive(solara.use_memo(council_path, []))
    upload_message = solara.use_reactive(None)

    def on_file(info: dict[str, Any]) -> None:
        """A council file loaded on the page (called from the picker's worker thread)."""
        path, problem = receive(info, council.value)
        upload_message.value = problem
        council.value = path

    def on_change(name: str, value: Any) -> None:
        if value is None:  # a cleared select: keep the current value
            return
        new = {**raw.value, name: value}
        raw.value = new
        try:
            settings.value = parse(new)
            message.value = None
        except InputError as err:
            message.value = str(err)

    # The one-parameter-set results do not depend on the uncertainty shown.
    single = replace(settings.value, uncertainty="none")

    def run() -> tuple[PageResults | None, str | None]:
        try:
            return compute(single), None
        except InputError as err:
            return None, str(err)
        except Exception as err:  # noqa: BLE001 - the page must stay up whatever happens
            return None, f"could not compute this setting: {err}"

    results, failure = solara.use_memo(run, [single])

    def run_posterior() -> PosteriorComparison | None:
        if settings.value.uncertainty != "posterior":
            return None
        return compute_posterior(settings.value)

    posterior = solara.use_thread(run_posterior, dependencies=[settings.value])

    solara.Title(TITLE)
    solara.Style(CSS + PRESENTER_CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Card("Scenario", classes=["mutualsim-controls"]):
            Controls(raw.value, on_change)
            if message.value:
                ErrorMessage(f"{message.value}. Showing the last valid setting.")
        CouncilFileCard(council.value, upload_message.value, on_file)
    view = [PRESENTER_ON] if presenter.value else []
    with solara.Column(classes=["mutualsim-page", *view]):
        # Here, not in the app bar: Solara's app bar keeps the children of its first render.
        with solara.Row(style={"align-items": "center", "gap": "12px",
                               "flex-wrap": "wrap"}):
            solara.Button("Show controls" if presenter.value else "Presenter view",
                          icon_name="mdi-presentation", color="primary", outlined=True,
                          on_click=lambda: presenter.set(not presenter.value),
                          classes=[PRESENTER_CLASS])
            if results is not None:
                HandoutLink(results)
        CurrentSettings(settings.value)
        if message.value:
            ErrorMessage(f"{message.value}. Showing the last valid setting.")
        if failure:
            ErrorMessage(failure)
        if council.value is None:
            solara.Text("No council file loaded: load yours under \"Your council\" in the "
                        "left column to see its own services here.",
                        style={"font-size": "15px", "color": "#555"})
        CouncilCard(settings.value, council.value).key("council")
        posterior_mode = settings.value.uncertainty == "posterior"
        if posterior_mode:
            PosteriorView(posterior, settings.value)
        if results is not None:
            SurvivalViews(results, numbers=not posterior_mode).key("survival-views")
        solara.HTML(tag="h2", unsafe_innerHTML="One replication, year by year")
        Words([("", "Reset rebuilds it with the current setting; Step advances one year, "
                    "▶ plays.")])
        Replication(settings.value).key(repr(settings.value.model_kwargs()))
