"""Shared pieces: sizes for full and quick runs, timing, units of work, report rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mutualsim import Scenario


@dataclass(frozen=True)
class Plan:
    """How big each measurement is; ``quick`` shrinks all of them to a smoke run."""

    quick: bool
    scenario: Scenario                # the throughput scenario (full baseline unless quick)
    replications: tuple[int, ...]     # throughput at these counts
    ratio_replications: int           # the "at 1,000 replications" point
    councils: tuple[int, ...]         # throughput at these sizes
    councils_replications: int
    reference_replications: int       # replications of the reference model (extrapolated)
    sweep_scenario: Scenario          # scenario of the memory/worker sweeps
    sweep_sizes: tuple[int, ...]
    workers_replications: int
    block: int                        # fallback sweep block size
    workshop_replications: int
    batch_run_replications: int       # reference replications per scenario under batch_run
    survival_sizes: tuple[int, ...]
    bandwidth_bytes: int
    repeats: int
    use_commands: bool                # time `mutualsim sweep`/`compare` when they exist


    @staticmethod
    def make(quick: bool) -> Plan:
        if quick:
            small = Scenario(councils=10, years=10)
            return Plan(True, small, (1, 10, 100), 100, (10, 20), 20, 2,
                        small, (300,), 300, 100, 50, 1, (100_000,), 64 * 2**20, 3, False)
        return Plan(False, Scenario(), (1, 10, 100, 1_000, 10_000), 1_000,
                    (10, 50, 150, 500), 100, 8, Scenario(councils=15),
                    (1_000, 10_000, 100_000), 20_000, 1_000, 1_000, 2,
                    (1_000_000, 10_000_000), 2**30, 3, True)


@dataclass
class Timing:
    """Median wall time of ``n`` repeats (and the result of the last one)."""

    seconds: float
    n: int
    result: Any = None
    all: list[float] = field(default_factory=list)


def timed(fn: Callable[[], Any], repeats: int = 1) -> Timing:
    times, result = [], None
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), len(times), result, times)


def mutual_years(panel: pd.DataFrame) -> int:
    """Years in which a mutual is trading, summed over replications."""
    return int(panel["mutuals_trading"].sum())


def agent_years(panel: pd.DataFrame, scenario: Scenario) -> int:
    """(councils + mutuals trading + bidders + citizens) summed over replication-years."""
    fixed = scenario.councils * (1 + scenario.citizens_per_council) + scenario.private_bidders
    return int(len(panel) * fixed + panel["mutuals_trading"].sum())


@dataclass
class Target:
    """One of issue 6's targets: what was measured against what is wanted."""

    name: str
    measured: float
    required: float
    unit: str
    note: str = ""
    lower_is_better: bool = False

    @property
    def met(self) -> bool:
        if self.measured != self.measured:  # NaN: not measured
            return False
        if self.lower_is_better:
            return self.measured < self.required
        return self.measured >= self.required


@dataclass
class Section:
    """A titled table of the report (rows of equal keys) with notes under it."""

    title: str
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def fmt(value: Any) -> str:
    """Numbers for humans: 3 significant figures, thousands separators."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return f"{value:.3g}"
    return str(value)
