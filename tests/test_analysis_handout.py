"""The two-page handout: its content, the file rules (never overwrite a user's file), the
``compare --handout`` option, and (marked ``browser``) that it prints on exactly two pages."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

from mutualsim.analysis import cli as analysis_cli
from mutualsim.analysis.compare import compare
from mutualsim.analysis.handout import (
    MARK,
    MAX_GROUPS,
    SECTIONS,
    check_handout_path,
    drivers,
    in_ten,
    is_handout,
    plain_words,
    render_handout,
    write_handout,
)
from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.params import Scenario

SMALL = Scenario(councils=20)
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def comparison():
    return compare(SMALL, "protection", (0, 3, 7), replications=10, seed=0)


@pytest.fixture(scope="module")
def handout(comparison) -> str:
    return render_handout(comparison, created="1 January 2030")


def test_in_ten_reads_as_plain_words():
    assert in_ten(0.68) == "about 7 in 10"
    assert in_ten(0.049) == "fewer than 1 in 10"
    assert in_ten(0.97) == "more than 9 in 10"
    assert in_ten(1.0) == "about 10 in 10"
    assert in_ten(float("nan")) == "not known"


def test_handout_has_every_section_and_the_numbers_of_the_comparison(comparison, handout):
    for section in SECTIONS:
        assert f">{section}</h2>" in handout
    assert f'<meta name="generator" content="{MARK}">' in handout
    assert handout.count('class="sheet"') == 2
    assert handout.count("data:image/png;base64,") == 2  # survival curves, exit risk
    words = plain_words(comparison)
    assert list(words["Setting"]) == comparison.labels
    for g, row in zip(comparison.groups, words.itertuples(index=False), strict=True):
        s10 = g.survival_at(10).estimate
        assert row[2] == f"{in_ten(s10)} ({s10:.0%})"
        assert row[2] in handout
    # What drives the difference: one sentence per setting against the first.
    table = drivers(comparison)
    for _, r in table.iloc[1:].iterrows():
        assert f"<b>{r['label']}</b>" in handout
    assert "not forecasts" in handout and "re-tendered" in handout  # the caveats
    assert "http://" not in handout.replace("http://www.w3.org", "")  # nothing fetched


def test_drivers_add_up(comparison):
    table = drivers(comparison)
    for _, row in table.iterrows():
        exited = sum(0.0 if math.isnan(row[c]) else row[c]
                     for c in ("insolvency", "wind_down", "takeover", "taken_back"))
        assert exited + row["trading"] == pytest.approx(1.0, abs=1e-9)  # Aalen-Johansen
    # Without protection the riskiest year comes first; protection moves it later.
    years = list(table["peak_year"])
    # (3 vs 7 years is not ordered reliably at this size: break clauses and shocks give
    # protected mutuals a noisy hazard before their first tender.)
    assert years[0] < years[1] and years[0] < years[2]


def test_too_many_settings_are_refused(comparison):
    many = type(comparison)(factor=comparison.factor, groups=comparison.groups * 3,
                            scenario=comparison.scenario, replications=10, seed=0)
    assert len(many.groups) > MAX_GROUPS
    with pytest.raises(InputError, match="at most"):
        render_handout(many)


def test_write_replaces_only_a_previous_handout(comparison, tmp_path):
    path = tmp_path / "deep" / "handout.html"
    write_handout(comparison, path)
    assert is_handout(path)
    first = path.stat().st_mtime_ns
    write_handout(comparison, path)  # a previous handout: replaced
    assert path.stat().st_mtime_ns >= first
    assert sorted(p.name for p in path.parent.iterdir()) == ["handout.html"]  # no leftovers
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my notes</p>")
    with pytest.raises(InputError, match="not a previous mutualsim handout"):
        write_handout(comparison, mine)
    assert mine.read_text() == "<p>my notes</p>"
    for bad, why in ((tmp_path / "h.pdf", "must end in .html"),
                     (tmp_path, "must end in .html")):
        with pytest.raises(InputError, match=why):
            check_handout_path(bad)
    folder = tmp_path / "folder.html"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        check_handout_path(folder)
    link = tmp_path / "link.html"
    link.symlink_to(path)
    with pytest.raises(InputError, match="symbolic link"):
        check_handout_path(link)


def test_cli_handout_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("mutualsim.analysis.report.all_figures", lambda comparison: {})
    assert analysis_cli.HANDOUT_MAX == MAX_GROUPS
    mine = tmp_path / "mine.html"
    mine.write_text("mine")
    base = ["compare", "--values", "3,7", "-n", "3", "--quiet", "--uncertainty", "none"]
    # A user's file: one line, exit 2, nothing written.
    assert main([*base, "--handout", "mine.html", "--out", "o1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--handout mine.html" in err[0] and "not a previous" in err[0]
    assert mine.read_text() == "mine" and not (tmp_path / "o1").exists()
    assert main([*base, "--handout", "o1/x.html", "--out", "o1"]) == 2
    assert "inside the --out folder" in capsys.readouterr().err
    assert main(["compare", "--values", "0,1,2,3,4,5,6", "-n", "3", "--handout",
                 "--out", "o1"]) == 2
    assert "at most 6 values" in capsys.readouterr().err
    # Into the report folder, listed in its manifest; and to a file of its own, twice.
    assert main([*base, "--handout", "--out", "o1"]) == 0
    assert is_handout(tmp_path / "o1" / "handout.html")
    assert "handout.html" in (tmp_path / "o1" / "manifest.json").read_text()
    for _ in range(2):
        assert main([*base, "--handout", "h.html", "--out", "o2"]) == 0
        assert is_handout(tmp_path / "h.html")
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF written by Chromium (one ``/Type /Page`` object each)."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def check_printed(page, out: Path, stem: str) -> int:
    """Print the open handout to PDF and each sheet to PNG; the number of PDF pages.

    Also checks that nothing on a sheet is cut off (each sheet's content fits its A4 page)
    and that every section heading is there."""
    headings = page.locator("h2").all_inner_texts()
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS), headings
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (out / f"{stem}.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    sizes = page.evaluate("() => [...document.querySelectorAll('.sheet')]"
                          ".map(s => [s.scrollHeight, s.clientHeight])")
    assert len(sizes) == 2 and all(h <= c + 1 for h, c in sizes), sizes
    for i in (1, 2):
        shot = out / f"{stem}_page{i}.png"
        page.locator(f"#page-{i}").screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
    page.emulate_media(media="screen")
    return pdf_pages(pdf)


def artifacts() -> Path:
    """Where the browser tests leave their screenshots (CI keeps them as artefacts)."""
    out = Path(os.environ.get("MUTUALSIM_ARTIFACTS", REPO / ".ci-artifacts")) / "browser"
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {out}")
    return out


@pytest.mark.browser
@pytest.mark.slow
def test_handout_prints_on_two_pages(comparison, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (CI installs it with .ci/browser-setup.sh)")
    five = compare(SMALL, "protection", (0, 3, 5, 7, 15), replications=10, seed=0)
    path = write_handout(five, tmp_path / "handout.html")  # the most the CLI's default shows
    out = artifacts()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            external = []
            page.on("request", lambda r: external.append(r.url)
                    if not r.url.startswith(("file:", "data:")) else None)
            page.goto(path.as_uri())
            assert check_printed(page, out, "handout_cli") == 2
            assert external == []
        finally:
            browser.close()
