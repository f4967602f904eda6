"""Where tasks run: a ``concurrent.futures.Executor`` and how many tasks to keep in flight.

The runner only ever sees an Executor, so local processes, a Dask scheduler and a local Dask
cluster are the same to it. Dask is an optional extra (``mutualsim[distributed]``), imported
only when asked for.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

IN_FLIGHT_PER_WORKER = 2  # one running, one queued: workers never wait, memory stays flat
PARENT_POLL_SECONDS = 0.5


@dataclass
class Pool:
    """An executor, the number of tasks to keep submitted, and a line saying what it is."""

    executor: Executor
    capacity: Callable[[], int]
    description: str


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _exit_if_orphaned(parent: int) -> None:
    if os.getppid() != parent:
        os._exit(1)


def _exit_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(0)


def _watch_parent(parent: int) -> None:
    """Worker initializer: end this worker as soon as the driver (``parent``) is gone.

    A daemon thread polls ``os.getppid()`` (a dead parent's children are re-parented), so a
    driver killed with SIGKILL leaves no worker running for longer than the poll interval,
    nor, once its workers are gone, multiprocessing's resource tracker. (Not
    ``prctl(PR_SET_PDEATHSIG)``: that fires when the *thread* that started the worker ends.)
    """
    _exit_if_orphaned(parent)  # the parent may be gone already
    # When the pool shuts the worker down, its results are already sent: end the process
    # without tearing down numba, pandas and pyarrow object by object (about a second the
    # driver would wait for at the end of every sweep). Registered last, so it runs first.
    atexit.register(_exit_now)

    def poll() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            _exit_if_orphaned(parent)

    threading.Thread(target=poll, name="mutualsim-watch-parent", daemon=True).start()


def local_workers(requested: int | None, tasks: int | None = None) -> int:
    """Worker processes to start: ``requested`` or all cores, and never more than ``tasks``."""
    n = requested or default_workers()
    return max(1, min(n, tasks)) if tasks else n


@dataclass
class DaskCapacity:
    """Tasks in flight for a Dask cluster: follows the workers as they come and go."""

    client: Any
    refresh_seconds: float = 5.0
    _value: int = 2 * IN_FLIGHT_PER_WORKER
    _checked: float = field(default=-math.inf)

    def __call__(self) -> int:
        if time.monotonic() - self._checked > self.refresh_seconds:
            threads = sum(self.client.nthreads().values())
            self._value = max(IN_FLIGHT_PER_WORKER, IN_FLIGHT_PER_WORKER * threads)
            self._checked = time.monotonic()
        return self._value


def _distributed(source: str) -> Any:
    try:
        import distributed
    except ModuleNotFoundError:
        raise InputError("needs Dask; install it with pip install 'mutualsim[distributed]'",
                         source=source) from None
    return distributed


@contextmanager
def _dask_pool(client: Any, description: str) -> Iterator[Pool]:
    executor = client.get_executor(pure=False)
    ok = False
    try:
        yield Pool(executor, DaskCapacity(client), description)
        ok = True
    finally:
        executor.shutdown(wait=ok)


@contextmanager
def open_pool(workers: int | None = None, scheduler: str | None = None,
              cluster: str | None = None, tasks: int | None = None) -> Iterator[Pool]:
    """Local processes (default), a Dask scheduler at ``scheduler``, or ``cluster="local"``.

    Local workers: ``workers`` or all cores, at most one per task (``tasks``); each ends by
    itself as soon as this process is gone, however it ended.
    """
    if scheduler is not None:
        if workers is not None:
            raise InputError("cannot be combined with --scheduler: the cluster's workers are "
                             "used", source="--workers")
        distributed = _distributed(f"--scheduler {scheduler}")
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            raise InputError(f"cannot connect to the Dask scheduler: {err}",
                             source=f"--scheduler {scheduler}") from None
        with client, _dask_pool(client, f"Dask scheduler {scheduler}") as pool:
            yield pool
    elif cluster is not None:
        if cluster != "local":
            raise InputError(f"must be 'local', got {cluster!r}", source="--cluster")
        distributed = _distributed("--cluster local")
        n = local_workers(workers, tasks)
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as local, \
                distributed.Client(local) as client, \
                _dask_pool(client, f"local Dask cluster of {n} workers") as pool:
            yield pool
    else:
        n = local_workers(workers, tasks)
        executor = ProcessPoolExecutor(max_workers=n,
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_watch_parent, initargs=(os.getpid(),))
        ok = False
        try:
            yield Pool(executor, lambda: IN_FLIGHT_PER_WORKER * n,
                       f"{n} local worker process{'es' if n > 1 else ''}")
            ok = True
        finally:
            executor.shutdown(wait=ok, cancel_futures=True)
