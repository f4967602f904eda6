"""Morris and Sobol on known test functions, and the sensitivity pipeline at toy size."""

from __future__ import annotations

import dataclasses
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
    morris_stability,
    numeric_factors,
    plan_morris,
    run_pipeline,
    sample_sizes,
    scenario_values,
    sobol_convergence,
    sobol_indices,
    sobol_sample,
    sobol_table,
    top_factors,
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
    # At 13 years few spin-outs have 10 or 15 years of follow-up: S10 and RMST15 are
    # missing at some or all points. Whatever the model gives, the counts must match the
    # points, an outcome missing in every trajectory is reported as not analysable (no
    # table), and the others are analysed on their complete trajectories only.
    s = Settings({"councils": 10, "years": 13}, replications=2, trajectories=3,
                 noise_seeds=2, sobol_factors=2, sobol_n=4, prim_samples=24,
                 factors=("reactive_prob", "protection_years", "incubation_years",
                          "contract_years", "initial_price", "private_unit_cost",
                          "step_in_cost"))   # a parameter with an outcome's name
    out = tmp_path / "sens"
    result = run_pipeline(out, workers=1, settings=s)
    for name in ("morris_council_spend.csv", "morris_step_in_cost.csv", "prim_trajectory.csv",
                 "morris.png", "prim_tradeoff.png", "morris_points.parquet", "prim_data.csv",
                 "morris_stability.csv", "morris_stability.png", "sobol_step_in_cost.csv",
                 "sobol_convergence_council_spend.csv", "sobol_convergence_council_spend.png",
                 "tables.md", "manifest.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["sobol_factors"]) == 2 and "box" in summary["prim"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "sensitivity" and manifest["run_key"] == s.key
    # Missing outputs are counted next to the result, in the tables and the summary.
    missing = summary["missing_outputs"]
    points = pd.read_parquet(out / "morris_points.parquet")
    assert missing["morris_points"] == len(points) == 3 * 8
    assert list(points.columns[:2]) == ["x_reactive_prob", "x_protection_years"]
    assert points[["S10", "RMST15"]].isna().any().all()        # the missing path is used
    for c in ("S10", "RMST15", "council_spend", "step_in_cost"):
        gaps = points[c].isna().to_numpy()
        bad = int(gaps.reshape(3, 8).any(axis=1).sum())
        assert missing["morris_missing_points"][c] == int(gaps.sum()), c
        assert missing["morris_dropped_trajectories"][c] == bad, c
        if bad == 3:
            assert c in missing["not_analysable"]["morris"]
            assert not (out / f"morris_{c}.csv").exists()
        else:
            table = pd.read_csv(out / f"morris_{c}.csv", index_col="name")
            assert (table["dropped_trajectories"] == bad).all()
            assert (table["trajectories"] == 3 - bad).all()
    sobol_points = missing["sobol_points"]
    assert sobol_points == 4 * (2 + 2)
    for c, n in missing["sobol_missing_points"].items():
        assert 0 <= n <= sobol_points
        assert (c in missing["not_analysable"]["sobol"]) == (
            missing["sobol_dropped_base_samples"][c] == 4)
    morris = pd.read_csv(out / "morris_council_spend.csv", index_col="name")
    tables = (out / "tables.md").read_text()
    assert (f"| S10 | {missing['morris_missing_points']['S10']} of 24 | "
            f"{missing['morris_dropped_trajectories']['S10']} of 3 |") in tables
    assert "| rank | parameter | mu* (+- 95% CI) | sigma |" in tables
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
    assert pd.read_csv(out / "morris_council_spend.csv", index_col="name").equals(morris)


ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}     # analytic (a = 7, b = 0.1)
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def _ishigami():
    from SALib.test_functions import Ishigami
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    return problem, Ishigami.evaluate


def test_sobol_convergence_on_ishigami_approaches_the_analytic_indices():
    problem, f = _ishigami()
    y = f(sobol_sample(problem, 4096, seed=5))
    sizes = sample_sizes(4096, smallest=64)
    assert sizes == [64, 128, 256, 512, 1024, 2048, 4096]
    conv = sobol_convergence(problem, y, sizes, seed=5)
    assert len(conv) == 3 * len(sizes)
    last = conv[conv["n"] == 4096].set_index("name")
    # Tolerance 0.03 at N = 4096 (SALib's own CIs there are about 0.02-0.04 wide).
    for name in problem["names"]:
        assert last.loc[name, "S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.03)
        assert last.loc[name, "ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.03)
    # The CIs narrow with N, and the error at N = 4096 is below the error at N = 64.
    first = conv[conv["n"] == 64].set_index("name")
    assert (last["ST_conf"] < first["ST_conf"]).all()
    err = {n: sum(abs(conv[(conv["n"] == n) & (conv["name"] == k)]["ST"].iloc[0] - v)
                  for k, v in ISHIGAMI_ST.items()) for n in (64, 4096)}
    assert err[4096] < err[64]


def test_a_convergence_prefix_is_the_design_of_the_smaller_sample():
    # The first N base samples of a Saltelli design of 4N are the design SALib draws for N,
    # so a convergence point costs no extra model run and equals a fresh analysis.
    problem, f = _ishigami()
    big, small = sobol_sample(problem, 512, seed=3), sobol_sample(problem, 128, seed=3)
    assert np.array_equal(big[: len(small)], small)
    conv = sobol_convergence(problem, f(big), [128], seed=3).set_index("name")
    fresh = sobol_table(problem, f(small), seed=3)
    assert np.allclose(conv[["S1", "ST", "S1_conf", "ST_conf"]],
                       fresh[["S1", "ST", "S1_conf", "ST_conf"]])


def test_sobol_convergence_counts_missing_blocks_per_sample_size():
    problem, f = _ishigami()
    y = f(sobol_sample(problem, 64, seed=1))
    y[[0, 5 * 20]] = np.nan                         # base samples 0 and 20 (5 rows each)
    conv = sobol_convergence(problem, y, [16, 64], seed=1)
    dropped = conv.groupby("n")["dropped_base_samples"].first()
    assert dropped.to_dict() == {16: 1, 64: 2}
    assert (conv.groupby("n")["base_samples"].first() == pd.Series({16: 15, 64: 62})).all()
    all_missing = np.full_like(y, np.nan)
    empty = sobol_convergence(problem, all_missing, [16], seed=1)   # counted, not imputed
    assert empty["S1"].isna().all() and (empty["dropped_base_samples"] == 16).all()


def test_morris_ranking_stability_against_trajectories():
    problem = {"num_vars": 6, "names": list("abcdef"), "bounds": [[0.0, 1.0]] * 6}
    from SALib.sample import morris
    x = morris.sample(problem, 20, num_levels=4, seed=4)
    y = 8 * x[:, 0] + 4 * x[:, 1] + 2 * x[:, 2] + x[:, 3] + 0.5 * x[:, 4]
    table = morris_stability(problem, x, y, seed=4, top=3)
    assert table["trajectories"].tolist() == list(range(2, 21))
    assert table["prefix_spearman"].iloc[-1] == pytest.approx(1.0)   # all vs all
    assert table["split_spearman"].notna().sum() == 9                 # r = 2..10
    # A linear function: every trajectory ranks the factors the same way.
    assert (table["split_top"].dropna() == 1.0).all()
    assert (table["prefix_spearman"] > 0.99).all()
    # A trajectory with a missing output is dropped from every subset that holds it.
    y[3] = np.nan
    with_gap = morris_stability(problem, x, y, seed=4, top=3)
    assert with_gap["prefix_spearman"].notna().all()


def test_top_factors_pools_outcomes_on_their_own_scale():
    a = pd.DataFrame({"mu_star": [10.0, 5.0, 1.0, 0.0]}, index=list("pqrs"))
    b = pd.DataFrame({"mu_star": [0.001, 0.0, 0.0, 0.004]}, index=list("pqrs"))
    # s leads outcome b (scaled 1.0), p leads a: both come before q (0.5 of a's top).
    assert top_factors({"a": a, "b": b}, 3) == ["p", "s", "q"]


def test_screening_an_unknown_or_structural_parameter_is_refused_before_any_work(tmp_path):
    s = dataclasses.replace(Settings.quick(), factors=("councils",))
    out = tmp_path / "sens"
    with pytest.raises(InputError, match="'councils' is not a numeric parameter"):
        run_pipeline(out, workers=1, settings=s)
    assert list(tmp_path.iterdir()) == []


def test_stability_table_marks_a_size_without_two_complete_sets_as_missing():
    from mutualsim.evidence.sensitivity_tables import stability_markdown
    nan = np.nan
    frame = pd.DataFrame({"trajectories": [2, 3, 4, 2, 3, 4], "prefix_spearman": 0.5,
                          "prefix_top": 0.5, "split_spearman": [0.1, 0.2, nan, 0.3, nan, nan],
                          "split_top": [0.1, 0.2, nan, 0.3, nan, nan],
                          "outcome": ["a"] * 3 + ["b"] * 3})
    text = stability_markdown(frame)
    assert "| a | 0.10 / 0.1 | 0.20 / 0.2 |" in text and "| b | 0.30 / 0.3 | n/a |" in text
