"""Where tasks run: a ``concurrent.futures.Executor`` and how many tasks to keep in flight.

The runner only ever sees an Executor, so local processes, a Dask scheduler and a local Dask
cluster are the same to it. Dask is an optional extra (``mutualsim[distributed]``), imported
only when asked for.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

IN_FLIGHT_PER_WORKER = 2  # one running, one queued: workers never wait, memory stays flat


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
              cluster: str | None = None) -> Iterator[Pool]:
    """Local processes (default), a Dask scheduler at ``scheduler``, or ``cluster="local"``."""
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
        n = workers or default_workers()
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as local, \
                distributed.Client(local) as client, \
                _dask_pool(client, f"local Dask cluster of {n} workers") as pool:
            yield pool
    else:
        n = workers or default_workers()
        executor = ProcessPoolExecutor(max_workers=n,
                                       mp_context=multiprocessing.get_context("spawn"))
        ok = False
        try:
            yield Pool(executor, lambda: IN_FLIGHT_PER_WORKER * n,
                       f"{n} local worker process{'es' if n > 1 else ''}")
            ok = True
        finally:
            executor.shutdown(wait=ok, cancel_futures=True)
