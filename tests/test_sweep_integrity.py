"""Sweep integrity: one run per folder, damaged files never read, manifests checked."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.sweep import SweepStore, load_experiment, open_sweep, plan_tasks, run_sweep
from mutualsim.sweep.results import DamagedResultsWarning
from mutualsim.sweep.store import MANIFEST_HASH, manifest_digest
from mutualsim.sweep.tasks import Shard

EXPERIMENT = """name = "integrity"
replications = {replications}
seed = 5
block_size = 2
[base_overrides]
councils = 8
years = 8
[design]
kind = "grid"
[factors]
protection_years = [0, 3, 7]
"""


def experiment(tmp_path: Path, replications: int = 4) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(replications=replications))
    return path


def sweep(path: Path, out: Path, **kwargs):
    with ThreadPoolExecutor(2) as pool:
        return run_sweep(load_experiment(path), SweepStore(out), pool, capacity=3, **kwargs)


def cli(path: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", *extra]


def files(out: Path, markers: bool = True) -> dict[str, bytes]:
    """Every file's bytes but the log's and the locks' (and the done markers', which record
    timings, unless ``markers``)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "log.jsonl" and not p.name.startswith(".lock")
            and (markers or not p.name.endswith(".done.json"))}


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------------ the lock
def test_second_sweep_on_a_locked_folder_is_refused_and_touches_nothing(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    before = files(out)
    with SweepStore(out).locked():  # another run holds the folder
        assert main(cli(path, out)) == 2
        err = one_line(capsys.readouterr().err)
        assert "another sweep is running on this folder" in err and str(out) in err
        with pytest.raises(InputError, match="another sweep is running"):
            sweep(path, out)
        with pytest.raises(InputError, match="another sweep is running"):
            sweep(path, out, shard=Shard(1, 2))
    assert files(out) == before
    assert main(cli(path, out)) == 0  # released: the same command now runs


def test_shards_share_the_folder_but_not_a_shard(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    with SweepStore(out).locked(Shard(1, 2)):
        assert sweep(path, out, shard=Shard(2, 2)).finished == 3  # another shard runs
        assert main(cli(path, out, "--shard", "1/2")) == 2
        assert "another sweep is running on this shard" in one_line(capsys.readouterr().err)
        assert main(cli(path, out)) == 2  # a whole run needs the folder to itself
        assert "on this folder" in one_line(capsys.readouterr().err)
    assert main(cli(path, out, "--shard", "1/2")) == 0
    assert open_sweep(out).complete


@pytest.mark.slow  # a real second process: ~5-10 s
def test_concurrent_sweeps_one_runs_the_other_is_refused(tmp_path, capsys):
    path = experiment(tmp_path, replications=16)  # 24 tasks: a few seconds on one worker
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "mutualsim.cli", *cli(path, out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "tasks").glob("*/*.done.json")) if (out / "tasks").is_dir() \
                else True:
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline, "the first sweep made no progress"
            time.sleep(0.01)
        assert main(cli(path, out)) == 2  # while the first one is still working
        assert "another sweep is running" in one_line(capsys.readouterr().err)
        assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stderr.close()
    done = [r["task"] for r in SweepStore(out).read_log() if r["event"] == "done"]
    assert sorted(done) == sorted(t.id for t in plan_tasks(load_experiment(path)))
    assert open_sweep(out).complete
    assert not list(out.rglob(".tmp-*"))


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from mutualsim.sweep import SweepStore\n"
         "with SweepStore(sys.argv[1]).locked():\n    print('held', flush=True)\n"
         "    time.sleep(600)", str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(InputError, match="another sweep"), SweepStore(out).locked():
            pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with SweepStore(out).locked():
        pass


# ------------------------------------------------------------------------ damaged files
def test_same_size_corruption_is_never_read_and_the_next_sweep_redoes_it(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    original = files(out, markers=False)
    truth = open_sweep(out).histories().sort_values(["scenario_id", "replication",
                                                     "mutual_id"], ignore_index=True)
    task = plan_tasks(load_experiment(path))[3]
    victim = SweepStore(out).file_path(task, "histories")
    data = bytearray(victim.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0x5A for b in data[middle:middle + 64])
    victim.write_bytes(bytes(data))  # same size, 64 bytes changed

    with pytest.warns(DamagedResultsWarning, match=task.id):
        opened = open_sweep(out)
        histories = opened.histories()
    assert not opened.complete
    status = opened.tasks.set_index("task")["status"]
    assert status[task.id] == "damaged" and (status.drop(task.id) == "done").all()
    # Every cell read back is right: the damaged task is left out, nothing else.
    expected = truth[~((truth["scenario_id"] == task.scenario_id)
                       & truth["replication"].between(task.start, task.stop - 1))]
    got = histories.sort_values(["scenario_id", "replication", "mutual_id"],
                                ignore_index=True)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    summary = opened.summary().set_index("scenario_id")
    assert summary.loc[task.scenario_id, "replications"] == 4 - task.replications

    assert main(cli(path, out)) == 0
    out_text = capsys.readouterr().out
    assert "1 had damaged files and were redone" in out_text
    assert f"damaged: {task.id}: histories" in out_text.replace(victim.name, "histories")
    assert files(out, markers=False) == original
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert open_sweep(out).complete


def test_damaged_scenarios_file_is_not_read_and_sweep_rewrites_it(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    original = files(out)
    scenarios = out / "scenarios.parquet"
    data = bytearray(scenarios.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    scenarios.write_bytes(bytes(data))
    assert list(open_sweep(out).scenarios["protection_years"]) == [0, 3, 7]
    assert main(["plot", str(out), "--out", str(tmp_path / "plots")]) == 0
    assert main(cli(path, out)) == 0
    assert files(out) == original
    assert [r["file"] for r in SweepStore(out).read_log() if r["event"] == "repaired"] == [
        "scenarios.parquet"]
    scenarios.write_bytes(b"not parquet at all")
    assert main(cli(path, out)) == 0
    assert files(out) == original


# ------------------------------------------------------------------------ the manifest
def edit_manifest(out: Path, change, reseal: bool) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    if reseal:  # an edit that also recomputes the hash: the contents must still agree
        manifest[MANIFEST_HASH] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest, indent=2))


EDITS = {
    "tasks truncated": (lambda m: m.update(tasks=m["tasks"][:2]), "tasks"),
    "seed": (lambda m: m.update(seed=6), "seed"),
    "replications": (lambda m: m.update(replications=2), "replications"),
    "numpy version": (lambda m: m["versions"].update(numpy="1.0.0") if "versions" in m
                      else m.update(numpy_version="1.0.0"), None),
    "unknown factor": (lambda m: m.update(factors=["no_such_factor"]) or m["design"].update(
        factors={"no_such_factor": [0, 3, 7]}), "no_such_factor"),
    "design point": (lambda m: m["design_points"][0]["values"].update(protection_years=1),
                     "design_points"),
}


# Every edit with its hash left stale; and every edit but a version's (which is a valid
# manifest once its hash is recomputed) with the hash recomputed.
CASES = [(edit, reseal) for edit in EDITS for reseal in (False, True)
         if not (reseal and EDITS[edit][1] is None)]


@pytest.mark.parametrize(("edit", "reseal"), CASES,
                         ids=[f"{e}-{'resealed' if r else 'stale hash'}" for e, r in CASES])
def test_edited_manifest_is_refused_in_one_line(tmp_path, capsys, edit, reseal):
    change, named = EDITS[edit]
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    edit_manifest(out, change, reseal)
    before = files(out)
    with pytest.raises(InputError, match="manifest.json") as err:
        open_sweep(out)
    message = str(err.value)
    assert "\n" not in message
    if reseal:
        assert named in message
    else:
        assert "does not match its own sha256" in message
    assert main(cli(path, out)) == 2
    assert "manifest.json" in one_line(capsys.readouterr().err)
    assert main(["plot", str(out), "--out", str(tmp_path / "plots")]) == 2
    assert "manifest.json" in one_line(capsys.readouterr().err)
    assert files(out) == before
    assert not (tmp_path / "plots").exists()


def test_manifest_without_its_hash_is_refused(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    edit_manifest(out, lambda m: m.pop(MANIFEST_HASH), reseal=False)
    assert main(cli(path, out)) == 2
    assert f"has no {MANIFEST_HASH}" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).resolve().parents[1]
                                                         / "experiments").glob("*.toml")))
def test_every_shipped_experiment_manifest_reads_back(tmp_path, name):
    """A manifest as written (sorted keys) is accepted: factor order, designs, overrides."""
    from mutualsim.io import write_json_atomic
    from mutualsim.sweep.store import build_manifest, seal_manifest

    experiments = Path(__file__).resolve().parents[1] / "experiments"
    exp = load_experiment(experiments / name)
    store = SweepStore(tmp_path)
    write_json_atomic(store.manifest_path, seal_manifest(build_manifest(exp)))
    assert store.read_manifest()["experiment_hash"] == exp.hash
    assert store.experiment().hash == exp.hash


def test_factor_order_survives_the_sorted_manifest(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(EXPERIMENT.format(replications=2).replace(
        "[factors]\n", "[factors]\nyears = [6, 8]\n").replace("years = 8\n", ""))
    assert load_experiment(path).factors == ("years", "protection_years")
    out = tmp_path / "out"
    sweep(path, out)
    assert open_sweep(out).factors == ("years", "protection_years")
    assert main(cli(path, out)) == 0
