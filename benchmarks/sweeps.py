"""Sweeps: peak memory as replications grow, and 2 workers against 1.

Uses ``mutualsim sweep`` in a subprocess when the command exists and works; otherwise the
fallback in :mod:`benchmarks.blocksweep` (``simulate`` in blocks of 1,000 written to Parquet,
a ``ProcessPoolExecutor`` over blocks for workers). The report says which one ran.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from mutualsim import Scenario

from . import ROOT
from .common import Plan, Section, Target
from .processes import ProcessRun, run_measured

CLI = "from mutualsim.cli import main; raise SystemExit(main())"
GIB = 2**30
MIB = 2**20
WORKER_REPEATS = 3


def overrides_of(scenario: Scenario) -> dict:
    """The fields that differ from the baseline (what an experiment file would list)."""
    base = Scenario().to_dict()
    return {k: v for k, v in scenario.to_dict().items() if base[k] != v}


def sweep_command_works() -> bool:
    try:
        done = subprocess.run([sys.executable, "-c", CLI, "sweep", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def experiment_toml(scenario: Scenario, replications: int, block: int) -> str:
    lines = ['name = "benchmark"', "seed = 0", f"replications = {replications}",
             f"block_size = {block}", "", "[base_overrides]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in overrides_of(scenario).items()]
    lines += ["", "[design]", 'kind = "grid"', "", "[factors]",
              f"protection_years = [{scenario.protection_years}]", ""]
    return "\n".join(lines)


def run_sweep(plan: Plan, replications: int, workers: int, use_command: bool
              ) -> tuple[ProcessRun, str]:
    """One sweep in a fresh folder; returns the measurement and which method ran."""
    sc = plan.sweep_scenario
    with tempfile.TemporaryDirectory(prefix="mutualsim-bench-") as tmp:
        out = Path(tmp) / "out"
        if use_command:
            exp = Path(tmp) / "benchmark.toml"
            exp.write_text(experiment_toml(sc, replications, plan.block), encoding="utf-8")
            run = run_measured([sys.executable, "-c", CLI, "sweep", str(exp), "--out",
                                str(out), "--workers", str(workers), "--quiet"], cwd=ROOT)
            if run.returncode == 0:
                return run, "mutualsim sweep"
            fallback_reason = (run.stderr.strip().splitlines() or ["?"])[-1]
        else:
            fallback_reason = ("--quick" if not plan.use_commands
                               else "command not available")
        run = run_measured([sys.executable, "-m", "benchmarks.blocksweep", "--replications",
                            str(replications), "--workers", str(workers), "--block",
                            str(plan.block), "--out", str(out), "--scenario",
                            json.dumps(overrides_of(sc))], cwd=ROOT)
        if run.returncode != 0:
            raise RuntimeError(f"fallback sweep failed: {run.stderr[-2000:]}")
        return run, f"fallback: simulate in blocks of {plan.block:,} -> Parquet " \
                    f"({fallback_reason})"


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _row(replications: int, workers: int, run: ProcessRun, method: str) -> dict:
    return {"replications": replications, "workers": workers, "seconds": run.seconds,
            "replications/s": replications / run.seconds,
            "peak RSS, tree (MiB)": (run.peak_tree / MIB if run.peak_tree is not None
                                     else float("nan")),
            "peak RSS, largest process (MiB)": run.peak_process / MIB, "method": method}


def memory_and_workers(plan: Plan, shared: dict) -> list[Section]:
    use_command = plan.use_commands and sweep_command_works()
    sc = plan.sweep_scenario
    mem_rows, runs = [], {}
    for n in plan.sweep_sizes:
        run, method = run_sweep(plan, n, 2, use_command)
        runs[(n, 2)] = run
        mem_rows.append(_row(n, 2, run, method))
    largest = plan.sweep_sizes[-1]
    peak = runs[(largest, 2)]
    peak_bytes = peak.peak_tree if peak.peak_tree is not None else peak.peak_process
    memory = Section(
        f"Peak memory of a sweep ({sc.councils} councils, {sc.years} years, 2 workers)",
        mem_rows,
        [f"Memory: {mem_rows[0]['method'] if mem_rows else ''}; peak RSS measured with "
         f"{peak.method}. The sweep scenario has {sc.councils} councils so that "
         f"{largest:,} replications fit in the benchmark's time budget; peak memory depends "
         "on the block size and the scenario's dimensions, not on the number of "
         "replications, which is what the flat column shows. A sweep of one block "
         f"({plan.block:,} replications or fewer) starts only one worker."],
        [Target(f"peak memory of the {largest:,}-replication sweep < 1 GiB",
                peak_bytes / GIB, 1.0, "GiB", lower_is_better=True)])

    n = plan.workers_replications
    times: dict[int, list[float]] = {1: [], 2: []}
    loads: dict[int, list[float]] = {1: [], 2: []}
    last: dict[int, tuple[ProcessRun, str]] = {}
    repeats = 1 if plan.quick else WORKER_REPEATS
    for _ in range(repeats):  # interleaved, so a burst of load hits both alike
        for w in (1, 2):
            loads[w].append(_load())
            run, method = run_sweep(plan, n, w, use_command)
            times[w].append(run.seconds)
            last[w] = run, method
    median = {w: statistics.median(t) for w, t in times.items()}
    rows = []
    for w in (1, 2):
        row = _row(n, w, *last[w])
        row["repeats"] = len(times[w])
        row["seconds"] = median[w]
        row["replications/s"] = n / median[w]
        row["speed-up vs 1 worker"] = median[1] / median[w]
        row["best of repeats (s)"] = min(times[w])
        row["best-of speed-up"] = min(times[1]) / min(times[w])
        row["load before runs"] = ", ".join(f"{x:.1f}" for x in loads[w])
        rows.append(row)
    workers = Section(
        f"Workers: the same {n:,}-replication sweep on 1 and 2 processes", rows,
        [f"Median wall time of {repeats} interleaved repeat(s) (1, 2, 1, 2, ... workers), "
         "including starting the worker processes and writing Parquet; peak RSS from the "
         "last repeat. The machine has 2 cores, so 2 workers is its ceiling; the parent "
         "process and any other load (1-minute load average before each run) share them. "
         "The target is judged on the medians; the best-of columns show the least "
         "disturbed runs."],
        [Target("2 workers >= 1.8x one worker", median[1] / median[2], 1.8, "x")])
    return [memory, workers]
