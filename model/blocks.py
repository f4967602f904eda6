"""Replications in blocks through the compiled kernel: the arrays only, no tables.

This module imports no pandas or pyarrow, so a command can start the kernel on its first
block while it imports them (``mutualsim run``): :func:`simulate_blocks` starts the first
block as soon as it is called. :mod:`mutualsim.simulate` turns blocks into tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .kernel import Recorder, context, initial_state, run
from .params import Scenario
from .rng import generators
from .state import State

if TYPE_CHECKING:
    from .council import Services

DEFAULT_BLOCK = 256


@dataclass
class BlockResult:
    """Raw arrays of one block: the final state and the panel arrays (R, T)."""

    replications: np.ndarray
    state: State
    panel: dict[str, np.ndarray]


def run_block(scenario: Scenario, seed: int, replications: np.ndarray,
              on_year: Callable[[int], None] | None = None, *, threads: int = 1,
              services: Services | None = None) -> BlockResult:
    """Run a set of replications through every year, ``threads`` at a time.

    Replication ``i`` draws from its own stream (seed, i), so its result does not depend on
    the block it is in or on ``threads``. ``on_year(n)`` is told of ``n`` more
    replication-years done as each replication finishes. ``services``: a council file's
    services in the slots of a one-council ``scenario`` (:mod:`mutualsim.council`).
    """
    k = context(scenario)
    gens = generators(seed, replications)
    st = initial_state(k, gens, services)
    rec = Recorder(len(gens), scenario.years)
    run(st, k, gens, rec, threads=threads, on_done=on_year)
    return BlockResult(np.asarray(replications), st, rec.data)


def _replication_indices(replications: int | Iterable[int]) -> np.ndarray:
    if isinstance(replications, int | np.integer):
        if replications < 1:
            raise InputError(f"replications must be at least 1, got {replications}",
                             source="replications")
        return np.arange(int(replications))
    idx = np.asarray(list(replications))
    if idx.size == 0 or idx.dtype.kind not in "iu" or (idx < 0).any():
        raise InputError("replication indices must be non-negative integers",
                         source="replications")
    return idx.astype(np.int64)


def _check_seed(seed: object) -> None:
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", source="seed")


def default_threads() -> int:
    """Threads :func:`simulate` uses unless told: every core this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def simulate_blocks(scenario: Scenario, replications: int | Iterable[int] = 1000,
                    seed: int = 0, *, block_size: int = DEFAULT_BLOCK,
                    threads: int | None = None,
                    on_year: Callable[[int], None] | None = None,
                    services: Services | None = None) -> Iterator[BlockResult]:
    """The blocks of :func:`mutualsim.simulate`, one at a time, so a caller can write each
    to disk and keep memory flat however many replications run (arguments as in
    :func:`mutualsim.simulate`; ``on_year(n)`` hears of n more replication-years done).

    The first block starts on a worker thread when this is called, before the first
    ``next``: a caller may import or prepare meanwhile. Then the kernel (which releases
    the GIL) stays one block ahead, computing block b+1 while the caller tabulates and
    writes block b; memory holds at most two blocks' state. A caller that stops early
    leaves only the running block to end by itself. Arguments are checked here
    (:class:`~mutualsim.errors.InputError`), before any work."""
    idx = _replication_indices(replications)
    _check_seed(seed)
    if threads is None:
        threads = default_threads()
    blocks = [idx[start:start + block_size] for start in range(0, len(idx), block_size)]
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mutualsim-block")

    def submit(block: np.ndarray) -> Future[BlockResult]:
        return ahead.submit(run_block, scenario, int(seed), block, on_year,
                            threads=threads, services=services)

    first = submit(blocks[0])
    return _one_ahead(ahead, first, blocks[1:], submit)


def _one_ahead(ahead: ThreadPoolExecutor, pending: Future[BlockResult],
               rest: list[np.ndarray], submit: Callable[[np.ndarray], Future[BlockResult]]
               ) -> Iterator[BlockResult]:
    try:
        for following in (*rest, None):
            done = pending.result()
            if following is not None:
                pending = submit(following)
            yield done
    finally:
        pending.cancel()  # a caller that stops early: the running block ends by itself
        ahead.shutdown(wait=False)
