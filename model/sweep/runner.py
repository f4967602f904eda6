"""The sweep driver: submit tasks to any Executor, write each result as it arrives.

One loop serves every executor. It keeps a bounded number of tasks in flight, writes each
finished task to disk as soon as its future completes and then forgets it, so the driver's
memory does not grow with the sweep. Tasks already finished are skipped, never recomputed;
a failing task is recorded and the others go on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .experiment import Experiment
from .store import SweepStore, build_manifest, driver_id, scenarios_table
from .tasks import Shard, Task, TaskInput, TaskOutput, plan_tasks, run_task


@dataclass(frozen=True)
class Failure:
    """A task whose last attempt failed, and why."""

    task_id: str
    error: str


@dataclass
class SweepReport:
    """What one run of a sweep did."""

    out: Path
    tasks: int = 0
    already_done: int = 0
    damaged: int = 0
    damaged_tasks: list[Failure] = field(default_factory=list)
    finished: int = 0
    failed: list[Failure] = field(default_factory=list)
    not_run: int = 0
    replications: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_run


def _outcome(future: Future, task: Task) -> TaskOutput:
    """The task's output, or the executor's own failure (dead worker, cancel) as an error."""
    try:
        return future.result()
    except (Exception, CancelledError) as err:
        return TaskOutput(task, None, f"{type(err).__name__}: {err}", None)


class _Progress:
    """tqdm bar over replications (so its rate is replications/s) with a task count."""

    def __init__(self, enabled: bool, pending: list[Task], name: str) -> None:
        self.total = len(pending)
        self.done = 0
        self.failed = 0
        self.bar = None
        if enabled and pending:
            from tqdm import tqdm
            self.bar = tqdm(total=sum(t.replications for t in pending), unit="rep",
                            desc=name, dynamic_ncols=True, smoothing=0.05, file=sys.stderr)
            self._postfix()

    def _postfix(self) -> None:
        if self.bar is not None:
            text = f"tasks {self.done}/{self.total}"
            self.bar.set_postfix_str(text + (f", {self.failed} failed" if self.failed else ""),
                                     refresh=False)

    def update(self, task: Task, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.bar is not None:
            self._postfix()
            self.bar.update(task.replications)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def pending_tasks(experiment: Experiment, store: SweepStore, tasks: list[Task],
                  verify: bool, report: SweepReport) -> list[Task]:
    """Tasks not finished yet, including finished ones whose files are damaged."""
    pending = []
    for task in tasks:
        state = store.task_state(task, experiment.hash, verify)
        if state == "done":
            report.already_done += 1
            continue
        if state != "pending":
            report.damaged += 1
            report.damaged_tasks.append(Failure(task.id, state.removeprefix("damaged: ")))
            store.log("damaged", task=task.id, reason=state)
        pending.append(task)
    return pending


def run_sweep(experiment: Experiment, store: SweepStore, executor: Executor, *,
              capacity: Callable[[], int] | int = 4, shard: Shard | None = None,
              verify: bool = False, progress: bool = False,
              description: str = "") -> SweepReport:
    """Run every unfinished task of ``experiment`` (or of one ``shard``) into ``store``.

    Holds the folder's lock throughout (see :meth:`SweepStore.locked`): InputError if
    another run is using it.
    """
    with store.locked(shard):
        return _run_sweep(experiment, store, executor, capacity=capacity, shard=shard,
                          verify=verify, progress=progress, description=description)


def _run_sweep(experiment: Experiment, store: SweepStore, executor: Executor, *,
               capacity: Callable[[], int] | int, shard: Shard | None, verify: bool,
               progress: bool, description: str) -> SweepReport:
    started = time.perf_counter()
    in_flight_limit = capacity if callable(capacity) else (lambda: capacity)
    store.initialise(build_manifest(experiment), scenarios_table(experiment))
    tasks = plan_tasks(experiment)
    mine = shard.select(tasks) if shard is not None else tasks
    store.clean_temp(mine if shard is not None else None)
    store.end_log_line()
    report = SweepReport(out=store.root, tasks=len(mine))
    pending = pending_tasks(experiment, store, mine, verify, report)
    store.log("start", driver=driver_id(), shard=None if shard is None else str(shard),
              executor=description, tasks=len(mine), pending=len(pending))
    scenarios = {p.scenario_id: p.scenario for p in experiment.scenarios}

    def record_failure(task: Task, output: TaskOutput) -> None:
        error = output.error or "unknown error"
        store.write_error(task, error, output.traceback, output.worker)
        store.log("failed", task=task.id, error=error, worker=output.worker)
        report.failed.append(Failure(task.id, error))

    bar = _Progress(progress, pending, experiment.name)
    queue = iter(pending)
    in_flight: dict[Future, Task] = {}
    broken = False
    try:
        while True:
            while not broken and len(in_flight) < in_flight_limit():
                task = next(queue, None)
                if task is None:
                    break
                try:
                    future = executor.submit(
                        run_task, TaskInput(task, scenarios[task.scenario_id], experiment.seed))
                except (BrokenProcessPool, RuntimeError) as err:
                    # The executor is gone (a worker died hard): record and stop submitting.
                    broken = True
                    record_failure(task, TaskOutput(task, None, f"{type(err).__name__}: {err}"))
                    bar.update(task, failed=True)
                    break
                in_flight[future] = task
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=in_flight.__getitem__):
                task = in_flight.pop(future)
                output = _outcome(future, task)
                if output.files is None:
                    record_failure(task, output)
                else:
                    written = time.perf_counter()
                    store.write_result(task, output, experiment.hash)
                    # The task's seconds in its worker (of which simulating), and the
                    # driver's seconds to write it: per-task overhead, for benchmarks.
                    store.log("done", task=task.id, seconds=round(output.elapsed, 3),
                              simulate_seconds=round(output.simulate_seconds, 3),
                              write_seconds=round(time.perf_counter() - written, 3),
                              worker=output.worker)
                    report.finished += 1
                    report.replications += task.replications
                bar.update(task, failed=output.files is None)
    finally:
        for future in in_flight:
            future.cancel()
        bar.close()
    report.not_run = sum(1 for _ in queue)
    report.elapsed = time.perf_counter() - started
    store.log("end", driver=driver_id(), finished=report.finished, failed=len(report.failed),
              not_run=report.not_run, seconds=round(report.elapsed, 3))
    return report
