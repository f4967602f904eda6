"""Component tests of the workshop page, written the way Mesa tests SolaraViz."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from mesa.visualization import SolaraViz  # noqa: E402

from mutualsim.app import page as app_page  # noqa: E402
from mutualsim.app.replication import MarketView, TradingView, ViewMarket  # noqa: E402
from mutualsim.app.results import arm, compute  # noqa: E402
from mutualsim.app.settings import Settings, default_raw, parse  # noqa: E402
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
    monkeypatch.setattr(app_page, "Settings", lambda: parse(raw))
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
    slider = rc.find(v.Slider, label="Protected initial contract (years)").widget
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
    slider = rc.find(v.Slider, label="Protected initial contract (years)").widget
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


def test_results_are_cached_per_setting():
    arm.cache_clear()
    s = Settings(councils=10, replications=10)
    first = compute(s)
    second = compute(s)
    assert first.chosen.counts is second.chosen.counts
    info = arm.cache_info()
    assert info.hits >= 2 and info.currsize == 1  # baseline == chosen here: one entry
    assert info.maxsize is not None
