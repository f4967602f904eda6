"""The kernel: every rule of the model, compiled loops over one replication at a time.

:func:`run_years` advances replication ``r`` of a batch through some years: each year it
draws the replication's random numbers from its own generator and runs the sub-models
(:func:`step_rules`) in the ODD 'Process overview and scheduling' order:

1. economy      council budgets (each council's austerity, shocks) and recession
2. citizens     engagement, satisfaction, support
3. pipeline     new proposals; preparation, abandonment; Teckal decisions; spin-outs;
                councils' stranded back-office costs
4. tendering    contract rounds for core contracts that expire this year
5. finance      income streams grow; accounts settle (reserves += income - costs)
                (then each trading mutual's per-lot contract overhead)
6. capability   learning; quality and social value; producer capture
7. exits        insolvency, wind-down, takeover; step-in costs; asset lock
8. record       the year's panel row

Each rule is a numba function (:func:`mutualsim.jit.kernel_inline`: inlined into
:func:`run_years`, so a year compiles to one function) on the struct-of-arrays
state (:class:`mutualsim.state.Arrays`, replication first) and the scenario's constants
(:class:`Context`); ``NUMBA_DISABLE_JIT=1`` runs the same code as plain Python.
"""

from __future__ import annotations

import itertools
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..jit import JIT_DISABLED, borrowed, entry_for, kernel_entry, kernel_inline
from ..rng import Draws, draw_year, generators
from ..state import PROPOSED, Arrays, State
from .capability import drift_quality, learn
from .citizens import council_means, update_citizens
from .context import Context, Flow, context, new_ledger
from .economy import stranded_costs, update_economy
from .exits import apply_exits
from .finance import grow_income, settle_accounts
from .pipeline import decide_incubation, prepare, propose
from .record import COLUMNS, Recorder, record
from .setup import initial_state
from .tendering import charge_lot_overheads, run_tenders

__all__ = ["COLUMNS", "Context", "Recorder", "context", "initial_state", "observe", "run",
           "run_years",
           "step", "step_rules"]


# Uncompiled (NUMBA_DISABLE_JIT), numpy scalars would warn where compiled code silently
# follows IEEE arithmetic (error_model="numpy"): tender keys wrap, an empty mean is nan.
def _ieee() -> np.errstate:
    return np.errstate(over="ignore", divide="ignore", invalid="ignore")


@kernel_inline
def step_rules(st: Arrays, r: int, k: Context, d: Draws, t: int, panel: np.ndarray) -> None:
    """Year ``t`` (0-based) of replication ``r`` with the year's draws ``d``: every
    sub-model in ODD order, then the panel row (``panel`` (columns, R, T))."""
    year = k.start_year + t
    led = new_ledger()
    update_economy(st, r, k, d, t)
    update_citizens(st, r, k, d)
    engagement, citizen_support = council_means(st, r, k)

    preparing = st.stage[r] == PROPOSED
    spun_before = st.spinout_year[r] >= 0
    propose(st, r, k, d, year, engagement, led)
    prepare(st, r, k, d, year, preparing, led)
    decide_incubation(st, r, k, d, year, led)
    led[Flow.spinouts] += np.sum((st.spinout_year[r] >= 0) & ~spun_before)
    stranded_costs(st, r, k, year, led)

    run_tenders(st, r, k, d, year, citizen_support, engagement, led)
    grow_income(st, r, k, d, citizen_support, led)
    settle_accounts(st, r, k, d, year, citizen_support, engagement, led)
    charge_lot_overheads(st, r, k, led)
    learn(st, r, k, d, year)
    drift_quality(st, r, k, engagement)
    apply_exits(st, r, k, d, year, led)
    record(st, r, k, led, t, panel)


@kernel_entry
def run_years(gen: np.random.Generator, st: Arrays, r: int, k: Context, first: int,
              stop: int, panel: np.ndarray) -> None:
    """Years ``first`` .. ``stop - 1`` (0-based) of replication ``r`` (row of ``st``): each
    draws its numbers from ``gen`` and steps every rule. The one compiled entry point. The
    rules work on the state's arrays :func:`borrowed` (the caller holds them for the call),
    so no reference count is updated in the year (:mod:`mutualsim.jit`)."""
    state = borrowed(st)
    for t in range(first, stop):
        d = draw_year(gen, k.C, k.M, k.K, k.B, k.L)
        step_rules(state, r, k, d, t, panel)


@kernel_entry
def observe(st: Arrays, r: int, k: Context, t: int, panel: np.ndarray) -> None:
    """Record replication ``r``'s state as it stands into column ``t`` of ``panel``
    (columns, R, T), with an empty ledger: the Mesa model's step 0. Changes no state.
    ODD 'Observation'."""
    record(st, r, k, new_ledger(), t, panel)


def needs_compiling() -> bool:
    """True when this process has not compiled the kernel yet and numba's disk cache has no
    up-to-date copy (first run after an install or an edit): then the next run compiles."""
    if JIT_DISABLED or run_years.signatures:
        return False
    try:
        index = Path(run_years._cache._cache_file._index_path)
        sources = Path(__file__).parent.glob("*.py")
        newest = max(p.stat().st_mtime for p in (*sources, Path(__file__).parent.parent
                                                 / "rng.py"))
        return not index.exists() or index.stat().st_mtime < newest
    except (AttributeError, OSError):  # numba's cache internals moved: say nothing
        return False


def _announce_compiling() -> bool:
    """Say so when the next call compiles (True if it was said)."""
    if needs_compiling():
        print("mutualsim: compiling the simulation kernel (first run after installing; "
              "about two minutes, cached on disk for later runs) ...", file=sys.stderr,
              flush=True)
        return True
    return False


def _cache_is_current() -> None:
    """After a call that :func:`needs_compiling` expected to compile: numba may instead
    have loaded a cached copy of the same sources (files restored to earlier contents keep
    their new times) without rewriting its index, so mark the index as current, or every
    later run would announce a compile that does not happen."""
    try:
        index = Path(run_years._cache._cache_file._index_path)
        if index.exists():
            os.utime(index)
    except (AttributeError, OSError):  # numba's cache internals moved, or read-only
        pass


#: Held while the compiled years are loaded or compiled: threads that need them while
#: another compiles them (the page's arms, its council card) wait for that compile, as
#: numba would make them, instead of announcing it again.
_LOADING = threading.Lock()


def _compiled_years(gen: np.random.Generator, arrays: Arrays, k: Context, first: int,
                    stop: int, panel: np.ndarray) -> Callable[..., None]:
    """:func:`run_years` typed once for these arguments (:func:`mutualsim.jit.entry_for`),
    loaded from numba's disk cache or compiled; a compile is announced first, once however
    many threads wait for it, and the cache marked current after it
    (:func:`_cache_is_current`)."""
    with _LOADING:
        announced = _announce_compiling()
        years = entry_for(run_years, gen, arrays, 0, k, first, stop, panel)
    if announced:
        _cache_is_current()
    return years


def load(k: Context) -> None:
    """Load the compiled years for scenarios like ``k``'s from numba's disk cache (or
    compile them, saying so) now, in this thread: about half a second of Python work a
    process pays once, which a command can then finish before it starts the kernel and
    imports its table libraries while the kernel (which releases the GIL) runs.
    Changes nothing; later :func:`run` calls reuse what was loaded."""
    gens = generators(0, [0])
    _compiled_years(gens[0], initial_state(k, gens).arrays(), k, 0, k.years,
                    Recorder(1, k.years).panel)


def step(st: State, k: Context, gens: list[np.random.Generator], rec: Recorder,
         t: int) -> None:
    """Advance every replication of ``st`` (one generator each) by year ``t``, in place,
    and record the year; ``st.year`` moves on by one."""
    arrays = st.arrays()
    years = _compiled_years(gens[0], arrays, k, t, t + 1, rec.panel)
    with _ieee():  # as compiled: uint64 wraps, 0/0 is nan (numpy warns only uncompiled)
        for r, gen in enumerate(gens):
            years(gen, arrays, r, k, t, t + 1, rec.panel)
    st.year += 1


def run(st: State, k: Context, gens: list[np.random.Generator], rec: Recorder,
        threads: int = 1, on_done: Callable[[int], None] | None = None) -> None:
    """Run every replication of ``st`` (generator ``gens[r]`` for row ``r``) through every
    year, ``threads`` replications at a time. Replications share nothing, so the result
    does not depend on ``threads``. ``on_done(years)`` is called (in this thread) as each
    replication finishes.

    Each of ``threads`` workers takes the next replication not yet started until none is
    left; the compiled years are typed once for the block (:func:`mutualsim.jit.entry_for`),
    not on every call. An error in a worker stops the others after their current
    replication and is raised here."""
    arrays = st.arrays()
    n = len(gens)
    years = _compiled_years(gens[0], arrays, k, 0, k.years, rec.panel)

    def one(r: int) -> None:
        years(gens[r], arrays, r, k, 0, k.years, rec.panel)

    if threads <= 1 or n <= 1:
        with _ieee():  # as compiled: uint64 wraps, 0/0 is nan (numpy warns only uncompiled)
            for r in range(n):
                one(r)
                if on_done is not None:
                    on_done(k.years)
    else:
        _run_threads(one, n, threads, (lambda: on_done(k.years)) if on_done else None)
    st.year += k.years


def _run_threads(one: Callable[[int], None], n: int, threads: int,
                 finished: Callable[[], None] | None = None) -> None:
    """Call ``one(r)`` for r in 0 .. n-1 on ``threads`` worker threads, each taking the next
    r not yet started; ``finished()`` (if given) runs in this thread once per r done. The
    first error stops every worker after its current r and is raised here (so is an
    interrupt)."""
    rows, taking = itertools.count(), threading.Lock()
    done: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        try:
            with _ieee():
                while not stop.is_set():
                    with taking:
                        r = next(rows)
                    if r >= n:
                        return
                    one(r)
                    done.put(None)
        except BaseException as error:  # handed to the caller's thread
            stop.set()
            done.put(error)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mutualsim") as pool:
        for _ in range(threads):
            pool.submit(work)
        try:
            for _ in range(n):
                error = done.get()
                if error is not None:
                    raise error
                if finished is not None:
                    finished()
        finally:
            stop.set()
