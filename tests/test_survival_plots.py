"""Plot helpers run headless, label their axes legibly and save to PNG."""

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mutualsim.survival import cumulative_incidence, hazard, kaplan_meier, plots

# The helpers never touch pyplot; forcing Agg proves they need no GUI backend.
matplotlib.use("Agg")

NAMES = {1: "insolvency", 2: "wind_down", 3: "takeover"}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    out = {}
    for label, p in (("No protection", 0.2), ("5-year protection", 0.1)):
        exit_year = rng.geometric(p, 80) - 1
        horizon = rng.integers(0, 12, 80)
        d = np.minimum(exit_year, horizon)
        causes = np.where(exit_year <= horizon, rng.integers(1, 4, 80), 0)
        out[label] = (d, causes)
    return out


def check_figure(fig, path):
    assert isinstance(fig, Figure)
    main = fig.axes[0]
    assert main.get_xlabel() and main.get_ylabel()
    assert main.xaxis.label.get_size() >= 11 and main.yaxis.label.get_size() >= 11
    for label in main.get_xticklabels() + main.get_yticklabels():
        assert label.get_size() >= 11
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_plot_km_with_at_risk_table(data, tmp_path):
    curves = {k: kaplan_meier(d, (c > 0).astype(int)) for k, (d, c) in data.items()}
    fig = plots.plot_km(curves)
    check_figure(fig, tmp_path / "km.png")
    assert fig.axes[0].get_xlabel() == "Years since spin-out"
    assert fig.axes[0].get_ylabel() == "Share still trading"
    table_texts = [t.get_text() for t in fig.axes[1].texts]
    assert "80" in table_texts  # everyone is at risk at year 0
    assert all(t.get_fontsize() >= 11 for t in fig.axes[1].texts)


def test_plot_km_on_given_axes_and_without_table(data, tmp_path):
    d, c = data["No protection"]
    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    assert plots.plot_km({"a": kaplan_meier(d, c > 0)}, ax=ax) is fig
    check_figure(fig, tmp_path / "km_ax.png")
    fig2 = plots.plot_km({"a": kaplan_meier(d, c > 0, ci="linear")}, at_risk_table=False)
    assert len(fig2.axes) == 1
    check_figure(fig2, tmp_path / "km_plain.png")


def test_plot_hazard(data, tmp_path):
    frames = {k: hazard(d, (c > 0).astype(int)) for k, (d, c) in data.items()}
    check_figure(plots.plot_hazard(frames), tmp_path / "hazard.png")


def test_plot_cumulative_incidence(data, tmp_path):
    d, c = data["No protection"]
    cif = cumulative_incidence(d, c)
    km = kaplan_meier(d, (c > 0).astype(int))
    fig = plots.plot_cumulative_incidence(cif, km, NAMES)
    check_figure(fig, tmp_path / "cif.png")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:3] == ["insolvency", "wind_down", "takeover"]
    named = cumulative_incidence(d, c, cause_names=NAMES)
    check_figure(plots.plot_cumulative_incidence(named), tmp_path / "cif2.png")


def test_plot_income_share(tmp_path):
    years = np.arange(15)
    panel = pd.concat(
        pd.DataFrame(
            {
                "label": lab,
                "year": years,
                "mean": m * np.exp(-years / 9),
                "low": m * np.exp(-years / 9) - 0.05,
                "high": m * np.exp(-years / 9) + 0.05,
            }
        )
        for lab, m in (("A", 0.8), ("B", 0.6))
    )
    check_figure(plots.plot_income_share(panel), tmp_path / "income.png")
    by_label = {lab: g.drop(columns="label") for lab, g in panel.groupby("label")}
    fig = plots.plot_income_share(by_label)
    check_figure(fig, tmp_path / "income2.png")
    # Several series: one panel each, one shaded band per panel (bands never overlap and
    # blend), in the series' own colour-blind-safe colour.
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["A", "B"]
    for i, ax in enumerate(panels):
        assert len(ax.collections) == 1
        assert matplotlib.colors.to_hex(ax.collections[0].get_facecolor()[0]) == \
            plots.PALETTE[i].lower()
    # On one given axes: lines only (no shaded band at all).
    one = Figure()
    plots.plot_income_share(by_label, ax=one.add_subplot())
    assert len(one.axes[0].collections) == 0 and len(one.axes[0].lines) == 6


def test_plot_survival_at(tmp_path):
    rows = []
    for value in (0, 2, 5, 10):
        for t in (5, 10, 15):
            s = float(np.exp(-t / (10 + value)))
            rows.append(
                {"value": value, "t": t, "survival": s, "ci_low": s - 0.04, "ci_high": s + 0.04}
            )
    fig = plots.plot_survival_at(pd.DataFrame(rows))
    check_figure(fig, tmp_path / "survival_at.png")
    assert len(fig.axes[0].get_legend().get_texts()) == 3


def test_package_import_does_not_load_matplotlib():
    code = "import sys, mutualsim.survival; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
