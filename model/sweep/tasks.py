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
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..params import Scenario
from ..schema import SCENARIO_ID, schema, to_table, write_options
from ..simulate import block_counts, run_block
from ..tables import histories_table, panel_table
from .experiment import Experiment

KINDS = ("histories", "panel", "counts")


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


def run_tasks(experiment: Experiment) -> dict[tuple[str, int], list[Task]]:
    """The tasks of each run ``(scenario_id, first replication)``, runs in order.

    A run is a scenario from its first replication (0, or ``(d + 1) R`` for posterior draw
    ``d``, :attr:`Experiment.runs`), cut into blocks of ``block_size`` from there."""
    n, size = experiment.replications, experiment.block_size
    return {(sid, first): [Task(sid, first + start, first + min(start + size, n))
                           for start in range(0, n, size)]
            for sid, first in experiment.runs}


def plan_tasks(experiment: Experiment) -> list[Task]:
    """Every task of the experiment: scenarios in design order, blocks in replication order
    (see :func:`run_tasks`)."""
    return [task for tasks in run_tasks(experiment).values() for task in tasks]


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
    simulate_seconds: float = 0.0  # of ``elapsed``, the kernel (the rest: tables, Parquet)


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise a task's table (a schema of :mod:`mutualsim.schema` with ``scenario_id``).

    The bytes depend only on the data and the pyarrow version (no pandas metadata, no
    inferred types), so the same task gives the same file on any worker and under any
    supported pandas.
    """
    sink = io.BytesIO()
    pq.write_table(table, sink, **write_options(table.schema))
    return sink.getvalue()


def _with_scenario_id(table: pa.Table, kind: str, scenario_id: str) -> pa.Table:
    """``table`` (schema ``kind``) with a first column ``scenario_id`` (the task files'
    schema, :func:`mutualsim.schema.schema` with ``scenario_id``)."""
    column = pa.array([scenario_id] * table.num_rows, SCENARIO_ID.type)
    return pa.Table.from_arrays([column, *table.columns],
                                schema=schema(kind, scenario_id=True))


def task_tables(inp: TaskInput, timings: dict[str, float] | None = None
                ) -> dict[str, pa.Table]:
    """Simulate the block and tabulate histories, panel and survival counts, each with the
    task's ``scenario_id`` first (the simulation's seconds go into ``timings["simulate"]``
    when given). Histories and panel are built from the block's arrays
    (:mod:`mutualsim.tables`) and the counts from its state
    (:func:`mutualsim.simulate.block_counts`), without pandas frames: the same tables as
    :func:`mutualsim.schema.to_table` of the frames (tested)."""
    task, scenario = inp.task, inp.scenario
    start = time.perf_counter()
    block = run_block(scenario, inp.seed, np.arange(task.start, task.stop, dtype=np.int64))
    if timings is not None:
        timings["simulate"] = time.perf_counter() - start
    counts = block_counts(block, scenario, scenario.years).to_frame()
    tables = {"histories": histories_table(block, scenario),
              "panel": panel_table(block, scenario),
              "counts": to_table(counts, "counts")}
    return {kind: _with_scenario_id(table, kind, task.scenario_id)
            for kind, table in tables.items()}


def run_task(inp: TaskInput) -> TaskOutput:
    """The worker function: never raises for a failing simulation, reports it instead."""
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    timings: dict[str, float] = {}
    try:
        files = {kind: parquet_bytes(table) for kind, table in task_tables(inp, timings).items()}
    except Exception as err:  # one failing task is data for the log, not a crash
        return TaskOutput(inp.task, None, f"{type(err).__name__}: {err}",
                          traceback.format_exc(), time.perf_counter() - start, worker)
    return TaskOutput(inp.task, files, elapsed=time.perf_counter() - start, worker=worker,
                      simulate_seconds=timings.get("simulate", 0.0))
