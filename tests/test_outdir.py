"""Output folders (replace only our own results, in one step, recoverably) and the size
guard (refuse in milliseconds what cannot fit)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mutualsim import guard
from mutualsim.errors import InputError
from mutualsim.io import atomic_directory, check_out
from mutualsim.outdir import exchange, recover, result_command
from mutualsim.params import Scenario


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------ atomic replace
def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("A")
    (b / "x").write_text("B")
    if not exchange(a, b):
        pytest.skip("this filesystem or platform has no renameat2(RENAME_EXCHANGE)")
    assert (a / "x").read_text() == "B" and (b / "x").read_text() == "A"


def test_replace_keeps_the_old_result_until_the_new_one_is_complete(tmp_path):
    final = tmp_path / "res"
    with atomic_directory(final, command="run") as work:
        (work / "histories.parquet").write_text("one")
    with pytest.raises(RuntimeError), atomic_directory(final, command="run") as work:
        (work / "histories.parquet").write_text("two")
        raise RuntimeError("killed half way")
    assert (final / "histories.parquet").read_text() == "one"
    with atomic_directory(final, command="run") as work:
        (work / "histories.parquet").write_text("two")
    assert (final / "histories.parquet").read_text() == "two"
    assert json.loads((final / "manifest.json").read_text())["files"] == [
        "histories.parquet", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


KILL_BETWEEN_RENAMES = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from mutualsim import outdir
    outdir.exchange = lambda a, b: False          # the two-rename fallback
    real_rename = os.rename
    calls = []
    def rename(src, dst):
        real_rename(src, dst)
        calls.append(dst)
        if len(calls) == 1:                       # the old result is set aside: die now
            os.kill(os.getpid(), signal.SIGKILL)
    os.rename = rename
    with outdir.atomic_directory(Path(sys.argv[1]), command="run") as work:
        (work / "histories.parquet").write_text("new")
""")


def test_a_kill_between_the_two_renames_is_recovered_by_the_next_run(tmp_path):
    final = tmp_path / "res"
    with atomic_directory(final, command="run") as work:
        (work / "histories.parquet").write_text("old")
    proc = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES, str(final)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not final.exists()  # the window the fallback has: no DIR at all
    assert any(p.name.endswith(".old") for p in tmp_path.iterdir())
    # The next run into the same folder puts the previous result back, then replaces it.
    assert check_out(final, "run") == final
    recover(final)
    assert (final / "histories.parquet").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_leftovers_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    final = tmp_path / "res"
    dead = _dead_pid()
    (tmp_path / f".tmp-res.{dead}.123").mkdir()
    (tmp_path / f".tmp-res.{dead}.123" / "histories.parquet").write_text("half")
    (tmp_path / f".tmp-res.{os.getppid()}.456").mkdir()      # a live process's work
    (tmp_path / ".tmp-notes").write_text("not ours: another prefix")
    (tmp_path / "res-notes.txt").write_text("not ours")
    with atomic_directory(final, command="run") as work:
        (work / "histories.parquet").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".tmp-notes", f".tmp-res.{os.getppid()}.456", "res", "res-notes.txt"])
    old = time.time() - 2 * 24 * 3600   # a day-old leftover goes whatever its pid
    os.utime(tmp_path / f".tmp-res.{os.getppid()}.456", (old, old))
    recover(final)
    assert not (tmp_path / f".tmp-res.{os.getppid()}.456").exists()


# ------------------------------------------------------------------ which folder is whose
def test_result_command_reads_the_manifest_and_the_files(tmp_path):
    res = tmp_path / "res"
    with atomic_directory(res, command="compare", manifest={"factor": "x"}) as work:
        (work / "table.csv").write_text("a")
    assert result_command(res) == "compare"
    check_out(res, "compare")
    with pytest.raises(InputError, match="'compare' result, not a 'run'"):
        check_out(res, "run")
    (res / "extra.txt").write_text("user's")
    assert result_command(res) is None
    with pytest.raises(InputError, match="extra.txt"):
        check_out(res, "compare")


def test_check_out_refuses_inputs_and_places_above_us(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "x.toml").write_text("")
    for bad, needle in [(".", "current folder"), ("..", "current folder"),
                        (str(tmp_path), "current folder"), ("/", "current folder"),
                        (str(Path.home()), "home"), ("sc", "input"),
                        ("sc/x.toml", "input")]:
        with pytest.raises(InputError, match=needle):
            check_out(bad, "run", inputs=["sc/x.toml"], force=True)
    with pytest.raises(InputError, match="inside this command's input"):
        check_out("sc/plots", "plot", inputs=["sc"])
    assert os.listdir(tmp_path / "sc") == ["x.toml"]


# ------------------------------------------------------------------ the size guard
BIG = Scenario(councils=2000, services_per_council=20, citizens_per_council=100,
               private_bidders=100, lots=10, years=100)


def test_size_guard_refuses_what_cannot_fit_naming_estimate_and_flag():
    eight_gb = 8 * 2**30
    with pytest.raises(InputError, match=r"needs about [\d.,]+ [GT]B of memory.*"
                                         "--no-size-check"):
        guard.check_estimate(guard.estimate_run(Scenario(), 100_000_000, 256), "run",
                             memory_total=eight_gb, disk_free=10**15)
    with pytest.raises(InputError, match="memory"):
        guard.check_estimate(guard.estimate_run(BIG, 1000, 256), "run",
                             memory_total=eight_gb, disk_free=10**15)
    with pytest.raises(InputError, match="free on the disk"):
        guard.check_estimate(guard.estimate_run(Scenario(), 10_000, 256, streaming=True),
                             "run", memory_total=eight_gb, disk_free=10**6)
    with pytest.raises(InputError, match="of computing"):
        guard.check_estimate(guard.estimate_run(Scenario(), 10**9, 256, streaming=True),
                             "run", memory_total=eight_gb, disk_free=10**18)
    # The override lets it through; an ordinary run fits a small machine.
    guard.check_estimate(guard.estimate_run(BIG, 1000, 256), "run", memory_total=eight_gb,
                         disk_free=10**15, override=True)
    guard.check_estimate(guard.estimate_run(Scenario(), 1000, 256), "run",
                         memory_total=eight_gb, disk_free=10**10)
    with pytest.raises(InputError, match="1,000,000 is more than"):
        guard.check_count(10**6, guard.MAX_DESIGN_POINTS, "design points", "x.toml")


def test_streaming_memory_is_one_block_whatever_the_replications():
    small = guard.estimate_run(Scenario(), 1_000, 256, streaming=True)
    huge = guard.estimate_run(Scenario(), 10**8, 256, streaming=True)
    assert small.memory == huge.memory
    assert huge.disk == pytest.approx(small.disk * 10**5)
    kept = guard.estimate_run(Scenario(), 10**5, 256)
    assert kept.memory > small.memory + 10**5 * guard.retained_bytes(Scenario()) * 0.99


def test_block_estimate_covers_what_a_block_really_allocates():
    """The per-block memory model against tracemalloc on a real (small) block."""
    import tracemalloc

    import numpy as np

    from mutualsim.simulate import histories_frame, panel_frame, run_block

    sc = Scenario(councils=20, years=6, private_bidders=10, lots=2)
    run_block(sc, 0, np.arange(2))  # imports and caches outside the measurement
    tracemalloc.start()
    block = run_block(sc, 0, np.arange(16))
    histories_frame(block, sc), panel_frame(block, sc)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    estimate = 16 * guard.replication_bytes(sc)
    assert peak <= estimate, (peak, estimate)
    assert estimate <= 20 * peak, (peak, estimate)  # a guard, not a wild guess


def test_run_estimate_covers_the_blocks_the_pipeline_holds_at_once():
    """run and compare stream blocks through simulate_blocks, which prepares one block and
    tabulates another while a third runs: the estimate must cover that peak (one block's
    estimate did not: the peak measured 1.57 times it)."""
    import tracemalloc

    from mutualsim.simulate import histories_frame, panel_frame, simulate_blocks

    sc = Scenario(councils=20, years=6, private_bidders=10, lots=2)
    list(simulate_blocks(sc, 4, 0, block_size=2))  # imports and caches outside
    tracemalloc.start()
    for block in simulate_blocks(sc, 96, 0, block_size=16, threads=2):
        histories_frame(block, sc), panel_frame(block, sc)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    estimate = guard.estimate_run(sc, 96, 16, streaming=True).memory - guard.DRIVER_BASE_BYTES
    assert peak <= estimate, (peak, estimate)
    assert estimate <= 20 * peak, (peak, estimate)
    # Fewer replications than three blocks hold only what they make.
    assert guard.estimate_run(sc, 16, 16, streaming=True).memory == pytest.approx(
        guard.DRIVER_BASE_BYTES + 16 * guard.replication_bytes(sc))


def test_workers_are_capped_at_the_cores_unless_overridden():
    assert guard.worker_count(None, available=2) == (2, None)
    assert guard.worker_count(1, available=2) == (1, None)
    n, note = guard.worker_count(1000, available=2)
    assert n == 2 and "--workers 1000" in note and "--no-size-check" in note
    assert guard.worker_count(1000, override=True, available=2) == (1000, None)


def test_sweep_starts_no_more_workers_than_cores(tmp_path, monkeypatch, capsys):
    import contextlib

    import mutualsim.sweep.cli as sweep_cli
    from mutualsim.cli import main

    started = []

    @contextlib.contextmanager
    def fake_pool(workers, scheduler=None, cluster=None, **kwargs):
        started.append(workers)
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(sweep_cli, "open_pool", fake_pool)
    (tmp_path / "x.toml").write_text(
        "replications = 2\nseed = 1\n[base_overrides]\ncouncils = 1\nyears = 3\n"
        "[design]\nkind = \"grid\"\n[factors]\nreactive_prob = [0.0, 0.9]\n")
    status = main(["sweep", str(tmp_path / "x.toml"), "--out", str(tmp_path / "o"),
                   "--workers", "1000"])
    assert status == 130 and started == [guard.cores()]
    assert "--workers 1000" in capsys.readouterr().err


def test_a_sweep_folder_holding_only_its_lock_can_be_resumed(tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / ".lock").write_text("host:1 2026-01-01T00:00:00Z\n")
    (out / ".lock-shard-1-of-2").write_text("")
    assert check_out(out, "sweep", resumable=True) == out
    with pytest.raises(InputError, match="not empty"):
        check_out(out, "run")
