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


@dataclass
class PreparedBlock:
    """A block ready for the kernel: its replications' generators, initial state and an
    empty panel (:func:`prepare_block`)."""

    replications: np.ndarray
    scenario: Scenario
    gens: list[np.random.Generator]
    state: State
    recorder: Recorder


def prepare_block(scenario: Scenario, seed: int, replications: np.ndarray,
                  services: Services | None = None, light: bool = False) -> PreparedBlock:
    """The generators and initial state of a block (:func:`mutualsim.kernel.initial_state`,
    Python and numpy, about 0.15 ms a replication at the baseline) and its empty panel
    (only :data:`~mutualsim.kernel.record.LIGHT_COLUMNS` if ``light``): everything
    :func:`run_block` does before the kernel, so :func:`simulate_blocks` can prepare the
    next block while the kernel runs this one. Changes nothing outside what it returns."""
    k = context(scenario)
    gens = generators(seed, replications)
    return PreparedBlock(np.asarray(replications), scenario, gens,
                         initial_state(k, gens, services),
                         Recorder(len(gens), scenario.years, light=light))


def run_prepared(block: PreparedBlock, on_year: Callable[[int], None] | None = None, *,
                 threads: int = 1) -> BlockResult:
    """Run a prepared block's replications through every year (:func:`run_block`)."""
    run(block.state, context(block.scenario), block.gens, block.recorder, threads=threads,
        on_done=on_year)
    return BlockResult(block.replications, block.state, block.recorder.data)


def run_block(scenario: Scenario, seed: int, replications: np.ndarray,
              on_year: Callable[[int], None] | None = None, *, threads: int = 1,
              services: Services | None = None, light: bool = False) -> BlockResult:
    """Run a set of replications through every year, ``threads`` at a time.

    Replication ``i`` draws from its own stream (seed, i), so its result does not depend on
    the block it is in or on ``threads``. ``on_year(n)`` is told of ``n`` more
    replication-years done as each replication finishes. ``services``: a council file's
    services in the slots of a one-council ``scenario`` (:mod:`mutualsim.council`).
    ``light``: record only the panel columns survival summaries read
    (:data:`~mutualsim.kernel.record.LIGHT_COLUMNS`, the same values), which spares the
    kernel most of each year's observation; the final state is the same.
    """
    return run_prepared(prepare_block(scenario, seed, replications, services, light),
                        on_year, threads=threads)


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
                    services: Services | None = None,
                    light: bool = False) -> Iterator[BlockResult]:
    """The blocks of :func:`mutualsim.simulate`, one at a time, so a caller can write each
    to disk and keep memory flat however many replications run (arguments as in
    :func:`mutualsim.simulate`; ``on_year(n)`` hears of n more replication-years done;
    ``light`` as in :func:`run_block`).

    The first block starts on a worker thread when this is called, before the first
    ``next``: a caller may import or prepare meanwhile. Then the kernel (which releases
    the GIL) stays one block ahead, computing block b+1 while the caller tabulates and
    writes block b, and a third thread makes block b+2's generators and initial state
    (:func:`prepare_block`) meanwhile, so the kernel does not wait for them between
    blocks; memory holds at most three blocks' state. A caller that stops early leaves
    only the running block to end by itself. Arguments are checked here
    (:class:`~mutualsim.errors.InputError`), before any work."""
    idx = _replication_indices(replications)
    _check_seed(seed)
    if threads is None:
        threads = default_threads()
    blocks = [idx[start:start + block_size] for start in range(0, len(idx), block_size)]
    preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mutualsim-prepare")
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mutualsim-block")
    prepared: dict[int, Future[PreparedBlock]] = {}

    def prepare(i: int) -> None:
        if i < len(blocks) and i not in prepared:
            prepared[i] = preparing.submit(prepare_block, scenario, int(seed), blocks[i],
                                           services, light)

    def submit(i: int) -> Future[BlockResult]:
        prepare(i)
        state = prepared.pop(i)
        pending = ahead.submit(_run_when_prepared, state, on_year, threads)
        prepare(i + 1)     # the next block's state is made while this one runs
        return pending

    first = submit(0)
    return _one_ahead((ahead, preparing), first, len(blocks), submit)


def _run_when_prepared(state: Future[PreparedBlock], on_year: Callable[[int], None] | None,
                       threads: int) -> BlockResult:
    return run_prepared(state.result(), on_year, threads=threads)


def _one_ahead(pools: tuple[ThreadPoolExecutor, ...], pending: Future[BlockResult],
               n_blocks: int, submit: Callable[[int], Future[BlockResult]]
               ) -> Iterator[BlockResult]:
    try:
        for following in range(1, n_blocks + 1):
            done = pending.result()
            if following < n_blocks:
                pending = submit(following)
            yield done
    finally:
        pending.cancel()  # a caller that stops early: the running block ends by itself
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
