"""Calibration: distance, targets, and the ABC-SMC calibrate command end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualsim.cli import main
from mutualsim.evidence.calibrate import Target, distance, round_sensibly

TINY = textwrap.dedent("""
    name = "tiny_calibration"
    replications = 3
    seed = 5
    block_size = 3
    [base_overrides]
    councils = 12
    years = 9
    [design]
    kind = "lhs"
    samples = 10
    [factors]
    reactive_prob = { low = 0.02, high = 0.10 }
    prep_completion_prob = { low = 0.2, high = 0.6 }
    [abc]
    particles = 3
    batch = 5
    generations = 3
    max_simulations = 20
    predictive = 3
""")


def test_nan_outcomes_have_no_distance():
    frame = pd.DataFrame({"y": [np.nan, 1.0, 5.0, 0.5]})
    d = distance(frame, [Target("y", 0.0, 1.0, "s")])
    assert np.isnan(d[0]) and d.isna().sum() == 1      # no distance: not "infinitely far"
    assert d[1:].tolist() == [1.0, 25.0, 0.25]


def test_round_sensibly():
    assert round_sensibly(0.066972) == 0.067 and round_sensibly(0.3151) == 0.32
    assert round_sensibly(2.6, whole=True) == 3


def test_calibrate_end_to_end_and_resumes(tmp_path, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    out = tmp_path / "cal"
    args = ["calibrate", str(exp), "--out", str(out), "--workers", "1", "--quiet"]
    assert main(args) == 0
    posterior = pd.read_parquet(out / "posterior.parquet")
    # 3 particles, or at least 2 if the budget cut the last generation (kept if half full)
    assert 2 <= len(posterior) <= 3
    assert {"reactive_prob", "distance", "S5", "weight"} <= set(posterior)
    # The package-posterior format: calibrated factors + a non-negative weight column.
    table = pd.read_csv(out / "posterior.csv")
    assert list(table.columns) == ["reactive_prob", "prep_completion_prob", "weight"]
    assert (table["weight"] >= 0).all() and table["weight"].sum() == pytest.approx(1, abs=1e-5)
    assert table["reactive_prob"].between(0.02, 0.10).all()
    for name in ("posterior_summary.csv", "calibrated.csv", "generations.csv",
                 "identification.csv", "predictive_checks.csv", "predictive_checks.png",
                 "report.md", "simulations.parquet", "prior_outcomes.parquet"):
        assert (out / name).is_file(), name
    checks = pd.read_csv(out / "predictive_checks.csv", index_col="target")
    assert set(checks.index) == {"trading_2012", "councils_exploring_2012", "trading_2010",
                                 "S5"}
    assert (checks["q05"] <= checks["median"]).all() and (checks["median"] <=
                                                         checks["q95"]).all()
    # every particle x 3 fresh replications
    assert (checks["worlds"] + checks["missing"] == len(posterior) * 3).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "calibrate" and manifest["run"]["dropped_missing"] == 0
    assert manifest["run"]["simulations"] <= 20
    sweep = Path(manifest["run"]["sweep"])
    assert sweep.parent == tmp_path / "cal.sweeps"
    stages = sorted(p.name for p in sweep.iterdir())
    assert stages[0] == "g00b00" and stages[-1].startswith("predictive-g")
    capsys.readouterr()
    assert main(args) == 0                          # resumes: every task already done
    for stage in stages:
        ends = [json.loads(line) for line in (sweep / stage / "log.jsonl").read_text()
                .splitlines() if '"end"' in line]
        assert ends[-1]["finished"] == 0, stage
    assert pd.read_parquet(out / "posterior.parquet").equals(posterior)


def _status(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_:  # argparse errors
        return int(exit_.code)


@pytest.mark.parametrize("extra, toml", [
    (["--samples", "0"], TINY),
    ([], "not = [valid"),
    ([], TINY.replace('kind = "lhs"\nsamples = 10', 'kind = "grid"').replace(
        "{ low = 0.02, high = 0.10 }", "[0.02, 0.1]").replace(
        "{ low = 0.2, high = 0.6 }", "[0.2]")),
    ([], TINY.replace("reactive_prob", "no_such_parameter")),
    (["--particles", "0"], TINY),
    (["--particles", "50"], TINY),                         # more than the prior sample
    ([], TINY.replace("particles = 3", "particles = 3\n    tolerance = 2")),
    ([], TINY.replace("batch = 5", "batch = 0")),
    ([], TINY.replace("[factors]", "[factors]\n    private_bidders = { low = 4, high = 9 }")),
])
def test_bad_input_is_one_line_status_2_nothing_written(tmp_path, capsys, extra, toml):
    exp = tmp_path / "bad.toml"
    exp.write_text(toml)
    out = tmp_path / "out"
    assert _status(["calibrate", str(exp), "--out", str(out), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_sensitivity_out_is_a_file_is_status_2(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert _status(["sensitivity", "--quick", "--out", str(f)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_bound_counts_only_on_its_wrong_side():
    frame = pd.DataFrame({"s": [0.40, 0.561, 0.90, np.nan]})
    d = distance(frame, [Target("s", 0.561, 0.05, "ONS", side="at_least")])
    assert d[0] == pytest.approx(((0.40 - 0.561) / 0.05) ** 2)
    assert d[1] == 0 and d[2] == 0 and np.isnan(d[3])
    d = distance(frame, [Target("s", 0.561, 0.05, "x", side="at_most")])
    assert d[0] == 0 and d[2] == pytest.approx(((0.90 - 0.561) / 0.05) ** 2)
    with pytest.raises(ValueError):
        Target("s", 1.0, 1.0, "x", side="roughly")


def test_shipped_targets_are_the_documented_pre_2014_figures():
    from mutualsim.evidence.calibrate import TARGETS, load_targets
    shipped = load_targets(None)
    assert shipped == TARGETS
    assert {t.outcome: (t.value, t.side) for t in shipped} == {
        "trading_2012": (19.0, "both"), "councils_exploring_2012": (75.0, "both"),
        "trading_2010": (2.6, "both"), "S5": (0.561, "at_least")}
    # The evidence rule: every source is dated up to 2013 (seed 004 Feb 2013, ONS Dec 2013).
    assert all("2013" in t.source for t in shipped)
    assert not any(year in t.source for t in shipped for year in ("2016", "2018", "2019"))


@pytest.mark.parametrize("targets, message", [
    ("[targets.nonsense]\nvalue = 1\nscale = 1\nsource = 'x'", "unknown outcome"),
    ("[targets.S5]\nvalue = 'high'\nscale = 1\nsource = 'x'", "targets.S5.value must be"),
    ("[targets.S5]\nvalue = 0.5\nscale = 0\nsource = 'x'", "scale must be > 0"),
    ("[targets.S5]\nvalue = 0.5\nscale = 1", "source must name"),
    ("[targets.S5]\nvalue = 0.5\nscale = 1\nsource = 'x'\nside = 'up'", "side must be"),
    ("[targets.S5]\nvalue = 0.5\nscale = 1\nsource = 'x'\nweight = 2", "unknown key"),
])
def test_bad_targets_get_one_line_naming_the_key(tmp_path, capsys, targets, message):
    path = tmp_path / "cal.toml"
    path.write_text(TINY + targets + "\n")
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_file_targets_replace_the_default_ones_and_enter_the_run_key(tmp_path):
    from mutualsim.evidence.calibrate import (
        TARGETS,
        load_calibration_experiment,
        load_settings,
        load_targets,
        run_key,
    )
    path = tmp_path / "cal.toml"
    path.write_text(TINY + "[targets.trading_2012]\nvalue = 5\nscale = 2\nsource = 'mine'\n")
    targets = load_targets(path)
    assert targets == (Target("trading_2012", 5.0, 2.0, "mine"),)
    experiment = load_calibration_experiment(path)      # the [targets] table is not a factor
    settings = load_settings(path, experiment)
    assert run_key(experiment, settings, targets) != run_key(experiment, settings, TARGETS)
    other = load_settings(path, experiment, particles=2)
    assert run_key(experiment, other, targets) != run_key(experiment, settings, targets)


def test_weighted_summary_and_predictive_checks():
    from mutualsim.evidence.calibrate import predictive_checks, summarise
    post = pd.DataFrame({"a": [0.0, 1.0], "weight": [0.9, 0.1]})
    s = summarise(post, ["a"])
    assert s.loc["a", "mean"] == pytest.approx(0.1)      # unweighted it would be 0.5
    assert s.loc["a", "median"] < 0.2
    ppd = pd.DataFrame({"y": [10.0, 20.0, 30.0, np.nan], "weight": [0.25, 0.5, 0.25, 0.0]})
    checks = predictive_checks(ppd, [Target("y", 19.0, 3.0, "s"),
                                     Target("y", 15.0, 3.0, "s", side="at_least")])
    two, bound = checks.iloc[0], checks.iloc[1]
    assert two["worlds"] == 3 and two["missing"] == 1     # the NaN world is counted, not used
    assert two["p_below"] == pytest.approx(0.25) and two["verdict"] == "inside 5-95%"
    assert bound["verdict"] == "bound met in 75% of worlds"
    far = predictive_checks(ppd, [Target("y", 50.0, 3.0, "s")]).iloc[0]
    assert far["verdict"] == "outside 5-95%" and far["p_below"] == pytest.approx(1.0)
