"""Kernel throughput: how cost grows with replications and with the number of councils.

Both series time ``mutualsim.simulate`` end to end (draws, rules, histories and panel
frames). If the cost per unit of work is flat across sizes, cost grows linearly with work.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mutualsim import Scenario, simulate

from .common import Plan, Section, Timing, agent_years, mutual_years, timed


@dataclass
class KernelRun:
    """One timed ``simulate`` call and its units of work."""

    scenario: Scenario
    replications: int
    timing: Timing
    mutual_years: int
    agent_years: int
    histories: pd.DataFrame | None = None

    @property
    def mutual_years_per_s(self) -> float:
        return self.mutual_years / self.timing.seconds

    @property
    def agent_years_per_s(self) -> float:
        return self.agent_years / self.timing.seconds


def run_kernel(scenario: Scenario, replications: int, repeats: int,
               keep_histories: bool = False) -> KernelRun:
    timing = timed(lambda: simulate(scenario, replications, seed=0), repeats)
    results = timing.result
    timing.result = None
    return KernelRun(scenario, replications, timing, mutual_years(results.panel),
                     agent_years(results.panel, scenario),
                     results.histories if keep_histories else None)


def repeats_for(plan: Plan, replications: int, councils: int = 150) -> int:
    """Several repeats where a run is cheap, one where it takes minutes."""
    return plan.repeats if replications * councils <= 1_000 * 150 else 1


def by_replications(plan: Plan, shared: dict) -> Section:
    rows = []
    for r in plan.replications:
        run = run_kernel(plan.scenario, r, repeats_for(plan, r, plan.scenario.councils),
                         keep_histories=r == plan.ratio_replications)
        shared.setdefault("kernel", {})[r] = run
        rows.append(_row({"replications": r}, run))
    _relative(rows)
    return Section(
        f"Kernel throughput vs replications ({_describe(plan.scenario)})", rows,
        ["`simulate(scenario, R, seed=0)` end to end; median of the repeats shown. "
         "A mutual-year is a year in which a mutual is trading; agent-years = (councils + "
         "mutuals trading + private bidders + citizens) x years. 'per unit vs largest' is "
         "the cost per mutual-year relative to the largest run: 1.0 everywhere means cost "
         "grows linearly with work; above 1 at small R is fixed per-year overhead of the "
         "vectorised steps that small batches cannot amortise."])


def by_councils(plan: Plan, shared: dict) -> Section:
    rows = []
    r = plan.councils_replications
    for c in plan.councils:
        scenario = plan.scenario.replace(councils=c)
        run = run_kernel(scenario, r, repeats_for(plan, r, c))
        rows.append(_row({"councils": c, "replications": r}, run))
    _relative(rows)
    return Section(
        f"Kernel throughput vs councils ({r:,} replications, {plan.scenario.years} years)",
        rows, ["Same measure as above with the number of councils varied (services, "
               "citizens and mutuals scale with it; 8 private bidders throughout)."])


def _row(head: dict, run: KernelRun) -> dict:
    return {**head, "repeats": run.timing.n, "seconds": run.timing.seconds,
            "mutual-years": run.mutual_years, "mutual-years/s": run.mutual_years_per_s,
            "agent-years/s": run.agent_years_per_s,
            "us per mutual-year": 1e6 / run.mutual_years_per_s,
            "us per agent-year": 1e6 / run.agent_years_per_s}


def _relative(rows: list[dict]) -> None:
    last = rows[-1]["us per mutual-year"]
    for row in rows:
        row["per unit vs largest"] = row["us per mutual-year"] / last


def _describe(sc: Scenario) -> str:
    return f"{sc.councils} councils, {sc.years} years"
