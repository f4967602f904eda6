"""The size guard: refuse, before any work, what cannot fit this machine.

Every command that simulates estimates from the sizes alone (replications, block size,
councils, services, citizens, bidders, lots, years, design points, workers) how much memory
its peak holds, how much disk its results take and how long it computes, and refuses with
one line naming the estimate and the flag that overrides it (``--no-size-check``) what does
not fit: memory over 80% of the machine's total, results over the free disk space, more
than a day of computing, or a design or task list too long to plan.

The memory model is per block: a block of ``b`` replications holds its state, one year's
random numbers, its tender draws and its output frames, ``b * per_replication_bytes``. A
command that simulates in one process (``run``, ``compare``) holds up to
:data:`BLOCKS_HELD` blocks at once (:func:`mutualsim.blocks.simulate_blocks`: one being
prepared, one in the kernel, one being tabulated); a sweep worker holds one. A run that
keeps every block's frames (``streaming=False``) also holds ``retained_bytes`` per
replication. The coefficients were measured with ``tracemalloc`` on the numpy kernel
(``run_block`` plus ``histories_frame``/``panel_frame``) and rounded up; they are meant to be
within a factor of two, which is all a guard needs.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .params import Scenario

OVERRIDE_FLAG = "--no-size-check"
MEMORY_SHARE = 0.8               # of total memory a command may plan to use
MAX_SECONDS = 24 * 3600.0        # of computing (wall, on the workers it has)
MAX_DESIGN_POINTS = 100_000      # planning and the manifest grow with the points
MAX_TASKS = 1_000_000            # the task list is built and stored up front
WORKER_BASE_BYTES = 250 * 2**20  # one worker process: interpreter, numpy, pandas, pyarrow
DRIVER_BASE_BYTES = 300 * 2**20  # the command itself

BLOCKS_HELD = 3                  # blocks one process holds: prepared, running, tabulated
# Bytes per replication held while a block runs (state, draws, temporaries, frames).
BYTES_PER_SLOT = 700             # per service slot (councils * services_per_council)
BYTES_PER_CITIZEN = 48           # per citizen agent
BYTES_PER_PANEL_YEAR = 400       # panel arrays and frame, per year
TENDERED_SHARE = 0.25            # slots tendered in one year, at most (for tender draws)
# Bytes per replication of output frames kept in memory (histories row per slot, panel).
RETAINED_PER_SLOT = 450
RETAINED_PER_YEAR = 600
DISK_SHARE = 0.12  # Parquet (zstd) on disk per retained byte (measured 0.085-0.09)
# Seconds of computing per slot-year, citizen-year and tender number.
SECONDS_PER_SLOT_YEAR = 8e-7
SECONDS_PER_CITIZEN_YEAR = 1e-7
SECONDS_PER_TENDER_NUMBER = 2e-9


@dataclass(frozen=True)
class Estimate:
    """What a command will need: peak memory (bytes), results on disk (bytes), seconds."""

    memory: float
    disk: float
    seconds: float


def total_memory() -> int:
    """Physical memory of this machine in bytes (``/proc/meminfo``, else ``sysconf``)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 * 2**30


def cores() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def free_disk(path: Path) -> int | None:
    """Free bytes on the filesystem that would hold ``path`` (None if unknown)."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def _slots(sc: Scenario) -> int:
    return sc.councils * sc.services_per_council


def tender_numbers(sc: Scenario) -> int:
    """Random numbers one tendered slot expands its key into (bids and score noise)."""
    return sc.private_bidders + (sc.private_bidders + 1) * sc.lots


def replication_bytes(sc: Scenario) -> float:
    """Memory one replication holds while its block runs (bytes)."""
    m = _slots(sc)
    return (BYTES_PER_SLOT * m + BYTES_PER_CITIZEN * sc.councils * sc.citizens_per_council
            + BYTES_PER_PANEL_YEAR * sc.years + 8.0 * TENDERED_SHARE * m * tender_numbers(sc))


def retained_bytes(sc: Scenario) -> float:
    """Memory of one replication's output frames (histories and panel, bytes)."""
    return RETAINED_PER_SLOT * _slots(sc) + RETAINED_PER_YEAR * sc.years


def replication_seconds(sc: Scenario) -> float:
    """Computing time of one replication on one core (seconds)."""
    m = _slots(sc)
    per_year = (SECONDS_PER_SLOT_YEAR * m
                + SECONDS_PER_CITIZEN_YEAR * sc.councils * sc.citizens_per_council
                + SECONDS_PER_TENDER_NUMBER * TENDERED_SHARE * m * tender_numbers(sc))
    return sc.years * per_year


def estimate_run(scenario: Scenario, replications: int, block_size: int, *,
                 streaming: bool = False, arms: int = 1) -> Estimate:
    """``run`` (``arms = 1``) or ``compare`` (one arm per value) in one process, which
    holds up to :data:`BLOCKS_HELD` blocks (fewer if the replications make fewer)."""
    block = min(block_size, replications)
    held = min(BLOCKS_HELD, math.ceil(replications / block))
    memory = DRIVER_BASE_BYTES + held * block * replication_bytes(scenario)
    if not streaming:
        memory += arms * replications * retained_bytes(scenario)
    disk = DISK_SHARE * arms * replications * retained_bytes(scenario)
    return Estimate(memory, disk, arms * replications * replication_seconds(scenario))


def estimate_sweep(scenarios: list[Scenario] | tuple[Scenario, ...], replications: int,
                   block_size: int, workers: int) -> Estimate:
    """A sweep: each worker holds one block of the largest scenario; results go to disk."""
    block = min(block_size, replications)
    biggest = max(replication_bytes(s) for s in scenarios)
    memory = DRIVER_BASE_BYTES + workers * (WORKER_BASE_BYTES + block * biggest)
    disk = DISK_SHARE * replications * sum(retained_bytes(s) for s in scenarios)
    seconds = replications * sum(replication_seconds(s) for s in scenarios) / max(workers, 1)
    return Estimate(memory, disk, seconds)


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600),
                       ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def check_estimate(estimate: Estimate, what: str, *, out: Path | None = None,
                   memory_total: int | None = None, disk_free: int | None = None,
                   override: bool = False, source: str = "size") -> None:
    """Refuse (InputError) an estimate that does not fit this machine, unless ``override``.

    ``memory_total`` and ``disk_free`` default to this machine's (``/proc/meminfo``, the
    filesystem of ``out``); tests pass their own.
    """
    if override:
        return
    memory_total = total_memory() if memory_total is None else memory_total
    limit = MEMORY_SHARE * memory_total
    hint = f"; {OVERRIDE_FLAG} runs it anyway"
    if estimate.memory > limit:
        raise InputError(f"{what} needs about {_bytes(estimate.memory)} of memory, more than "
                         f"{MEMORY_SHARE:.0%} of this machine's {_bytes(memory_total)}; use "
                         f"fewer replications or smaller sizes{hint}", source=source)
    if disk_free is None and out is not None:
        disk_free = free_disk(out)
    if disk_free is not None and estimate.disk > disk_free:
        raise InputError(f"{what} writes about {_bytes(estimate.disk)} of results, more than "
                         f"the {_bytes(disk_free)} free on the disk of {out}{hint}",
                         source=source)
    if estimate.seconds > MAX_SECONDS:
        raise InputError(f"{what} needs about {_duration(estimate.seconds)} of computing; "
                         f"the limit is {_duration(MAX_SECONDS)}{hint}", source=source)


def check_count(count: int, limit: int, what: str, source: str, override: bool = False,
                why: str = "planning alone would take long and much memory") -> None:
    """Refuse a design, task list or list of values longer than ``limit`` before it is
    built."""
    if not override and count > limit:
        raise InputError(f"{what}: {count:,} is more than {limit:,} ({why}); "
                         f"{OVERRIDE_FLAG} runs it anyway", source=source)


def worker_count(requested: int | None, override: bool = False,
                 available: int | None = None) -> tuple[int, str | None]:
    """Workers to start and a note if the request was capped at the cores.

    ``None`` means all cores. More workers than cores only add memory (each ~250 MB), so a
    larger request is capped unless ``override``.
    """
    available = cores() if available is None else available
    if requested is None:
        return available, None
    if requested > available and not override:
        return available, (f"--workers {requested}: this machine has {available} "
                           f"core{'s' if available > 1 else ''}; using {available} "
                           f"({OVERRIDE_FLAG} starts {requested})")
    return requested, None


def tasks_upper_bound(points: int, replications: int, block_size: int) -> int:
    """Tasks of a sweep: design points x blocks (an upper bound: points may repeat)."""
    return points * math.ceil(replications / block_size)


__all__ = ["Estimate", "OVERRIDE_FLAG", "check_count", "check_estimate", "estimate_run",
           "estimate_sweep", "replication_bytes", "replication_seconds", "retained_bytes",
           "total_memory", "worker_count"]
