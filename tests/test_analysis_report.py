"""Figures and the written report: files, units on axes, a self-contained HTML page."""

from __future__ import annotations

import re

import pytest

from mutualsim.analysis.compare import Comparison, compare
from mutualsim.analysis.figures import FIGURES, all_figures
from mutualsim.analysis.report import markdown_table, write_report
from mutualsim.params import Scenario

SMALL = Scenario(councils=20, years=16)
UNITS = re.compile(r"\(.+\)|%|[Yy]ears?\b")


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(SMALL, "protection", (0, 3, 5, 7, 15), replications=30, seed=0)


@pytest.fixture(scope="module")
def figures(comparison):
    return all_figures(comparison)


@pytest.fixture(scope="module")
def written(comparison, tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    return root, write_report(comparison, root / "cmp")


def test_every_axis_is_labelled_with_units(figures):
    for name, fig in figures.items():
        for ax in fig.axes:
            if not ax.get_visible() or not ax.has_data() or ax.get_label() == "<colorbar>":
                continue
            if not ax.get_xlabel() and not ax.get_ylabel():
                continue  # the number-at-risk table under the KM plot
            assert UNITS.search(ax.get_xlabel()), (name, ax.get_xlabel())
            # shares are labelled as such and drawn on a percent axis
            ylabel = ax.get_ylabel()
            assert UNITS.search(ylabel) or ylabel.startswith("Share"), (name, ylabel)
            for text in ax.get_xticklabels() + ax.get_yticklabels():
                assert text.get_fontsize() >= 11


def test_hazard_marks_the_end_of_protection(figures):
    ax = figures["hazard"].axes[0]
    vertical = [line for line in ax.get_lines()
                if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2]
    assert len(vertical) == 4  # 3, 5, 7 and 15 years (0 has no protected contract)


def test_markdown_table_has_a_row_per_value_and_a_footnote(comparison):
    text = markdown_table(comparison)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 5
    assert "reference" in rows[1]
    assert "conservative" in text and "common random numbers" in text


def test_write_report_writes_every_file(written):
    tmp_path, names = written
    out = tmp_path / "cmp"
    for stem in FIGURES:
        assert (out / f"{stem}.png").stat().st_size > 1000
        assert (out / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
    for name in ("table.csv", "table.md", "report.html", "survival_at.csv"):
        assert (out / name).is_file()
    assert sorted(names) == sorted(p.name for p in out.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_report_html_is_self_contained(written):
    page = (written[0] / "cmp" / "report.html").read_text()
    sources = re.findall(r"""src=["']([^"']*)""", page)
    assert len(sources) == len(FIGURES)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"""(href|src)=["']https?:""", page)
    assert "How to read this" in page and "Seed" in page and "mutualsim version" in page
