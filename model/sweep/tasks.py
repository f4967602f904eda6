"""Tasks: one scenario x one block of replications, and the function a worker runs for it.

A task's id names its scenario and its replication range, so it is the same in every run of
the same experiment, on any executor. The worker function is top-level and takes and returns
plain picklable data (spawn-safe, and fit for Dask); it returns Parquet bytes, never writes,
so only the driver touches the results folder.
"""

from __future__ import annotations

import io
import os
import socket
import time
import traceback
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import InputError
from ..params import Scenario
from ..schema import to_table
from ..simulate import histories_frame, panel_frame, run_block
from ..state import CAUSE_NAMES
from ..survival import SurvivalCounts
from .experiment import Experiment

KINDS = ("histories", "panel", "counts")
N_CAUSES = len(CAUSE_NAMES) - 1


@dataclass(frozen=True, order=True)
class Task:
    """Replications ``start`` .. ``stop - 1`` of one scenario."""

    scenario_id: str
    start: int
    stop: int

    @property
    def block(self) -> str:
        return f"r{self.start:07d}-{self.stop:07d}"

    @property
    def id(self) -> str:
        return f"{self.scenario_id}/{self.block}"

    @property
    def replications(self) -> int:
        return self.stop - self.start


def plan_tasks(experiment: Experiment) -> list[Task]:
    """Every task of the experiment: scenarios in design order, blocks in replication order."""
    n, size = experiment.replications, experiment.block_size
    return [Task(point.scenario_id, start, min(start + size, n))
            for point in experiment.scenarios for start in range(0, n, size)]


@dataclass(frozen=True)
class Shard:
    """Part ``k`` of ``n`` (1-based): every n-th task, so costly scenarios spread out."""

    k: int
    n: int

    def select(self, tasks: list[Task]) -> list[Task]:
        return tasks[self.k - 1::self.n]

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with ``1 <= K <= N``."""
    parts = text.split("/")
    try:
        k, n = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"must be K/N with whole numbers 1 <= K <= N, got {text!r}",
                         source="--shard") from None
    if not 1 <= k <= n:
        raise InputError(f"must be K/N with 1 <= K <= N, got {text!r}", source="--shard")
    return Shard(k, n)


@dataclass(frozen=True)
class TaskInput:
    """What a worker needs: the task, its full scenario and the experiment seed."""

    task: Task
    scenario: Scenario
    seed: int


@dataclass(frozen=True)
class TaskOutput:
    """What a worker sends back: Parquet bytes per kind, or the error it hit."""

    task: Task
    files: dict[str, bytes] | None
    error: str | None = None
    traceback: str | None = None
    elapsed: float = 0.0
    worker: str = ""


def parquet_bytes(frame: pd.DataFrame, kind: str) -> bytes:
    """Serialise a task's frame of ``kind`` with the code's schema (:mod:`mutualsim.schema`).

    The bytes depend only on the data and the pyarrow version (no pandas metadata, no
    inferred types), so the same task gives the same file on any worker and under any
    supported pandas.
    """
    sink = io.BytesIO()
    pq.write_table(to_table(frame, kind, scenario_id=True), sink, compression="zstd")
    return sink.getvalue()


def task_frames(inp: TaskInput) -> dict[str, pd.DataFrame]:
    """Simulate the block and tabulate histories, panel and survival counts."""
    task, scenario = inp.task, inp.scenario
    block = run_block(scenario, inp.seed, np.arange(task.start, task.stop, dtype=np.int64))
    histories = histories_frame(block, scenario)
    panel = panel_frame(block, scenario)
    spun = histories[histories["spinout_year"].notna()]
    # Categorical codes follow CAUSE_NAMES[1:]; missing (-1) becomes 0, "no exit".
    causes = spun["exit_cause"].cat.codes.to_numpy(np.int64) + 1
    counts = SurvivalCounts.from_durations(
        spun["duration_years"].to_numpy(np.int64), (~spun["censored"]).to_numpy(np.int64),
        causes, max_time=scenario.years, n_causes=N_CAUSES).to_frame()
    frames = {"histories": histories, "panel": panel, "counts": counts}
    for frame in frames.values():
        frame.insert(0, "scenario_id", task.scenario_id)
    return frames


def run_task(inp: TaskInput) -> TaskOutput:
    """The worker function: never raises for a failing simulation, reports it instead."""
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        files = {kind: parquet_bytes(frame, kind)
                 for kind, frame in task_frames(inp).items()}
    except Exception as err:  # one failing task is data for the log, not a crash
        return TaskOutput(inp.task, None, f"{type(err).__name__}: {err}",
                          traceback.format_exc(), time.perf_counter() - start, worker)
    return TaskOutput(inp.task, files, elapsed=time.perf_counter() - start, worker=worker)
