"""End to end: ``mutualsim app`` in a subprocess, driven by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
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
    proc = subprocess.Popen([sys.executable, "-m", "mutualsim", "app", "--port", str(port)],
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
    text = log_path.read_text()
    assert "samesite" not in text.lower() and "Traceback" not in text, text


def _s10(page) -> str:
    return page.locator(".mutualsim-s10").first.inner_text()


def _assert_controls_beside_content(page) -> None:
    """The sidebar (controls) ends where the main content starts: nothing is hidden under it."""
    drawer = page.locator(".v-navigation-drawer").first.bounding_box()
    title = page.get_by_role("heading", name="mutualsim: do spun-out mutuals survive?")
    heading = title.first.bounding_box()
    numbers = page.locator(".mutualsim-s10").first.bounding_box()
    assert drawer is not None and heading is not None and numbers is not None
    right = drawer["x"] + drawer["width"]
    assert heading["x"] >= right and numbers["x"] >= right, (drawer, heading, numbers)


def _assert_checkbox_labels_readable(page) -> None:
    """Each checkbox shows its label once, beside the box (no wrapped duplicate under it)."""
    for label in ("Mentoring clauses", "Use Threads"):
        box = page.locator(".v-checkbox", has_text=label).first
        assert box.locator("label").inner_text().strip() == label
        wrapper = box.locator(".v-selection-control__wrapper").first.bounding_box()
        assert wrapper is not None and wrapper["height"] <= 48, wrapper
        font = box.locator(".v-selection-control__wrapper").first.evaluate(
            "e => getComputedStyle(e).fontSize")
        assert font == "0px"  # the stray copy of the label inside the box is hidden


def test_protection_3_to_7_changes_s10(server: str, sync_api, tmp_path: Path):
    out = REPO / "out" / "browser"
    out.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1800})
            page.goto(server, timeout=90_000)
            page.wait_for_selector(".mutualsim-s10", timeout=90_000)
            _assert_controls_beside_content(page)
            _assert_checkbox_labels_readable(page)
            before = _s10(page)
            assert before.startswith("S(10) = ")
            # The protection presets select: open it and choose 7 years.
            page.locator(".v-select", has=page.get_by_text(
                "Protection: common choices (years)")).first.click()
            page.locator(".v-overlay--active .v-list-item").filter(
                has_text=re.compile(r"^\s*7\s*$")).first.click()
            page.wait_for_function(
                "before => { const e = document.querySelector('.mutualsim-s10');"
                " return e && e.innerText !== before; }", arg=before, timeout=90_000)
            after = _s10(page)
            assert after.startswith("S(10) = ") and after != before
            assert page.locator(".mutualsim-input-error").count() == 0
            assert page.locator(".v-alert.error").count() == 0
            page.wait_for_timeout(1000)
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, out / "app.png")
            (out / "s10.txt").write_text(f"protection 3: {before}\nprotection 7: {after}\n")

            # One replication (rebuilt for protection 7): Step three times with Mesa's button.
            replication = page.locator(".mutualsim-replication").first
            replication.wait_for(timeout=90_000)
            page.get_by_text("Time: 0.0").wait_for(timeout=90_000)
            year = page.locator(".mutualsim-year").first
            start = int(year.inner_text().split()[1])  # the year before the first step
            step = page.get_by_role("button", name="Step")
            for n in range(1, 4):
                step.click()
                page.get_by_text(f"Time: {n}.0").wait_for(timeout=90_000)
            page.wait_for_function(
                "() => { const e = document.querySelector('.mutualsim-year');"
                " return e && e.innerText.includes('after 3 of'); }", timeout=90_000)
            # Three steps simulate 2010-2012; before the first step the label reads 2009.
            assert int(year.inner_text().split()[1]) == start + 3  # the year label advanced
            figures = replication.locator("img")
            assert figures.count() == 2  # the agents picture and the mutuals_trading plot
            replication.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            for i in range(2):
                box = figures.nth(i).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 150, box
            assert page.locator(".v-alert.error").count() == 0
            shot = tmp_path / "replication.png"
            page.screenshot(path=str(shot))
            shutil.copy(shot, out / "replication.png")

            # A smaller screen (laptop): the controls still sit beside the content.
            page.set_viewport_size({"width": 1280, "height": 800})
            page.wait_for_timeout(1000)
            _assert_controls_beside_content(page)
            shot = tmp_path / "app_1280.png"
            page.screenshot(path=str(shot))
            shutil.copy(shot, out / "app_1280.png")
        finally:
            browser.close()
