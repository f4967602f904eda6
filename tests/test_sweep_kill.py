"""A sweep killed with SIGKILL half-way resumes: nothing finished is redone, results equal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from processes import alive, command_line, descendants, sigkill_after, wait_gone

from mutualsim.cli import main
from mutualsim.sweep import SweepStore, load_experiment, plan_tasks, run_sweep

# 3 scenarios x 15 tasks of 2 replications: long enough (seconds) to kill in the middle.
EXPERIMENT = """name = "killed"
replications = 30
seed = 11
block_size = 2
[base_overrides]
councils = 8
years = 8
[design]
kind = "grid"
[factors]
protection_years = [0, 3, 7]
"""


def sweep_command(path: Path, out: Path, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "mutualsim.cli", "sweep", str(path), "--out", str(out),
            "--workers", str(workers), "--quiet"]


def finished(out: Path) -> list[Path]:
    return sorted((out / "tasks").glob("*/*.done.json")) if (out / "tasks").is_dir() else []


def stat_of(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


@pytest.mark.slow  # two sweeps with worker start-up: ~10-20 s
def test_sigkill_then_rerun_resumes_without_recomputing(tmp_path, capsys):
    path = tmp_path / "killed.toml"
    path.write_text(EXPERIMENT)
    tasks = plan_tasks(load_experiment(path))
    out = tmp_path / "out"
    proc = subprocess.Popen(sweep_command(path, out), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    sigkill_after(proc, lambda: len(finished(out)), 4, "sweep")
    assert proc.returncode == -signal.SIGKILL
    store = SweepStore(out)
    done_before = [t for t in tasks if store.done_path(t).exists()]
    assert 4 <= len(done_before) < len(tasks), "kill came too late to test resuming"
    before = {}
    for t in done_before:
        for p in (store.done_path(t), *(store.file_path(t, k) for k in
                                        ("histories", "panel", "counts"))):
            before[p] = stat_of(p)
    (store.task_dir(tasks[-1])).mkdir(parents=True, exist_ok=True)
    stale = store.task_dir(tasks[-1]) / f".tmp-{tasks[-1].block}.histories.parquet.abc"
    stale.write_bytes(b"half a file")

    assert main(sweep_command(path, out)[3:]) == 0
    assert f"{len(done_before)} were already done" in capsys.readouterr().out
    assert not stale.exists()
    assert all(stat_of(p) == s for p, s in before.items()), "a finished task was redone"
    assert all(store.task_state(t, load_experiment(path).hash) == "done" for t in tasks)
    done_events = [r["task"] for r in store.read_log() if r["event"] == "done"]
    # each task's result was written once (a task done just as the kill came may miss
    # its log line, never have two)
    assert len(done_events) == len(set(done_events)) >= len(tasks) - 1
    assert not list(out.rglob(".tmp-*"))

    fresh = tmp_path / "fresh"  # uninterrupted, on another executor
    with ThreadPoolExecutor(2) as pool:
        assert run_sweep(load_experiment(path), SweepStore(fresh), pool).ok
    resumed_files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.parquet")}
    fresh_files = {p.relative_to(fresh): p.read_bytes() for p in fresh.rglob("*.parquet")}
    assert len(resumed_files) == 1 + 3 * len(tasks)
    assert resumed_files == fresh_files


@pytest.mark.slow  # worker start-up: ~5 s
def test_sigkill_of_the_driver_leaves_no_worker_running(tmp_path):
    path = tmp_path / "killed.toml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "out"
    proc = subprocess.Popen(sweep_command(path, out, workers=2), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(finished(out)) < 2 or len(children) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep made no progress"
            children = descendants(proc.pid)
            time.sleep(0.01)
        workers = [p for p in children if "multiprocessing" in command_line(p)]
        assert len(workers) >= 2, [command_line(p) for p in children]  # workers + tracker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Every worker and the resource tracker notice their driver is gone and end.
        left = wait_gone(children, timeout=5.0)
        assert left == [], [command_line(p) for p in left]
    finally:
        for pid in children:  # only if the test failed: leave nothing behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
