"""Component tests of the workshop page, written the way Mesa tests SolaraViz."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from mesa.visualization import SolaraViz  # noqa: E402

from mutualsim.app import page as app_page  # noqa: E402
from mutualsim.app.replication import (  # noqa: E402
    MarketView,
    TradingView,
    ViewMarket,
    year_label,  # noqa: E402
)
from mutualsim.app.results import arm, compute  # noqa: E402
from mutualsim.app.settings import (  # noqa: E402
    CONTROLS,
    Settings,
    default_raw,
    describe,
    parse,
    value_text,
)
from mutualsim.errors import InputError  # noqa: E402

SMALL = {"councils": 30, "replications": "20"}


@solara.component
def InLayout(child: solara.Element) -> solara.Element:
    """The app layout the server wraps pages in, so Sidebar contents are rendered."""
    return solara.AppLayout(children=[child])


@pytest.fixture
def small_page(monkeypatch: pytest.MonkeyPatch):
    """The page at a small size, so each recomputation takes a fraction of a second."""
    raw = {**default_raw(), **SMALL}
    monkeypatch.setattr(app_page, "default_raw", lambda: dict(raw))
    box, rc = solara.render(InLayout(app_page.Page()), handle_error=False)
    return rc


def _s10(rc) -> str:
    return rc.find(v.Html, class_=app_page.S10_CLASS).widget.children[0]


def _errors(rc) -> list[str]:
    return [str(w.children) for w in rc.find(v.Alert).widgets]


def test_step_advances_the_replication():
    model = ViewMarket(rng=1, councils=10)
    box, rc = solara.render(
        InLayout(SolaraViz(model, components=[(MarketView, 0), (TradingView, 0)])),
        handle_error=False)
    rc.find(v.Btn, children=["Step"]).assert_single()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.year_index == 1
    assert model.steps == 1


def test_reset_rebuilds_with_the_page_settings():
    kwargs = Settings(protection_years=7, councils=10, seed=4).model_kwargs()
    old = ViewMarket(**kwargs)
    model = solara.reactive(old)
    box, rc = solara.render(
        InLayout(SolaraViz(model, components=[(MarketView, 0)], model_params=kwargs)),
        handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecated seed= on the way
        rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _errors(rc) == []
    # The reset model is a new one, at year 0, with the page's protection length and seed
    # (SolaraViz hands them over as a MarketScenario).
    new = model.value
    assert new is not old and new.year_index == 0
    assert new.params == old.params and (new.seed, new.replication) == (4, 0)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert old.year_index == 1 and new.year_index == 1  # the old model was not stepped again
    for name, values in old.recorder.data.items():     # the same replication, rebuilt
        np.testing.assert_array_equal(new.recorder.data[name], values, err_msg=name)


def test_page_step_button_advances_its_replication(small_page):
    rc = small_page
    assert "Time: 0" in str(rc.find(v.Html, children=["Time: 0.0"]).widget.children)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Html, children=["Time: 1.0"]).assert_single()


def test_changing_protection_changes_s10(small_page):
    rc = small_page
    before = _s10(rc)
    assert before.startswith("S(10) = ")
    slider = rc.find(v.Slider, class_="mutualsim-input-protection_years").widget
    slider.v_model = 7
    after = _s10(rc)
    assert after.startswith("S(10) = ") and after != before
    assert not _errors(rc)


def test_out_of_range_value_shows_a_message(small_page):
    rc = small_page
    before = _s10(rc)
    field = rc.find(v.TextField, label="Replications (10-1000)").widget
    field.v_model = "5000"
    field.fire_event("keyup.enter")  # text fields report a value on Enter or focus out
    messages = _errors(rc)
    assert messages and "replications" in messages[0] and "out of range" in messages[0]
    assert _s10(rc) == before  # the last valid setting is still shown
    slider = rc.find(v.Slider, class_="mutualsim-input-protection_years").widget
    slider.v_model = 60  # beyond what the model allows: caught by check_value
    assert any("protection_years" in m for m in _errors(rc))
    slider.v_model = 3
    field.v_model = "abc"
    field.fire_event("keyup.enter")
    assert any("whole number" in m for m in _errors(rc))


def test_parse_rejects_bad_values_with_input_error():
    raw = default_raw()
    with pytest.raises(InputError, match="seed"):
        parse({**raw, "seed": "-1"})
    with pytest.raises(InputError, match="support_level"):
        parse({**raw, "support_level": 1.5})
    with pytest.raises(InputError, match="too much"):
        parse({**raw, "councils": 300, "replications": "1000"})
    with pytest.raises(InputError, match="^uncertainty: must be one of one parameter set, "
                                         "calibrated posterior; got 'maybe'$"):
        parse({**raw, "uncertainty": "maybe"})
    assert parse(raw).uncertainty == "none"
    assert parse({**raw, "uncertainty": "calibrated posterior"}).uncertainty == "posterior"


def test_results_are_cached_per_setting():
    arm.cache_clear()
    s = Settings(councils=10, replications=10)
    first = compute(s)
    second = compute(s)
    assert first.chosen.counts is second.chosen.counts
    info = arm.cache_info()
    assert info.hits >= 2 and info.currsize == 1  # baseline == chosen here: one entry
    assert info.maxsize is not None


def _with_class(root, name: str) -> list:
    """Widgets under ``root`` (depth first, in order) whose classes include ``name``."""
    out, stack = [], [root]
    while stack:
        w = stack.pop(0)
        if name in str(getattr(w, "class_", "") or "").split():
            out.append(w)
        stack[:0] = [c for c in (getattr(w, "children", None) or []) if hasattr(c, "keys")]
    return out


def _values(rc) -> dict[str, str]:
    """Each control's shown value, by control name (text fields show "Now: ...")."""
    boxes = _with_class(rc.find(v.NavigationDrawer).widget, app_page.CONTROL_CLASS)
    assert len(boxes) == len(CONTROLS)
    out = {}
    for control, box in zip(CONTROLS, boxes, strict=True):
        shown = [w.children[0] for w in _with_class(box, app_page.VALUE_CLASS)]
        assert len(shown) == 1, (control.name, shown)
        out[control.name] = shown[0]
    return out


def test_every_control_shows_its_value_with_its_unit(small_page):
    rc = small_page
    shown = _values(rc)
    assert shown["protection_years"] == "3 years"
    assert shown["austerity_rate"] == "2.0% a year"
    assert shown["mentoring_clauses"] == "off"
    assert shown["replications"] == "Now: 20"
    rc.find(v.Slider, class_="mutualsim-input-protection_years").widget.v_model = 7
    rc.find(v.Slider, class_="mutualsim-input-support_level").widget.v_model = 0.55
    shown = _values(rc)
    assert shown["protection_years"] == "7 years"
    assert shown["support_level"].startswith("0.55")
    # The setting in words, shown beside the results (for presenter view).
    text = str([getattr(w, "unsafe_innerHTML", None) or w.template
                for w in rc.find(v.VuetifyTemplate).widgets])
    assert "protected initial contract 7 years" in text


def test_presenter_view_hides_the_controls(small_page):
    rc = small_page
    def presenting() -> bool:  # the class that the presenter CSS (:has) looks for
        return bool(_with_class(rc.find(v.Html, tag="div").widgets[0], app_page.PRESENTER_ON))

    css = " ".join(str(getattr(w, "template", "")) for w in rc.find(v.VuetifyTemplate).widgets)
    assert f":has(.{app_page.PRESENTER_ON}) .v-navigation-drawer {{ display: none" in css
    assert not presenting()
    button = rc.find(v.Btn, class_=app_page.PRESENTER_CLASS).widget
    before = _s10(rc)
    button.fire_event("click", {})
    assert presenting()
    assert "Show controls" in str(button.children)
    assert _s10(rc) == before  # nothing recomputed, nothing lost
    button.fire_event("click", {})
    assert not presenting()


def test_value_text_and_describe():
    by_name = {c.name: c for c in CONTROLS}
    assert value_text(by_name["lots"], 1) == "1 (whole contract)"
    assert value_text(by_name["lots"], 3) == "3"
    assert value_text(by_name["commissioning_style"], "cost_led") == "cost-led"
    assert value_text(by_name["support_level"], 0.2) == "0.20 (0 none - 1 full)"
    assert describe(Settings(), against=Settings()) == "same as the baseline"
    assert describe(Settings(lots=3), against=Settings()) == "lots per contract 3"


def test_year_label_reads_right_from_step_zero():
    model = ViewMarket(rng=1, councils=5)
    start = model.params.start_year
    assert year_label(model) == (f"Start: 0 of {model.params.years} years simulated "
                                 f"(first year {start})")
    model.step()
    assert year_label(model) == f"{start}: 1 of {model.params.years} years simulated"


def test_posterior_mode_is_compare_posterior_paired_across_the_two_settings():
    """The page's posterior table is compare_posterior's, arm by arm: the chosen setting
    against the baseline gives the same draws, numbers and paired differences as one
    compare_posterior run over both protection lengths."""
    from mutualsim.analysis.uncertainty import compare_posterior
    from mutualsim.app.results import (
        POSTERIOR_DRAWS,
        compute_posterior,
        posterior_arm,
        replications_per_draw,
    )

    s = Settings(protection_years=7, councils=10, replications=50, seed=3,
                 uncertainty="posterior")
    reps = replications_per_draw(s)
    assert reps == 5
    page = compute_posterior(s).table()
    direct = compare_posterior(s.baseline(), "protection_years", [3, 7], reps, s.seed,
                               draws=POSTERIOR_DRAWS, origin="spinout").table()
    assert list(page["label"]) == ["Baseline", "Chosen"]
    for col in ("S10", "S10_low", "S10_high", "dS10", "dS10_low", "dS10_high",
                "p_better_S10", "single_S10"):
        np.testing.assert_allclose(page[col].to_numpy(float), direct[col].to_numpy(float),
                                   equal_nan=True, err_msg=col)
    # The interval comes from the parameter sets: wider than one set's KM interval here.
    row = page.iloc[0]
    assert row["S10_low"] < row["S10"] < row["S10_high"]
    # Cached per arm: a second look recomputes nothing.
    before = posterior_arm.cache_info().hits
    compute_posterior(s)
    assert posterior_arm.cache_info().hits == before + 2
    # The same setting on both sides: every paired difference is 0, P(better) one half.
    same = compute_posterior(Settings(councils=10, replications=50, seed=3,
                                      uncertainty="posterior")).table()
    assert same.loc[1, "dS10_low"] == same.loc[1, "dS10_high"] == 0.0
    assert same.loc[1, "p_better_S10"] == 0.5


def test_page_in_posterior_mode_shows_medians_differences_and_why(small_page):
    rc = small_page
    assert not _with_class(rc.find(v.Html, tag="div").widgets[0], app_page.POSTERIOR_CLASS)
    rc.find(v.Slider, class_="mutualsim-input-protection_years").widget.v_model = 7
    select = rc.find(v.Select, class_="mutualsim-input-uncertainty").widget
    assert select.v_model == "one parameter set"
    select.v_model = "calibrated posterior"
    assert _values(rc)["uncertainty"] == "calibrated posterior"
    def posterior_cards() -> list:
        return [c for c in rc.find(v.Card).widgets if app_page.POSTERIOR_CLASS in str(c.class_)]

    deadline = time.monotonic() + 600
    while not posterior_cards():  # computed in a worker thread
        assert time.monotonic() < deadline, "no posterior card"
        time.sleep(0.1)
    card = posterior_cards()[0]
    text = str(card)
    assert "posterior median and 90% range" in text
    assert "S(10) against the baseline" in text and "P(better)" in text
    assert "reference" in text and " points (" in text
    note = _with_class(card, app_page.POSTERIOR_NOTE_CLASS)
    assert len(note) == 1 and "Why the range is wider" in note[0].children[0]
    assert _s10(rc).startswith("S(10) = ")
    assert not _errors(rc)
    select.v_model = "one parameter set"  # back: the one-parameter table again
    assert not posterior_cards()
