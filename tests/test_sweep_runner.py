"""Running sweeps: identical results on any executor, resuming, damage, failures, shards."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mutualsim import Scenario, simulate
from mutualsim.cli import main
from mutualsim.survival import SurvivalCounts
from mutualsim.sweep import (
    SweepStore,
    load_experiment,
    open_sweep,
    plan_tasks,
    run_sweep,
)
from mutualsim.sweep import tasks as sweep_tasks
from mutualsim.sweep.tasks import Shard

EXPERIMENT = """name = "tiny"
replications = {replications}
seed = 3
block_size = {block_size}
[base_overrides]
councils = 8
years = 8
[design]
kind = "grid"
[factors]
protection_years = [0, 5]
"""


def experiment(tmp_path: Path, replications: int = 12, block_size: int = 4,
               name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(EXPERIMENT.format(replications=replications, block_size=block_size))
    return path


def sweep_in_threads(path: Path, out: Path, **kwargs):
    """The real runner on an in-process executor (lets tests monkeypatch the worker)."""
    with ThreadPoolExecutor(2) as pool:
        return run_sweep(load_experiment(path), SweepStore(out), pool, capacity=3, **kwargs)


def result_files(out: Path) -> dict[str, bytes]:
    """Every result file, by path relative to ``out`` (manifest and log excluded)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def stats(out: Path) -> dict[str, tuple[int, int]]:
    """Inode and mtime of every file: a rewritten file gets a new inode (temp + rename).

    The log and the lock files (which record who holds the folder) are left out."""
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and p.name != "log.jsonl"
            and not p.name.startswith(".lock")}


def test_one_and_two_workers_write_byte_identical_files(tmp_path, capsys):
    path = experiment(tmp_path)
    for workers in ("1", "2"):
        status = main(["sweep", str(path), "--out", str(tmp_path / workers), "--workers",
                       workers, "--quiet"])
        assert status == 0
    one, two = result_files(tmp_path / "1"), result_files(tmp_path / "2")
    assert len(one) == 1 + 2 * 3 * 3  # scenarios.parquet + scenarios x blocks x kinds
    assert one == two
    manifests = [json.loads((tmp_path / w / "manifest.json").read_text()) for w in "12"]
    for m in manifests:
        m.pop("created")
    assert manifests[0] == manifests[1]
    out = capsys.readouterr().out
    assert "S(5)" in out and "6 tasks finished (24 replications)" in out


def test_results_equal_simulate_and_do_not_depend_on_block_size(tmp_path):
    a = experiment(tmp_path, block_size=4, name="a.toml")
    b = experiment(tmp_path, block_size=5, name="b.toml")
    sweep_in_threads(a, tmp_path / "a")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        run_sweep(load_experiment(b), SweepStore(tmp_path / "b"), pool, capacity=4)
    sa, sb = open_sweep(tmp_path / "a"), open_sweep(tmp_path / "b")
    assert sa.manifest["experiment_hash"] != sb.manifest["experiment_hash"]
    assert len(list((tmp_path / "b" / "tasks").rglob("*.done.json"))) == 2 * 3
    for _, row in sa.scenarios.iterrows():
        sid = row["scenario_id"]
        direct = simulate(Scenario(councils=8, years=8,
                                   protection_years=int(row["protection_years"])), 12, seed=3)
        for kind, keys in (("histories", ["replication", "mutual_id"]),
                           ("panel", ["replication", "year"])):
            frames = [getattr(s, kind)(sid).sort_values(keys, ignore_index=True)
                      for s in (sa, sb)]
            pd.testing.assert_frame_equal(frames[0], frames[1])
            assert (frames[0]["scenario_id"] == sid).all()
            pd.testing.assert_frame_equal(frames[0].drop(columns="scenario_id"),
                                          getattr(direct, kind))
        h = direct.spun_out
        expected = SurvivalCounts.from_durations(h["duration_years"].to_numpy(np.int64),
                                                 (~h["censored"]).to_numpy(np.int64))
        assert sa.counts(sid).n == sb.counts(sid).n == len(h)
        assert np.array_equal(sa.counts(sid).events[:len(expected.events)], expected.events)
        assert sa.counts(sid) == sb.counts(sid)
        assert sa.summary()["S(5)"].tolist() == pytest.approx(sb.summary()["S(5)"].tolist())
        assert sa.summary().set_index("scenario_id").loc[sid, "S(5)"] == \
            pytest.approx(direct.survival_at([5])[5])


def test_open_sweep_reader(tmp_path):
    path = experiment(tmp_path)
    report = sweep_in_threads(path, tmp_path / "out")
    assert report.ok and report.finished == 6
    sweep = open_sweep(tmp_path / "out")
    assert sweep.complete and sweep.factors == ("protection_years",)
    assert list(sweep.scenarios["protection_years"]) == [0, 5]
    assert {"scenario_id", "design_index", "councils", "commissioning_style"} <= set(
        sweep.scenarios.columns)
    sid = sweep.scenarios["scenario_id"].iloc[1]
    h = sweep.histories(sid)
    assert set(h["scenario_id"]) == {sid} and str(h["spinout_year"].dtype) == "Int64"
    assert sorted(sweep.histories()["scenario_id"].unique()) == sorted(sweep.scenarios[
        "scenario_id"])
    assert list(sweep.panel(columns=["scenario_id", "year"]).columns) == ["scenario_id", "year"]
    table = sweep.dataset("panel").to_table(columns=["replication"])
    assert table.num_rows == 2 * 12 * 8
    assert set(sweep.tasks["status"]) == {"done"}
    assert list(sweep.design()["protection_years"]) == [0, 5]
    summary = sweep.summary()
    assert list(summary.columns) == ["scenario_id", "protection_years", "replications",
                                     "spinouts", "S(5)", "S(10)", "S(15)"]
    assert summary["replications"].tolist() == [12, 12]
    assert summary["S(10)"].isna().all()  # 8 simulated years: no one is seen for 10
    with pytest.raises(Exception, match="unknown scenario id"):
        sweep.histories("nope")


def test_rerun_skips_finished_tasks_and_changed_experiment_is_refused(tmp_path, capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    before = stats(out)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "0 tasks finished (0 replications)" in capsys.readouterr().out
    assert stats(out) == before
    path.write_text(path.read_text().replace("[0, 5]", "[0, 5, 7]"))
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds a different experiment" in err
    assert stats(out) == before
    assert main(["sweep", str(experiment(tmp_path, replications=16)), "--out", str(out),
                 "--quiet"]) == 2
    assert "replications 12 -> 16" in capsys.readouterr().err


def test_damaged_files_are_detected_and_only_those_tasks_redone(tmp_path):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep_in_threads(path, out)
    original = result_files(out)
    tasks = plan_tasks(load_experiment(path))
    store = SweepStore(out)
    truncated = store.file_path(tasks[1], "histories")
    truncated.write_bytes(truncated.read_bytes()[:100])
    flipped = store.file_path(tasks[4], "panel")  # same size, bytes changed in the middle
    data = bytearray(flipped.read_bytes())
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    data[(4 + footer_start) // 2] ^= 0xFF  # in the column data, not the footer
    flipped.write_bytes(bytes(data))
    marker_gone = store.file_path(tasks[2], "counts")
    marker_gone.unlink()
    (out / "tasks" / tasks[0].scenario_id / ".tmp-r0000000-0000004.panel.parquet.x").write_text(
        "left by a killed run")
    (out / ".tmp-manifest.json.y").write_text("left by a killed run")
    with open(out / "log.jsonl", "ab") as log:
        log.write(b'{"time": "2026-01-01T00:00:00Z", "event": "do')  # a line cut by a kill
    before = stats(out)

    report = sweep_in_threads(path, out)  # the sha256 in each done marker is always checked
    assert report.finished == 3 and report.damaged == 3 and report.already_done == 3
    after = stats(out)
    redone = {(t.scenario_id, t.block) for t in (tasks[1], tasks[2], tasks[4])}
    for name, stat in before.items():
        if name.startswith(".tmp-") or "/.tmp-" in name:
            assert name not in after, f"stale temp file {name} was not removed"
        elif any(sid in name and block in name for sid, block in redone):
            assert after[name] != stat
        else:
            assert after[name] == stat, f"{name} was rewritten"
    damaged = [r for r in store.read_log() if r["event"] == "damaged"]
    assert {r["task"] for r in damaged} == {tasks[1].id, tasks[2].id, tasks[4].id}
    assert "sha256" in next(r["reason"] for r in damaged if r["task"] == tasks[4].id)
    assert result_files(out) == original

    report = sweep_in_threads(path, out, verify=True)  # nothing left to redo
    assert report.finished == 0 and report.damaged == 0 and report.already_done == 6
    assert result_files(out) == original


def test_failing_task_is_recorded_others_finish_and_rerun_retries(tmp_path, monkeypatch,
                                                                   capsys):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    exp = load_experiment(path)
    bad = plan_tasks(exp)[4]
    real = sweep_tasks.run_block

    def flaky(scenario, seed, replications, on_year=None):
        if scenario.protection_years == 5 and replications[0] == bad.start:
            raise FloatingPointError("reserves became NaN")
        return real(scenario, seed, replications, on_year)

    monkeypatch.setattr(sweep_tasks, "run_block", flaky)
    report = sweep_in_threads(path, out)
    assert [f.task_id for f in report.failed] == [bad.id] and report.finished == 5
    assert "FloatingPointError: reserves became NaN" in report.failed[0].error
    error = json.loads(SweepStore(out).error_path(bad).read_text())
    assert "reserves became NaN" in error["error"] and "flaky" in error["traceback"]
    assert [r["task"] for r in SweepStore(out).read_log() if r["event"] == "failed"] == [bad.id]
    sweep = open_sweep(out)
    assert not sweep.complete
    assert sweep.tasks.set_index("task").loc[bad.id, "status"] == "failed"
    assert sweep.summary()["replications"].tolist() == [12, 8]
    before = stats(out)

    monkeypatch.setattr(sweep_tasks, "run_block", real)
    report = sweep_in_threads(path, out)
    assert report.ok and report.finished == 1 and report.already_done == 5
    assert not SweepStore(out).error_path(bad).exists()
    after = stats(out)
    assert all(after[k] == v for k, v in before.items() if bad.block not in k
               or bad.scenario_id not in k)
    assert open_sweep(out).complete


def test_executor_failures_are_recorded_and_cli_exits_1(tmp_path, monkeypatch, capsys):
    from contextlib import contextmanager

    from mutualsim.sweep import cli as sweep_cli
    from mutualsim.sweep import runner
    from mutualsim.sweep.executors import Pool

    real = runner.run_task

    def dying(inp):
        if inp.task.start == 8:
            raise OSError("worker lost")
        return real(inp)

    @contextmanager
    def threads(workers, scheduler, cluster, tasks=None):
        with ThreadPoolExecutor(2) as pool:
            yield Pool(pool, lambda: 2, "2 threads")

    monkeypatch.setattr(runner, "run_task", dying)
    monkeypatch.setattr(sweep_cli, "open_pool", threads)
    path = experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 1
    text = capsys.readouterr().out
    assert "2 tasks failed" in text and "OSError: worker lost" in text
    assert "run the same command again" in text
    monkeypatch.setattr(runner, "run_task", real)
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 0
    assert "2 tasks finished" in capsys.readouterr().out


def test_shards_split_the_tasks_and_together_make_the_full_run(tmp_path, capsys):
    path = experiment(tmp_path)
    full, sharded = tmp_path / "full", tmp_path / "sharded"
    sweep_in_threads(path, full)
    first = sweep_in_threads(path, sharded, shard=Shard(1, 4))
    assert first.tasks == 2 and first.finished == 2
    assert open_sweep(sharded).tasks["status"].tolist().count("done") == 2
    for k in (2, 3):
        sweep_in_threads(path, sharded, shard=Shard(k, 4))
    assert main(["sweep", str(path), "--out", str(sharded), "--shard", "4/4", "--workers", "1",
                 "--quiet"]) == 0
    assert "this shard ran" in capsys.readouterr().out
    assert result_files(full) == result_files(sharded)
    tasks = plan_tasks(load_experiment(path))
    chosen = [t for k in range(1, 5) for t in Shard(k, 4).select(tasks)]
    assert sorted(chosen) == sorted(tasks) and len(set(chosen)) == len(tasks)


def test_parquet_files_are_compact_and_self_describing(tmp_path):
    path = experiment(tmp_path)
    out = tmp_path / "out"
    sweep_in_threads(path, out)
    task = plan_tasks(load_experiment(path))[0]
    store = SweepStore(out)
    meta = pq.read_metadata(store.file_path(task, "histories"))
    assert meta.row_group(0).column(0).compression == "ZSTD"
    marker = json.loads(store.done_path(task).read_text())
    assert marker["files"]["histories"]["size"] == store.file_path(task, "histories").stat(
        ).st_size
    assert marker["start"] == 0 and marker["stop"] == 4
    counts = pq.read_table(store.file_path(task, "counts")).to_pandas()
    assert {"time", "events", "censored", "events_cause_3"} <= set(counts.columns)


class CountingExecutor(ThreadPoolExecutor):
    """Records the most futures ever outstanding at once."""

    def __init__(self) -> None:
        super().__init__(2)
        self.outstanding: set = set()
        self.most = 0

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        self.outstanding = {f for f in self.outstanding if not f.done()} | {future}
        self.most = max(self.most, len(self.outstanding))
        return future


def test_tasks_in_flight_are_bounded(tmp_path):
    path = experiment(tmp_path, replications=40, block_size=2)  # 40 tasks
    with CountingExecutor() as pool:
        report = run_sweep(load_experiment(path), SweepStore(tmp_path / "out"), pool,
                           capacity=3)
    assert report.finished == 40
    assert 1 <= pool.most <= 3
