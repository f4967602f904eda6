"""calibrate and sensitivity as citizens of the sweep layer: missing extras, --out rules,
results published whole, resume after an interruption, shipped experiment files."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from processes import sigkill_after

from mutualsim.cli import main
from mutualsim.evidence import calibrate as calibrate_module
from mutualsim.evidence.calibrate import load_calibration_experiment
from mutualsim.evidence.publish import sweeps_root
from mutualsim.shipped import resolve, shipped_dir, shipped_names
from mutualsim.sweep import SweepStore, load_experiment, plan_tasks, run_sweep
from mutualsim.sweep.tasks import Shard

from conftest import TINY_CALIBRATION

REPO = Path(__file__).resolve().parents[1]
TINY = TINY_CALIBRATION



def _prior_stage(exp: Path, out: Path) -> Path:
    """The sweep stage of a calibration's generation 0 (the prior sample)."""
    from mutualsim.evidence.calibrate import load_settings, run_key, stage_name
    experiment = load_calibration_experiment(exp)
    key = run_key(experiment, load_settings(exp, experiment))
    return sweeps_root(out, key) / stage_name(0, 0)


def _status(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit_:
        return int(exit_.code)


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _without(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter in which ``import module`` fails."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from mutualsim.cli import main\n"
            f"raise SystemExit(main({args!r}))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_sensitivity_without_salib_names_the_extra_and_writes_nothing(tmp_path):
    out = tmp_path / "sens"
    done = _without("SALib", ["sensitivity", "--quick", "--out", str(out)], tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'mutualsim[sensitivity]'" in lines[0], lines
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert _listing(tmp_path) == []


def test_cluster_without_dask_names_the_extra_and_writes_nothing(tmp_path):
    exp = _tiny(tmp_path)
    out = tmp_path / "cal"
    done = _without("distributed", ["calibrate", str(exp), "--out", str(out), "--cluster",
                                    "local", "--quiet"], tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'mutualsim[distributed]'" in lines[0], lines
    assert _listing(tmp_path) == ["tiny.toml"]


@pytest.mark.parametrize("command", [["sensitivity", "--quick"], ["calibrate", "TINY"]])
def test_out_holding_a_strangers_file_is_refused_and_untouched(tmp_path, capsys, command):
    exp = _tiny(tmp_path)
    out = tmp_path / "victim"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    args = [str(exp) if a == "TINY" else a for a in command]
    assert _status([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "victim" in err[0] and "not empty" in err[0], err
    assert _listing(tmp_path) == ["tiny.toml", "victim", "victim/thesis.docx"]
    assert (out / "thesis.docx").read_text() == "years of work"


def test_the_experiment_file_inside_out_is_refused(tmp_path, capsys):
    out = tmp_path / "cal"
    out.mkdir()
    exp = _tiny(out)
    assert _status(["calibrate", str(exp), "--out", str(out), "--quiet"]) == 2
    assert "input" in capsys.readouterr().err
    assert _listing(out) == ["tiny.toml"]


def test_another_run_needs_force_and_the_same_run_is_replaced(tmp_path, capsys):
    exp = _tiny(tmp_path)
    out = tmp_path / "cal"
    base = ["calibrate", str(exp), "--out", str(out), "--workers", "1", "--quiet"]
    assert _status([*base, "--particles", "2"]) == 0
    first = json.loads((out / "manifest.json").read_text())
    capsys.readouterr()
    assert _status([*base, "--particles", "3"]) == 2            # a different run: refused
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--force" in err[0], err
    assert json.loads((out / "manifest.json").read_text()) == first
    assert _status([*base, "--particles", "3", "--force"]) == 0
    assert json.loads((out / "manifest.json").read_text())["run"]["settings"]["particles"] == 3
    assert len(pd.read_parquet(out / "posterior.parquet")) == 3
    assert _status([*base, "--particles", "3"]) == 0             # the same run again: fine
    # Never a .tmp-* folder left beside the result.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal", "cal.sweeps", "tiny.toml"]


def test_interrupted_prior_resumes_and_the_result_appears_only_at_the_end(tmp_path, capsys):
    exp = _tiny(tmp_path)
    out = tmp_path / "cal"
    experiment = load_calibration_experiment(exp)
    root = _prior_stage(exp, out)
    tasks = plan_tasks(experiment)
    # A run killed after half its tasks: the prior sweep holds 3 finished tasks, no result.
    with ThreadPoolExecutor(1) as pool:
        run_sweep(experiment, SweepStore(root), pool, shard=Shard(1, 2))
    assert len(list(root.glob("tasks/*/*.done.json"))) == len(tasks) // 2
    assert not out.exists()
    assert _status(["calibrate", str(exp), "--out", str(out), "--workers", "1",
                    "--quiet"]) == 0
    ends = [json.loads(line) for line in (root / "log.jsonl").read_text().splitlines()
            if '"end"' in line]
    assert ends[-1]["finished"] == len(tasks) - len(tasks) // 2   # only the rest was run
    assert (out / "posterior.parquet").is_file()


def test_a_failure_while_writing_the_result_publishes_nothing(tmp_path, capsys, monkeypatch):
    exp = _tiny(tmp_path)
    out = tmp_path / "cal"
    real = calibrate_module.write_parquet_atomic
    calls = []

    def fail_on_second(path, frame):
        calls.append(path)
        if len(calls) == 2:
            raise RuntimeError("killed while writing")
        real(path, frame)

    monkeypatch.setattr(calibrate_module, "write_parquet_atomic", fail_on_second)
    with pytest.raises(RuntimeError):
        main(["calibrate", str(exp), "--out", str(out), "--workers", "1", "--quiet"])
    assert not out.exists()                                   # no half result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.sweeps", "tiny.toml"]
    monkeypatch.setattr(calibrate_module, "write_parquet_atomic", real)
    assert main(["calibrate", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert (out / "prior_outcomes.parquet").is_file() and (out / "manifest.json").is_file()


def test_shipped_experiments_are_the_top_level_files():
    names = sorted(p.stem for p in (REPO / "experiments").glob("*.toml"))
    assert names and shipped_names("experiments") == names
    for name in names:
        assert ((shipped_dir("experiments") / f"{name}.toml").read_bytes()
                == (REPO / "experiments" / f"{name}.toml").read_bytes())
    assert ((shipped_dir("scenarios") / "baseline.toml").read_bytes()
            == (REPO / "scenarios" / "baseline.toml").read_bytes())


def test_documented_experiment_paths_work_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in ("experiments/protection_periods.toml", "protection_periods.toml",
                 "protection_periods"):
        assert resolve(text, "experiments") == shipped_dir("experiments") / \
            "protection_periods.toml"
        experiment = load_experiment(text)                   # its base file resolves too
        assert experiment.base_file is not None and Path(experiment.base_file).is_file()
    assert len(load_calibration_experiment(None).points) == 300   # the default prior sample
    # A file that exists is used as given, and a missing path that names nothing shipped
    # stays missing.
    (tmp_path / "calibration.toml").write_text(TINY)
    assert load_calibration_experiment("calibration.toml").name == "tiny_calibration"
    assert resolve("nowhere/calibration.toml", "experiments") == Path(
        "nowhere/calibration.toml")


def test_calibrate_with_no_arguments_runs_the_shipped_experiment_anywhere(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--samples", "2", "-n", "1", "--workers", "1", "--quiet",
                 "--particles", "1", "--generations", "1"]) == 0
    out = tmp_path / "out" / "calibration" / "calibration"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["prior_points"] == 2
    assert manifest["run"]["experiment_file"] == str(shipped_dir("experiments") /
                                                     "calibration.toml")


@pytest.mark.slow  # a calibration killed half-way, then resumed: worker start-up, ~20 s
def test_sigkilled_calibration_leaves_no_result_and_resumes(tmp_path, capsys):
    exp = tmp_path / "long.toml"
    exp.write_text(TINY.replace("samples = 6", "samples = 30").replace(
        "max_simulations = 12", "max_simulations = 40"))
    out = tmp_path / "cal"
    experiment = load_calibration_experiment(exp)
    root = _prior_stage(exp, out)
    tasks = plan_tasks(experiment)
    command = [sys.executable, "-m", "mutualsim.cli", "calibrate", str(exp), "--out",
               str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    sigkill_after(proc, lambda: len(list(root.glob("tasks/*/*.done.json"))), 4,
                  "calibration")
    done_before = len(list(root.glob("tasks/*/*.done.json")))
    assert 4 <= done_before < len(tasks), "kill came too late to test resuming"
    assert not out.exists()                                   # no half result
    assert main(command[3:]) == 0
    ends = [json.loads(line) for line in (root / "log.jsonl").read_text().splitlines()
            if '"end"' in line]
    assert ends[-1]["finished"] == len(tasks) - done_before   # finished ones are kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["prior_points"] == 30
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())


def test_sensitivity_command_reports_and_refuses_another_run(tmp_path, capsys, monkeypatch):
    from mutualsim.evidence import sensitivity
    tiny = sensitivity.Settings({"councils": 16, "years": 20}, replications=1, trajectories=2,
                                noise_seeds=2, sobol_factors=2, sobol_n=2, prim_samples=12,
                                factors=("reactive_prob", "protection_years", "lots"))
    monkeypatch.setattr(sensitivity.Settings, "quick", classmethod(lambda cls: tiny))
    out = tmp_path / "sens"
    assert main(["sensitivity", "--quick", "--out", str(out), "--workers", "1",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Morris, most influential on S10:" in printed and "PRIM box" in printed
    assert "Morris, most influential on RMST15:" in printed
    assert "Morris, most influential on step_in_cost:" in printed
    assert "missing outputs (never filled in)" in printed and "dropped for them" in printed
    assert f"results in {out}/" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_key"] == tiny.key
    before = _listing(tmp_path)
    # The full settings are another run: refused before any model run, nothing touched.
    assert _status(["sensitivity", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another sensitivity run" in err[0] and "--force" in err[0]
    assert _listing(tmp_path) == before


def test_documented_scenario_paths_work_from_any_folder(tmp_path, monkeypatch):
    from mutualsim import Scenario, load_scenario
    monkeypatch.chdir(tmp_path)
    shipped = load_scenario("scenarios/protection_7.toml")
    assert shipped == load_scenario(REPO / "scenarios" / "protection_7.toml")
    assert shipped.protection_years == 7 and load_scenario("baseline") == Scenario()
    assert main(["run", "scenarios/protection_7.toml", "-n", "1", "--quiet", "--out",
                 str(tmp_path / "p7")]) == 0
    assert (tmp_path / "p7" / "histories.parquet").is_file()


def test_a_calibration_too_big_for_this_machine_is_refused_before_any_work(tmp_path, capsys):
    exp = _tiny(tmp_path)
    out = tmp_path / "cal"
    assert _status(["calibrate", str(exp), "--out", str(out), "-n", "100000000",
                    "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--no-size-check" in err[0], err
    assert _listing(tmp_path) == ["tiny.toml"]
