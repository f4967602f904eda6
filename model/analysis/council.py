"""One council's own services over many replications (``mutualsim compare --council``).

For a council file (:mod:`mutualsim.council`) the one-council scenario runs ``replications``
times (for each value of a lever, if one is compared, with common random numbers). Kept
per service: the chance it is proposed, spun out, and still delivered by its mutual 5, 10
and 15 years after the start; per council: the expected step-in cost and spend over the
horizon, and the spend against the same council keeping every service in-house (the same
random numbers with no candidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..council import CouncilFile
from ..params import Scenario
from ..simulate import simulate_blocks

HORIZONS = (5, 10, 15)
#: Columns of :meth:`CouncilOutcome.services_table` a reader sees first (the rest follow).
SERVICE_COLUMNS = ("group", "service", "candidate", "staff_interest", "annual_value_gbp_m",
                   "proposed", "spun_out", *(f"mutual_after_{t}y" for t in HORIZONS),
                   "exited")


def delivered_by_mutual(spinout_year: np.ndarray, exit_year: np.ndarray,
                        contract_lost_year: np.ndarray, year: int) -> np.ndarray:
    """Whether each slot's service is run by its own mutual at the end of ``year`` (arrays
    (R, M) of calendar years, -1 = never): spun out by then, not yet exited, and still
    holding its core contract (some or all of its lots). A mutual that lost its core
    contract at a re-tender (``contract_lost_year``; it is never tendered to it again)
    no longer runs the service even if it still trades on other income. docs/ODD.md
    'Your own council'."""
    spun = (spinout_year >= 0) & (spinout_year <= year)
    trading = (exit_year < 0) | (exit_year > year)
    holding = (contract_lost_year < 0) | (contract_lost_year > year)
    return spun & trading & holding


@dataclass
class CouncilOutcome:
    """Tallies of one group (the council as stated, or one value of a lever)."""

    label: str
    scenario: Scenario
    names: tuple[str, ...]
    replications: int = 0
    proposed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    spun_out: np.ndarray = field(default_factory=lambda: np.zeros(0))
    exited: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mutual_at: dict[int, np.ndarray] = field(default_factory=dict)
    step_in: list[np.ndarray] = field(default_factory=list)
    spend: list[np.ndarray] = field(default_factory=list)
    spend_in_house: list[np.ndarray] = field(default_factory=list)

    def add(self, state: Any, panel: dict[str, np.ndarray]) -> None:
        """Take in one block: final state (R, M) and panel (R, T)."""
        sc = self.scenario
        if self.replications == 0:
            zeros = np.zeros(len(self.names))
            self.proposed, self.spun_out, self.exited = zeros.copy(), zeros.copy(), zeros.copy()
            self.mutual_at = {t: zeros.copy() for t in HORIZONS if t <= sc.years}
        self.replications += state.stage.shape[0]
        self.proposed += (state.proposal_year >= 0).sum(axis=0)
        self.spun_out += (state.spinout_year >= 0).sum(axis=0)
        self.exited += (state.exit_year >= 0).sum(axis=0)
        for t in self.mutual_at:
            self.mutual_at[t] += delivered_by_mutual(state.spinout_year, state.exit_year,
                                                     state.contract_lost_year,
                                                     sc.start_year + t - 1).sum(axis=0)
        self.step_in.append(panel["step_in_cost"].sum(axis=1))
        self.spend.append(panel["council_spend"].sum(axis=1))


def _run(scenario: Scenario, council: CouncilFile, candidates: bool, replications: int,
         seed: int, threads: int | None):
    services = council.services if candidates else council.services.with_candidates(False)
    yield from simulate_blocks(scenario, replications, seed, threads=threads,
                               services=services)


@dataclass
class CouncilComparison:
    """What ``compare --council`` reports: one :class:`CouncilOutcome` per group."""

    council: CouncilFile
    groups: list[CouncilOutcome]
    seed: int
    factor: str | None = None
    values: tuple[Any, ...] = ()

    def services_table(self) -> pd.DataFrame:
        """One row per group and service: shares of replications (0-1)."""
        rows = []
        services = self.council.services
        for g in self.groups:
            n = max(g.replications, 1)
            for i, name in enumerate(g.names):
                row: dict[str, Any] = {
                    "group": g.label, "service": name,
                    "candidate": bool(services.candidate[i]),
                    "staff_interest": float(services.staff_interest[i]),
                    "annual_value_gbp_m": float(services.value_m[i]),
                    "proposed": g.proposed[i] / n, "spun_out": g.spun_out[i] / n}
                for t in HORIZONS:
                    row[f"mutual_after_{t}y"] = (g.mutual_at[t][i] / n if t in g.mutual_at
                                                 else float("nan"))
                row["exited"] = g.exited[i] / n
                row["replications"] = g.replications
                rows.append(row)
        return pd.DataFrame(rows, columns=[*SERVICE_COLUMNS, "replications"])

    def council_table(self) -> pd.DataFrame:
        """One row per group: expected step-in cost and spend over the horizon (GBP m),
        10-90% of replications, the chance of any step-in, and the spend against keeping
        every service in-house (same random numbers)."""
        rows = []
        for g in self.groups:
            step_in, spend = np.concatenate(g.step_in), np.concatenate(g.spend)
            in_house = np.concatenate(g.spend_in_house)
            extra = spend - in_house
            rows.append({
                "group": g.label, "replications": g.replications,
                "years": g.scenario.years,
                "step_in_cost_gbp_m": float(step_in.mean()),
                "step_in_any": float((step_in > 0).mean()),
                "step_in_p90_gbp_m": float(np.quantile(step_in, 0.9)),
                "spend_gbp_m": float(spend.mean()),
                "spend_p10_gbp_m": float(np.quantile(spend, 0.1)),
                "spend_p90_gbp_m": float(np.quantile(spend, 0.9)),
                "spend_per_year_gbp_m": float(spend.mean() / g.scenario.years),
                "spend_in_house_gbp_m": float(in_house.mean()),
                "spend_vs_in_house_gbp_m": float(extra.mean()),
            })
        return pd.DataFrame(rows)

    def text(self) -> str:
        """Plain words a room can read: per service, then the council's money."""
        lines = [f"{self.council.name}: {self.groups[0].replications:,} replications of "
                 f"{self.groups[0].scenario.years} years "
                 f"({self.groups[0].scenario.start_year}-{self.groups[0].scenario.end_year}),"
                 f" seed {self.seed}"]
        services = self.services_table()
        council = self.council_table()
        for g, money in zip(self.groups, council.itertuples(), strict=True):
            if len(self.groups) > 1:
                lines.append(f"\n== {g.label} ==")
            lines.append("")
            lines.append(f"{'service':32} {'spun out':>9} " + " ".join(
                f"{'mutual ' + str(t) + 'y':>10}" for t in HORIZONS))
            for row in services[services["group"] == g.label].itertuples():
                cells = [_pct(getattr(row, f"mutual_after_{t}y")) for t in HORIZONS]
                note = "" if row.candidate else "  (not a candidate)"
                lines.append(f"{row.service[:32]:32} {_pct(row.spun_out):>9} "
                             + " ".join(f"{c:>10}" for c in cells) + note)
            lines.append(
                f"expected step-in cost {money.step_in_cost_gbp_m:.2f} GBP m over "
                f"{money.years} years (any step-in in {money.step_in_any:.0%} of "
                f"replications); spend {money.spend_gbp_m:.1f} GBP m "
                f"({money.spend_per_year_gbp_m:.1f} a year), "
                f"{money.spend_vs_in_house_gbp_m:+.2f} GBP m against keeping every service "
                "in-house")
        lines.append("\n'mutual Ny': share of replications in which the service is run by "
                     "its own mutual N years after the start.")
        return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return "n/a" if np.isnan(x) else f"{x:.0%}"


def run_council(council: CouncilFile, replications: int, seed: int = 0, *,
                factor: str | None = None, values: Sequence[Any] = (),
                threads: int | None = None) -> CouncilComparison:
    """Simulate ``council`` ``replications`` times, once per value of ``factor`` (if
    given) or as stated, each also with no candidate (the in-house counterfactual)."""
    base = council.scenario
    arms = ([(f"{factor} = {v}", base.replace(**{factor: v})) for v in values] if factor
            else [("as stated", base)])
    groups = []
    for label, scenario in arms:
        g = CouncilOutcome(label, scenario, council.services.names)
        for block in _run(scenario, council, True, replications, seed, threads):
            g.add(block.state, block.panel)
        for block in _run(scenario, council, False, replications, seed, threads):
            g.spend_in_house.append(block.panel["council_spend"].sum(axis=1))
        groups.append(g)
    return CouncilComparison(council, groups, seed, factor, tuple(values))
