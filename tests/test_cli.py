"""The run command end to end, and every kind of bad input through the CLI."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mutualsim.cli import main

SMALL = "[run]\ncouncils = 10\nyears = 8\n"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutualsim", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_run_writes_results_and_summary(tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    out = tmp_path / "res"
    proc = run_cli("run", str(scenario), "-n", "5", "--seed", "3", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "still trading after 5 / 10 / 15 years" in proc.stdout
    assert "exits by cause" in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replications"] == 5
    assert manifest["scenario"]["councils"] == 10 and manifest["mutualsim_version"]
    h = pd.read_parquet(out / "histories.parquet")
    p = pd.read_parquet(out / "panel.parquet")
    assert set(h["replication"]) <= set(range(5)) and len(p) == 5 * 8
    for col in ("replication", "mutual_id", "council_id", "origin", "proposal_year",
                "incubation_outcome", "spinout_year", "exit_year", "exit_cause", "censored",
                "duration_years", "parent_income_share"):
        assert col in h.columns
    for col in ("replication", "year", "mutuals_trading", "mean_parent_income_share",
                "social_value", "council_spend", "step_in_cost", "citizen_satisfaction"):
        assert col in p.columns
    assert not [f for f in out.parent.iterdir() if f.name.startswith(".tmp-")]


def test_run_twice_gives_identical_results(tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    for name in ("a", "b"):
        assert main(["run", str(scenario), "-n", "3", "--out", str(tmp_path / name),
                     "--quiet"]) == 0
    for f in ("histories.parquet", "panel.parquet"):
        assert pd.read_parquet(tmp_path / "a" / f).equals(pd.read_parquet(tmp_path / "b" / f))


BAD_SCENARIOS = {
    "unknown key": ("[protection]\nprotection_yrs = 3\n", "protection_yrs"),
    "unknown section": ("[protect]\nprotection_years = 3\n", "[protect]"),
    "negative protection": ("[protection]\nprotection_years = -1\n", "protection_years"),
    "fractional protection": ("[protection]\nprotection_years = 2.5\n", "protection_years"),
    "wrong type": ("[run]\ncouncils = \"many\"\n", "councils"),
    "zero councils": ("[run]\ncouncils = 0\n", "councils"),
    "weights cannot normalise": (
        "[commissioning]\nprice_weight = 0\nquality_weight = 0\nsocial_weight = 0\n"
        "financial_weight = 0\n", "normalised"),
    "negative weight": ("[commissioning]\nprice_weight = -0.2\n", "price_weight"),
    "bad style": ("[commissioning]\ncommissioning_style = \"friendly\"\n",
                  "commissioning_style"),
    "bad bool": ("[council]\nasset_lock = 1\n", "asset_lock"),
    "not toml": ("protection_years = = 3\n", "TOML"),
}


@pytest.mark.parametrize("case", BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys())
def test_bad_scenarios_exit_2_with_one_line_and_write_nothing(tmp_path, case, capsys):
    text, needle = case
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "-n", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and needle in err
    assert "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]


@pytest.mark.parametrize("args,needle", [
    (["run", "--replications", "0"], "--replications"),
    (["run", "--replications", "many"], "--replications"),
    (["run", "--seed", "-4"], "--seed"),
    (["run", "missing.toml"], "missing.toml"),
    (["run", "--bogus"], "--bogus"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, needle):
    proc = run_cli(*args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["run", "-n", "1", "--out", str(target), "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err and target.read_text() == "keep me"


def test_help_explains_every_option():
    proc = run_cli("run", "--help")
    for option in ("--replications", "--seed", "--out", "--quiet", "scenario"):
        assert option in proc.stdout


# ------------------------------------------------------------------ --out never destroys
TINY = ("councils = 2\nyears = 4\nservices_per_council = 2\nreactive_prob = 0.9\n"
        "prep_completion_prob = 1.0\n")  # tiny, and sure to spin out


def test_run_replaces_its_own_previous_result(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "res"
    assert main(["run", str(scenario), "-n", "2", "--seed", "1", "--out", str(out),
                 "--quiet"]) == 0
    first = json.loads((out / "manifest.json").read_text())
    assert first["command"] == "run"
    assert sorted(first["files"]) == ["histories.parquet", "manifest.json", "panel.parquet"]
    assert main(["run", str(scenario), "-n", "3", "--seed", "2", "--out", str(out),
                 "--quiet"]) == 0
    second = json.loads((out / "manifest.json").read_text())
    assert second["seed"] == 2 and second["replications"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.toml"]


def test_run_refuses_a_result_with_a_strangers_file_added(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "res"
    assert main(["run", str(scenario), "-n", "2", "--out", str(out), "--quiet"]) == 0
    (out / "notes.txt").write_text("my notes")
    capsys.readouterr()
    assert main(["run", str(scenario), "-n", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.txt" in err
    assert (out / "notes.txt").read_text() == "my notes"


def test_force_replaces_a_strangers_folder_but_never_an_input(tmp_path, capsys):
    scenario = tmp_path / "in" / "tiny.toml"
    scenario.parent.mkdir()
    scenario.write_text(TINY)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "old.txt").write_text("replace me")
    assert main(["run", str(scenario), "-n", "2", "--out", str(victim), "--quiet"]) == 2
    assert (victim / "old.txt").exists()
    assert main(["run", str(scenario), "-n", "2", "--out", str(victim), "--quiet",
                 "--force"]) == 0
    assert not (victim / "old.txt").exists() and (victim / "histories.parquet").exists()
    capsys.readouterr()
    assert main(["run", str(scenario), "-n", "2", "--out", str(scenario.parent), "--quiet",
                 "--force"]) == 2
    assert "input" in capsys.readouterr().err and scenario.read_text() == TINY


def test_an_old_manifest_without_command_is_still_a_run_result(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "manifest.json").write_text('{"scenario_name": "x", "seed": 0}')
    (out / "histories.parquet").write_bytes(b"old")
    (out / "panel.parquet").write_bytes(b"old")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    assert main(["run", str(scenario), "-n", "2", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "manifest.json").read_text())["command"] == "run"


def test_a_folder_filled_during_the_run_is_not_replaced(tmp_path, monkeypatch, capsys):
    """The check is made again just before the swap, not only before the simulation."""
    simulate_module = importlib.import_module("mutualsim.blocks")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "res"
    real = simulate_module.simulate_blocks

    def simulate_then_user_writes(*args, **kwargs):
        yield from real(*args, **kwargs)
        out.mkdir()
        (out / "draft.md").write_text("written meanwhile")

    monkeypatch.setattr(simulate_module, "simulate_blocks", simulate_then_user_writes)
    assert main(["run", str(scenario), "-n", "2", "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["draft.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res", "tiny.toml"]
