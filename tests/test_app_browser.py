"""End to end: ``mutualsim app`` in a subprocess, driven by headless Chromium at 1280x720
(a projector). Screenshots are left in ``.ci-artifacts/browser/`` (or
``$MUTUALSIM_ARTIFACTS/browser``); the test prints the folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from processes import command_line, descendants, wait_gone

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[1]
#: The start command of docs/WORKSHOP.md (a test below checks that the document still
#: says it): the page with the shipped example council.
START = ("app", "--council", "example_council")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A first start after an install compiles the kernel before serving (about two minutes).
def _wait_until_served(url: str, proc: subprocess.Popen, timeout: float = 360.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} not served within {timeout:.0f} s")


@pytest.fixture
def sync_api():
    """Playwright, or a skip (checked before any server is started)."""
    pytest.importorskip("solara")
    api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (CI installs it with .ci/browser-setup.sh)")
    return api


@pytest.fixture
def server(tmp_path: Path, sync_api):
    """``mutualsim app`` on a free port; stopped with SIGTERM afterwards, and checked to have
    taken its Solara server with it and to have printed no warnings."""
    port = _free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mutualsim", *START, "--port", str(port)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "MPLBACKEND": "Agg"}, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    children: list[int] = []
    try:
        _wait_until_served(url, proc)
        children = descendants(proc.pid)
        yield url
    finally:
        children = sorted(set(children) | set(descendants(proc.pid)))
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        left = wait_gone(children, timeout=5.0)
        for pid in left:  # never leave a server behind, even when the check below fails
            os.kill(pid, signal.SIGKILL)
        log.close()
    assert left == [], f"still running after the app stopped: {[command_line(p) for p in left]}"
    # Council files loaded on the page: the server's temporary folder is gone with it.
    servers = {str(pid) for pid in children}
    areas = [p for p in Path(tempfile.gettempdir()).glob("mutualsim-councils-*-*")
             if p.name.split("-")[2] in servers]
    assert areas == [], areas
    text = log_path.read_text()
    assert "samesite" not in text.lower() and "Traceback" not in text, text
    assert "validate_hooks" not in text, text  # Solara: no hook after an early return


def _assert_controls_beside_content(page) -> None:
    """The sidebar (controls) ends where the main content starts: nothing is hidden under it."""
    drawer = page.locator(".v-navigation-drawer").first.bounding_box()
    settings = page.locator(".mutualsim-settings").first.bounding_box()
    numbers = page.locator(".mutualsim-s10").first.bounding_box()
    assert drawer is not None and settings is not None and numbers is not None
    right = drawer["x"] + drawer["width"]
    assert settings["x"] >= right and numbers["x"] >= right, (drawer, settings, numbers)


def _assert_checkbox_labels_readable(page) -> None:
    """The checkbox shows its label once, beside the box (no wrapped duplicate under it)."""
    label = "Mentoring clauses in large contracts"
    box = page.locator(".v-checkbox", has_text=label).first
    assert box.locator("label").inner_text().strip() == label
    wrapper = box.locator(".v-selection-control__wrapper").first.bounding_box()
    assert wrapper is not None and wrapper["height"] <= 48, wrapper
    font = box.locator(".v-selection-control__wrapper").first.evaluate(
        "e => getComputedStyle(e).fontSize")
    assert font == "0px"  # the stray copy of the label inside the box is hidden


def _s10(page) -> str:
    return page.locator(".mutualsim-s10").first.inner_text()


#: Elements that extend past the right or left edge of the viewport, or past the right edge
#: of a box that clips them (overflow hidden/auto): what a room would see cut off. Vuetify's
#: animated progress bars (hidden off-screen by design) and the ripple a click leaves on a
#: button for a moment (clipped by the button by design) are not content.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('.v-application *')) {
    if (e.closest('.v-progress-linear') || e.closest('.v-ripple__container')) continue;
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    let clipped = r.right > width + 1 || r.left < -1;
    for (let a = e.parentElement; a && !clipped; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible') {
        const b = a.getBoundingClientRect();
        if (b.width > 0 && (r.right > b.right + 1 || r.left < b.left - 1)) clipped = true;
      }
    }
    if (clipped) out.push(`${e.tagName}.${e.className} ${r.left}-${r.right}`);
  }
  return out.slice(0, 10);
}"""


def _assert_nothing_clipped(page) -> None:
    overflowing = page.evaluate(OVERFLOW_JS)
    assert overflowing == [], overflowing


def _assert_no_badge_over_content(page) -> None:
    """Solara's "This website runs on Solara" badge: absent, or overlapping nothing."""
    badge = page.get_by_text("This website runs on")
    for i in range(badge.count()):
        box = badge.nth(i).bounding_box()
        if box is None:
            continue
        hits = page.evaluate(
            """b => [...document.querySelectorAll('img, .v-card, .mutualsim-control')]
                 .filter(e => { const r = e.getBoundingClientRect();
                   return r.left < b.x + b.width && b.x < r.right &&
                          r.top < b.y + b.height && b.y < r.bottom; }).length""", box)
        assert hits == 0, box


def _control_values(page) -> list[str]:
    """The value each control of the sidebar shows (one per control)."""
    controls = page.locator(".v-navigation-drawer .mutualsim-control")
    values = []
    for i in range(controls.count()):
        shown = controls.nth(i).locator(".mutualsim-value")
        assert shown.count() == 1 and shown.first.is_visible(), i
        values.append(shown.first.inner_text().strip())
    return values


def _set_slider(page, name: str, fraction: float) -> None:
    """Click a slider's track at ``fraction`` of its length (one change, as a hand would)."""
    track = page.locator(f".mutualsim-input-{name}").first
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


EXAMPLE_COUNCIL = REPO / "model" / "councils" / "example_council.toml"
UPLOADED_NAME = "Uploaded example council"


def _upload_council(page, tmp_path: Path, out: Path) -> None:
    """A bad council file, then a good one, through the page's file picker."""
    example = EXAMPLE_COUNCIL.read_text()
    bad = tmp_path / "our_council.toml"
    bad.write_text(example.replace("annual_value_gbp = 2_283_000", "annual_value_gbp = -5", 1))
    good = tmp_path / "uploaded_council.toml"
    good.write_text(example.replace('name = "Example co-operative council"',
                                    f'name = "{UPLOADED_NAME}"', 1))
    picker = page.locator("input.mutualsim-council-file")
    assert picker.count() == 1
    picker.set_input_files(str(bad))
    error = page.locator(".mutualsim-upload-error").first
    error.wait_for(timeout=60_000)
    text = error.inner_text()
    assert "our_council.toml: service 'Libraries and archives'" in text, text
    assert "annual_value_gbp must be above 0" in text and "Traceback" not in text, text
    council = page.locator(".mutualsim-council").first
    assert "Example co-operative council" in council.inner_text()  # kept
    error.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / "page_upload_error.png"))
    picker.set_input_files(str(good))
    page.wait_for_function(
        "name => { const e = document.querySelector('.mutualsim-council');"
        " return e && e.innerText.includes('Your council: ' + name); }", arg=UPLOADED_NAME,
        timeout=180_000)
    page.wait_for_function("() => !document.querySelector('.mutualsim-upload-error')",
                           timeout=30_000)
    text = council.inner_text()
    assert "Libraries and archives" in text and "run by its mutual after 10 years" in text
    assert council.locator("td.s").count() == 5 * 3
    page.wait_for_function(  # the controls column names the council now shown
        "name => document.querySelector('.mutualsim-council-now').innerText.trim() === name",
        arg=UPLOADED_NAME, timeout=30_000)
    page.locator(".mutualsim-council-file-card").first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)


def _choose(page, name: str, option: str) -> None:
    """Pick ``option`` in the select of control ``name`` (its menu opens in an overlay)."""
    select = page.locator(f".mutualsim-input-{name}").first
    select.scroll_into_view_if_needed()
    select.click()
    page.locator(".v-overlay-container .v-list-item", has_text=option).first.click()
    page.wait_for_function(
        "([name, option]) => [...document.querySelectorAll("
        "'.v-navigation-drawer .mutualsim-control')].some(c => c.querySelector("
        "`.mutualsim-input-${name}`) && c.querySelector('.mutualsim-value')"
        ".innerText.trim() === option)", arg=[name, option], timeout=60_000)


def _artifacts() -> Path:
    out = Path(os.environ.get("MUTUALSIM_ARTIFACTS", REPO / ".ci-artifacts")) / "browser"
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {out}")
    return out


def test_workshop_document_starts_the_page_like_this_test() -> None:
    """docs/WORKSHOP.md tells the facilitator the start command this test runs."""
    assert f"mutualsim {' '.join(START)}" in (REPO / "docs" / "WORKSHOP.md").read_text()


def test_page_for_a_room_at_1280x720(server: str, sync_api, tmp_path: Path):
    """The page started as docs/WORKSHOP.md says, with the example council: its services'
    results are shown. Every control shows its value; nothing is clipped; no badge over
    content; nothing is fetched from outside and nothing the page asks for is missing;
    protection 3 -> 7 changes S(10); the year
    label is right from step 0; presenter view hides the controls; the handout downloads
    and prints on two pages. Screenshots go to .ci-artifacts/browser/ (printed)."""
    from test_analysis_handout import check_printed

    out = _artifacts()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720},
                                    accept_downloads=True)
            external: list[str] = []
            local = server.rstrip("/")
            page.on("request", lambda r: external.append(r.url)
                    if not r.url.startswith((local, "data:", "blob:")) else None)
            # and everything the page asks its own server for is there (solara.Markdown
            # asked for KaTeX from the CDN proxy, which an offline server answers with 404)
            missing: list[str] = []
            page.on("response", lambda r: missing.append(f"{r.status} {r.url}")
                    if r.status >= 400 else None)
            page.on("requestfailed", lambda r: missing.append(f"failed {r.url}"))
            page.goto(server, timeout=90_000)
            page.wait_for_selector(".mutualsim-s10", timeout=180_000)
            page.wait_for_selector(".mutualsim-handout", timeout=180_000)
            page.wait_for_timeout(1000)
            _assert_controls_beside_content(page)
            _assert_checkbox_labels_readable(page)
            values = _control_values(page)
            assert len(values) == 11 and all(values), values
            assert values[0] == "3 years" and "% a year" in values[6], values
            assert values[10] == "one parameter set", values
            _assert_nothing_clipped(page)
            _assert_no_badge_over_content(page)
            page.screenshot(path=str(out / "page_1280x720.png"))

            # The example council's services, each with its chance of being run by its
            # mutual after 5/10/15 years, and the council's money.
            council = page.locator(".mutualsim-council").first
            council.wait_for(timeout=180_000)
            council.scroll_into_view_if_needed()
            text = council.inner_text()
            for service in ("Libraries and archives", "Youth services",
                            "Waste collection (kept in-house)"):
                assert service in text, text
            assert "run by its mutual after 10 years" in text and "step-in cost" in text, text
            assert council.locator("td.s").count() == 5 * 3
            _assert_nothing_clipped(page)
            page.screenshot(path=str(out / "page_council.png"))

            # Loading a council file on the page (the picker in the controls column): a
            # file with a mistake gives one line naming it and the key, and the page keeps
            # its council; the example (renamed, to tell it apart) then replaces it.
            _upload_council(page, tmp_path, out)
            _assert_nothing_clipped(page)
            _assert_no_badge_over_content(page)
            page.screenshot(path=str(out / "page_upload.png"))
            page.evaluate("() => { for (const e of document.querySelectorAll('*'))"
                          " e.scrollTop = 0; }")

            # The year label before any step, and after one.
            year = page.locator(".mutualsim-year").first
            assert year.inner_text().startswith("Start: 0 of 30 years simulated")
            before = _s10(page)
            assert before.startswith("S(10) = ")

            # Protection 3 -> 7 years on the slider (0-15): its value and S(10) follow.
            _set_slider(page, "protection_years", 7 / 15)
            page.wait_for_function(
                "before => { const e = document.querySelector('.mutualsim-s10');"
                " return e && e.innerText !== before; }", arg=before, timeout=180_000)
            page.wait_for_function(  # the value arrives with the rest of the update
                "() => document.querySelector('.v-navigation-drawer .mutualsim-value')"
                ".innerText.trim() === '7 years'", timeout=60_000)
            assert _control_values(page)[0] == "7 years"
            assert page.locator(".mutualsim-input-error").count() == 0
            page.wait_for_selector(".mutualsim-handout", timeout=180_000)
            (out / "s10.txt").write_text(f"protection 3: {before}\nprotection 7: {_s10(page)}\n")

            # Uncertainty: the calibrated posterior (medians, 90% ranges, the paired
            # difference to the baseline and P(better), and why the range is wider); then
            # back to one parameter set.
            _choose(page, "uncertainty", "calibrated posterior")
            posterior = page.locator(".mutualsim-posterior").first
            posterior.wait_for(timeout=300_000)
            posterior.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            text = posterior.inner_text()
            assert "S(10) against the baseline" in text and "P(better)" in text, text
            assert "Why the range is wider" in text and "reference" in text, text
            assert _control_values(page)[10] == "calibrated posterior"
            _assert_nothing_clipped(page)
            _assert_no_badge_over_content(page)
            page.screenshot(path=str(out / "page_posterior.png"))
            _choose(page, "uncertainty", "one parameter set")
            page.wait_for_function(
                "() => !document.querySelector('.mutualsim-posterior')", timeout=60_000)
            page.evaluate("() => { for (const e of document.querySelectorAll('*'))"
                          " e.scrollTop = 0; }")

            page.get_by_text("Time: 0.0").wait_for(timeout=90_000)
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Time: 1.0").wait_for(timeout=90_000)
            page.wait_for_function(
                "() => document.querySelector('.mutualsim-year').innerText"
                ".startsWith('2010: 1 of 30')", timeout=90_000)
            replication = page.locator(".mutualsim-replication").first
            replication.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            assert replication.locator("img").count() == 2
            _assert_nothing_clipped(page)
            page.screenshot(path=str(out / "page_replication.png"))

            # Presenter view: no controls, results across the whole width.
            page.locator(".mutualsim-presenter").first.click()
            page.wait_for_function(
                "() => document.querySelector('.mutualsim-presenter').innerText"
                ".toLowerCase().includes('show controls')", timeout=60_000)
            page.wait_for_timeout(500)
            assert not page.locator(".mutualsim-controls").first.is_visible()
            numbers = page.locator(".mutualsim-numbers").first
            numbers.scroll_into_view_if_needed()
            box = numbers.bounding_box()
            assert box is not None and box["x"] < 60, box  # no column left for controls
            _assert_nothing_clipped(page)
            _assert_no_badge_over_content(page)
            page.evaluate("() => { for (const e of document.querySelectorAll('*'))"
                          " e.scrollTop = 0; }")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "page_presenter.png"))

            # The handout: one click downloads it; it prints on two pages.
            with page.expect_download(timeout=60_000) as download:
                page.locator(".mutualsim-handout").first.click()
            handout = tmp_path / download.value.suggested_filename
            download.value.save_as(handout)
            assert handout.name.endswith(".html")
            sheet = browser.new_page(viewport={"width": 1280, "height": 720})
            sheet.goto(handout.as_uri())
            assert "Chosen setting" in sheet.content()
            assert "protected initial contract 7 years" in sheet.content()
            assert check_printed(sheet, out, "handout_page") == 2
            page.locator(".mutualsim-presenter").first.click()  # controls back
            page.wait_for_function(
                "() => document.querySelector('.mutualsim-presenter').innerText"
                ".toLowerCase().includes('presenter')", timeout=60_000)
            page.locator(".mutualsim-controls").first.wait_for(state="visible", timeout=30_000)
            page.wait_for_function(  # the main area slides back beside the controls
                "() => document.querySelector('.mutualsim-settings').getBoundingClientRect()"
                ".left >= document.querySelector('.v-navigation-drawer')"
                ".getBoundingClientRect().right", timeout=30_000)
            _assert_controls_beside_content(page)
            assert external == [], external  # works offline: nothing from a CDN
            assert missing == [], missing
        finally:
            browser.close()
