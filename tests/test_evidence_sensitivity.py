"""Morris and Sobol on known test functions, and the sensitivity pipeline at toy size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("SALib")

from mutualsim.errors import InputError  # noqa: E402
from mutualsim.evidence.outcomes import run_model  # noqa: E402
from mutualsim.evidence.sensitivity import (  # noqa: E402
    Settings,
    morris_indices,
    morris_screen,
    numeric_factors,
    plan_morris,
    run_pipeline,
    scenario_values,
    sobol_indices,
    sobol_table,
)
from mutualsim.params import Scenario  # noqa: E402


def test_morris_ranks_a_dominant_parameter_first():
    problem = {"num_vars": 4, "names": ["small", "big", "none", "mid"],
               "bounds": [[0.0, 1.0]] * 4}

    def func(x: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"y": 0.5 * x[:, 0] + 10 * x[:, 1] + 2 * x[:, 3] ** 2})

    _, _, tables = morris_screen(func, problem, trajectories=8, seed=1)
    assert list(tables["y"].index[:3]) == ["big", "mid", "small"]
    assert tables["y"].loc["none", "mu_star"] == 0


def test_sobol_on_ishigami():
    from SALib.test_functions import Ishigami
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"],
               "bounds": [[-np.pi, np.pi]] * 3}

    def func(x: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"y": Ishigami.evaluate(x)})

    table = sobol_indices(func, problem, n=1024, seed=2)["y"]
    # Analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244.
    assert table.loc["x1", "ST"] == pytest.approx(0.558, abs=0.08)
    assert table.loc["x2", "S1"] == pytest.approx(0.442, abs=0.08)
    assert abs(table.loc["x3", "S1"]) < 0.08


def test_morris_drops_trajectories_with_a_missing_outcome_and_counts_them():
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    from SALib.sample import morris
    x = morris.sample(problem, 6, num_levels=4, seed=3)
    y = 5 * x[:, 0] + x[:, 1]
    y_nan = y.copy()
    y_nan[[1, 9]] = np.nan                          # rows of trajectories 0 and 2 (4 rows each)
    table = morris_indices(problem, x, y_nan, seed=3)
    keep = np.repeat([False, True, False, True, True, True], 4)
    expected = morris_indices(problem, x[keep], y[keep], seed=3)
    assert table.attrs == {"trajectories": 4, "dropped": 2}
    assert (table["dropped_trajectories"] == 2).all() and (table["trajectories"] == 4).all()
    assert np.allclose(table["mu_star"], expected["mu_star"])   # the rest, not an imputation
    with pytest.raises(InputError, match="every one of the 6 Morris trajectories"):
        morris_indices(problem, x, np.full(len(y), np.nan))


def test_sobol_drops_base_samples_with_a_missing_output_and_counts_them():
    from SALib.sample import sobol
    from SALib.test_functions import Ishigami
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol.sample(problem, 256, calc_second_order=False, seed=2)
    y = Ishigami.evaluate(x)
    y[[0, 7, 12]] = np.nan                          # base samples 0 and 1 (5 rows each), 2
    table = sobol_table(problem, y, seed=2)
    assert table.attrs["dropped"] == 3 and (table["base_samples"] == 253).all()
    assert table.loc["x2", "S1"] == pytest.approx(0.442, abs=0.1)
    with pytest.raises(InputError, match="Saltelli"):
        sobol_table(problem, np.full(len(y), np.nan))


def test_numeric_factors_cover_every_numeric_parameter():
    ranges = numeric_factors()
    assert {"reactive_prob", "protection_years", "austerity_rate", "step_in_cost"} <= set(ranges)
    assert "councils" not in ranges and "commissioning_style" not in ranges
    assert ranges["protection_years"].whole
    base = Scenario()
    for name, r in ranges.items():
        assert r.low <= getattr(base, name) <= r.high, name


def test_pipeline_at_toy_size_publishes_tables_figures_and_resumes(tmp_path):
    # At 12 years some points have no 10-year follow-up (S10 missing): with this seed a
    # Morris trajectory has such a point, so dropping is exercised.
    s = Settings({"councils": 10, "years": 12}, replications=2, trajectories=3,
                 noise_seeds=2, sobol_factors=2, sobol_n=4, prim_samples=24,
                 factors=("reactive_prob", "protection_years", "incubation_years",
                          "contract_years", "initial_price", "private_unit_cost"))
    out = tmp_path / "sens"
    result = run_pipeline(out, workers=1, settings=s)
    for name in ("morris_S10.csv", "morris_council_spend.csv", "sobol_S10.csv",
                 "prim_trajectory.csv", "morris.png", "sobol_S10.png", "prim_tradeoff.png",
                 "morris_points.parquet", "prim_data.csv", "manifest.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["morris_top_S10"]) == 2 and "box" in summary["prim"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "sensitivity" and manifest["run_key"] == s.key
    # Missing outputs are counted next to the result, in the tables and the summary.
    missing = summary["missing_outputs"]
    morris = pd.read_csv(out / "morris_S10.csv", index_col="name")
    points = pd.read_parquet(out / "morris_points.parquet")
    bad = int(points["S10"].isna().to_numpy().reshape(3, -1).any(axis=1).sum())
    assert bad >= 1 and missing["morris_dropped_trajectories"]["S10"] == bad
    assert (morris["dropped_trajectories"] == bad).all()
    assert (morris["trajectories"] == 3 - bad).all()
    assert summary["prim"]["points_used"] + summary["prim"]["dropped_points"] == 24
    prim_data = pd.read_csv(out / "prim_data.csv")
    assert prim_data["S10"].isna().sum() == summary["prim"]["dropped_points"]

    # Every model run went through a sweep store; a point's outcomes are run_model's.
    sweeps = result["sweeps"]
    assert sorted(p.name for p in sweeps.iterdir()) == ["morris", "noise", "prim", "sobol"]
    plan = plan_morris(s)[1]
    direct = run_model(seed=s.seed, replications=s.replications, **s.base,
                       **scenario_values(plan.values[5]))
    for c in ("S10", "council_spend"):
        assert points[c].iloc[5] == pytest.approx(direct[c], nan_ok=True)

    # A re-run resumes: no model run is repeated, the result is published again.
    run_pipeline(out, workers=1, settings=s)
    for stage in ("morris", "noise", "prim", "sobol"):
        ends = [json.loads(line) for line in (sweeps / stage / "log.jsonl").read_text()
                .splitlines() if '"end"' in line]
        assert len(ends) == 2 and ends[-1]["finished"] == 0, stage
    assert pd.read_csv(out / "morris_S10.csv", index_col="name").equals(morris)
