"""End to end: ``mutualsim app`` in a subprocess, driven by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
def server(tmp_path: Path):
    pytest.importorskip("solara")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mutualsim", "app", "--port", str(port)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "MPLBACKEND": "Agg"}, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_served(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _s10(page) -> str:
    return page.locator(".mutualsim-s10").first.inner_text()


def test_protection_3_to_7_changes_s10(server: str, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (CI installs it with .ci/browser-setup.sh)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1800})
            page.goto(server, timeout=90_000)
            page.wait_for_selector(".mutualsim-s10", timeout=90_000)
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
            out = REPO / "out" / "browser"
            out.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, out / "app.png")
            (out / "s10.txt").write_text(f"protection 3: {before}\nprotection 7: {after}\n")
        finally:
            browser.close()
