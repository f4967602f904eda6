"""Missing model outputs are left out and counted, never filled in (issue 10)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from mutualsim.analysis.compare import compare, income_share_band
from mutualsim.analysis.from_sweep import comparison_from_sweep
from mutualsim.analysis.report import markdown_table, write_report
from mutualsim.params import Scenario
from mutualsim.sweep import SweepStore, load_experiment, open_sweep, run_sweep
from mutualsim.sweep.tasks import Shard


def test_income_share_leaves_out_replications_without_mutuals():
    panel = pd.DataFrame({
        "replication": [0, 1, 2, 0, 1, 2],
        "year": [2010, 2010, 2010, 2011, 2011, 2011],
        "mean_parent_income_share": [np.nan, np.nan, np.nan, 0.9, np.nan, 0.5],
    })
    band = income_share_band(panel).set_index("year")
    assert band.loc[2011, "mean"] == pytest.approx(0.7)  # not (0.9 + 0 + 0.5) / 3
    assert math.isnan(band.loc[2010, "mean"])
    assert band["replications_with_mutuals"].tolist() == [0, 2]
    assert band["replications_without_mutuals"].tolist() == [3, 1]


def test_compare_reports_how_many_replication_years_were_left_out(tmp_path):
    c = compare(Scenario(councils=4, years=8), "protection", (0, 3), replications=5, seed=2)
    table = c.income_share_table()
    assert set(table["label"]) == set(c.labels)
    assert (table["replications_with_mutuals"] + table["replications_without_mutuals"]
            == 5).all()
    dropped = int(table["replications_without_mutuals"].sum())
    assert dropped > 0  # the first year has no mutual trading in any replication
    names = write_report(c, tmp_path / "out")
    assert "income_share.csv" in names
    saved = pd.read_csv(tmp_path / "out" / "income_share.csv")
    assert int(saved["replications_without_mutuals"].sum()) == dropped
    page = (tmp_path / "out" / "report.html").read_text()
    assert f"{dropped} replication-years with no mutual trading are left out" in page


EXPERIMENT = """name = "partial"
replications = 8
seed = 4
block_size = 4
[base_overrides]
councils = 6
years = 8
[design]
kind = "grid"
[factors]
protection_years = [0, 5]
"""


@pytest.fixture(scope="module")
def partial_sweep(tmp_path_factory):
    """Two scenarios of two tasks each, of which only the first task has run."""
    tmp = tmp_path_factory.mktemp("partial")
    (tmp / "exp.toml").write_text(EXPERIMENT)
    with ThreadPoolExecutor(1) as pool:
        run_sweep(load_experiment(tmp / "exp.toml"), SweepStore(tmp / "out"), pool,
                  shard=Shard(1, 4))
    return tmp / "out"


def test_sweep_summary_counts_missing_replications(partial_sweep):
    summary = open_sweep(partial_sweep).summary().set_index("protection_years")
    assert summary["replications"].tolist() == [4, 0]
    assert summary["missing_replications"].tolist() == [4, 8]
    assert summary.loc[5, "spinouts"] == 0 and math.isnan(summary.loc[5, "S(5)"])
    assert summary.loc[0, "spinouts"] > 0


def test_plot_of_a_partial_sweep_names_the_scenarios_left_out(partial_sweep):
    sweep = open_sweep(partial_sweep)
    missing = sweep.scenarios.set_index("protection_years").loc[5, "scenario_id"]
    c = comparison_from_sweep(partial_sweep)
    assert len(c.groups) == 1 and c.meta["left_out"] == [missing]
    assert f"Left out: 1 scenario(s) with no finished task or no spin-out ({missing})" \
        in markdown_table(c)
