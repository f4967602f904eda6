"""Morris and Sobol on known test functions, and the sensitivity pipeline at toy size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("SALib")

from mutualsim.evidence.sensitivity import (  # noqa: E402
    Settings,
    morris_screen,
    numeric_factors,
    run_pipeline,
    sobol_indices,
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


def test_numeric_factors_cover_every_numeric_parameter():
    ranges = numeric_factors()
    assert {"reactive_rate", "protection_years", "austerity_rate", "step_in_cost"} <= set(ranges)
    assert "councils" not in ranges and "commissioning_style" not in ranges
    assert ranges["protection_years"].whole
    base = Scenario()
    for name, r in ranges.items():
        assert r.low <= getattr(base, name) <= r.high, name


def test_pipeline_at_toy_size_writes_tables_and_figures(tmp_path):
    s = Settings({"councils": 10, "years": 11}, replications=2, trajectories=1,
                 noise_seeds=2, sobol_factors=2, sobol_n=4, prim_samples=24)
    run_pipeline(tmp_path, workers=1, settings=s)
    for name in ("morris_S10.csv", "morris_council_spend.csv", "sobol_S10.csv",
                 "prim_trajectory.csv", "morris.png", "sobol_S10.png", "prim_tradeoff.png"):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["morris_top_S10"]) == 2 and "box" in summary["prim"]
