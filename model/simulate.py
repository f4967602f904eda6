"""Batch simulation: many replications through the one kernel, no Python object per agent.

Replications run in blocks (bounded memory); each block draws per-replication streams, so
the result for replication ``i`` does not depend on the block it ran in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .blocks import (  # noqa: F401  (re-exported: the blocks are part of this API)
    DEFAULT_BLOCK,
    BlockResult,
    _check_seed,
    _replication_indices,
    default_threads,
    run_block,
    simulate_blocks,
)
from .params import Scenario
from .schema import ENUMERATIONS, PANEL_COUNTS, PANEL_FLAGS
from .spells import Spells
from .state import CAUSE_NAMES
from .survival import SurvivalCounts, survival_at

if TYPE_CHECKING:
    from .council import Services


def simulate(scenario: Scenario, replications: int | Iterable[int] = 1000, seed: int = 0,
             *, block_size: int = DEFAULT_BLOCK, progress: bool = False,
             threads: int | None = None, services: Services | None = None) -> Results:
    """Run ``replications`` (a count, or explicit indices) of ``scenario`` with ``seed``.

    Replications run in blocks of ``block_size`` (bounded memory), ``threads`` at a time
    (default: :func:`default_threads`); neither changes any result.
    """
    idx = _replication_indices(replications)
    _check_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(idx) * scenario.years, unit="rep-yr", desc="simulating",
                   dynamic_ncols=True)
    histories, panels = [], []
    try:
        # Each block's state is dropped once its frames are built: memory holds the frames.
        for block in simulate_blocks(scenario, idx, seed, block_size=block_size,
                                     threads=threads, services=services,
                                     on_year=bar.update if bar is not None else None):
            histories.append(histories_frame(block, scenario))
            panels.append(panel_frame(block, scenario))
    finally:
        if bar is not None:
            bar.close()
    return Results(scenario=scenario, seed=int(seed),
                   histories=pd.concat(histories, ignore_index=True),
                   panel=pd.concat(panels, ignore_index=True))


def _categorical(codes: np.ndarray, kind: str) -> pd.Categorical:
    """Codes into ``schema.ENUMERATIONS[kind]`` (-1 = missing) as a full-category Categorical."""
    return pd.Categorical.from_codes(codes.astype(np.int8), list(ENUMERATIONS[kind]))


def histories_frame(block: BlockResult, scenario: Scenario) -> pd.DataFrame:
    """One row per mutual ever proposed (slot with a proposal year).

    Columns and dtypes follow :data:`mutualsim.schema.HISTORIES`: counts ``int64``, years
    that may be missing nullable ``Int64``, enumerations ``Categorical`` with every value.
    """
    st = block.state
    sp = Spells.of(block, scenario)
    r, m, spun = sp.r, sp.m, sp.spun

    def nullable(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(values.astype(np.int64), ~mask)

    return pd.DataFrame({
        "replication": block.replications[r].astype(np.int64),
        "mutual_id": m.astype(np.int64),
        "council_id": (m // scenario.services_per_council).astype(np.int64),
        "origin": _categorical(st.origin[r, m], "origin"),
        "proposal_year": st.proposal_year[r, m].astype(np.int64),
        "incubation_outcome": _categorical(sp.incubation, "incubation_outcome"),
        "spinout_year": nullable(st.spinout_year[r, m], spun),
        "exit_year": nullable(st.exit_year[r, m], sp.exited),
        "exit_cause": _categorical(sp.cause, "exit_cause"),
        "censored": sp.censored,
        "duration_years": nullable(sp.duration, spun),
        "at_risk_year": nullable(sp.at_risk, sp.has_risk),
        "at_risk_duration_years": nullable(sp.at_risk_duration, sp.has_risk),
        "parent_income_share": np.where(spun, st.parent_share[r, m], np.nan),
        "final_stage": _categorical(st.stage[r, m], "final_stage"),
        "tenders": st.tenders[r, m].astype(np.int64),
        "tender_wins": st.tender_wins[r, m].astype(np.int64),
        "capability": st.capability[r, m],
        "reserves": st.reserves[r, m],
        "social_value": st.social_value[r, m],
        "baseline_value": st.v0[r, m],
    })


def block_counts(block: BlockResult, scenario: Scenario, max_time: int,
                 origin: str = "spinout") -> SurvivalCounts:
    """The survival counts of a block, straight from its state: equal to
    ``SurvivalCounts.from_histories(histories_frame(block, scenario), max_time,
    origin=origin)`` (checked by a test) without building the histories table, for
    callers that keep only the counts (``compare``, the workshop page).

    Raises:
        ValueError: ``origin`` is neither ``"spinout"`` nor ``"incubation"``.
    """
    sp = Spells.of(block, scenario)
    rows = sp.spun if origin == "spinout" else sp.has_risk   # a bad origin: from_exits says
    durations = sp.duration if origin == "spinout" else sp.at_risk_duration
    exit_causes = np.where(sp.exited, sp.cause + 1, 0)   # 1-based, 0 = still running
    return SurvivalCounts.from_exits(durations[rows].astype(np.float64), exit_causes[rows],
                                     max_time, taken_back=sp.taken_back[rows], origin=origin)


def panel_frame(block: BlockResult, scenario: Scenario) -> pd.DataFrame:
    """One row per replication and year, dtypes as :data:`mutualsim.schema.PANEL`."""
    R, T = len(block.replications), scenario.years
    frame = {
        "replication": np.repeat(block.replications.astype(np.int64), T),
        "year": np.tile(np.arange(scenario.start_year, scenario.start_year + T,
                                  dtype=np.int64), R),
    }
    for name, values in block.panel.items():
        flat = values.reshape(-1)
        if name in PANEL_COUNTS:
            flat = flat.astype(np.int64)
        elif name in PANEL_FLAGS:
            flat = flat.astype(bool)
        frame[name] = flat
    return pd.DataFrame(frame)


@dataclass
class Results:
    """What a simulation produced: ``histories`` (one row per mutual) and ``panel``."""

    scenario: Scenario
    seed: int
    histories: pd.DataFrame
    panel: pd.DataFrame

    @property
    def spun_out(self) -> pd.DataFrame:
        return self.histories[self.histories["spinout_year"].notna()]

    def counts(self) -> SurvivalCounts:
        """Survival counts of the spun-out mutuals (years 0..``scenario.years``)."""
        return SurvivalCounts.from_histories(self.histories, max_time=self.scenario.years)

    def survival_at(self, years: Iterable[int] = (5, 10, 15)) -> dict[int, float]:
        """Kaplan-Meier share still trading t years after spin-out, ``{t: S(t)}``.

        See :func:`mutualsim.survival.survival_at`: NaN (*n/a*) where no mutual was
        followed for t years, 0.0 once every mutual has exited.
        """
        return survival_at(self.counts(), years)

    def summary(self) -> str:
        """A few lines a user reads after a run (see :class:`RunSummary`)."""
        summary = RunSummary(self.scenario, self.seed)
        summary.add(self.histories, self.panel)
        return summary.text()


@dataclass
class RunSummary:
    """What ``mutualsim run`` prints, gathered block by block (so a run can stream its
    blocks to disk and keep memory flat): survival counts, proposals, replications, and
    the income share of the mutuals trading in the last year.
    """

    scenario: Scenario
    seed: int
    replications: int = 0
    proposals: int = 0
    counts: SurvivalCounts | None = None
    _share_weighted: float = 0.0
    _trading_last_year: int = 0

    def add(self, histories: pd.DataFrame, panel: pd.DataFrame) -> None:
        """Take in one block's histories and panel."""
        last = panel[panel["year"] == self.scenario.end_year]
        self._take(SurvivalCounts.from_histories(histories, max_time=self.scenario.years),
                   int(panel["replication"].nunique()), len(histories),
                   last["mutuals_trading"].to_numpy(np.float64),
                   last["mean_parent_income_share"].to_numpy(np.float64))

    def add_block(self, block: BlockResult) -> None:
        """Take in one block straight from its arrays (what :meth:`add` takes from its
        histories and panel frames, without building them: ``mutualsim run``)."""
        self._take(block_counts(block, self.scenario, self.scenario.years),
                   len(block.replications), int((block.state.proposal_year >= 0).sum()),
                   block.panel["mutuals_trading"][:, -1].astype(np.float64),
                   block.panel["mean_parent_income_share"][:, -1].astype(np.float64))

    def _take(self, counts: SurvivalCounts, replications: int, proposals: int,
              trading: np.ndarray, share: np.ndarray) -> None:
        """Add a block: its counts, replications, proposals, and per replication the
        mutuals trading in the last year and their mean parent-income share."""
        self.counts = counts if self.counts is None else self.counts + counts
        self.replications += replications
        self.proposals += proposals
        self._share_weighted += float(np.nansum(share * trading))
        self._trading_last_year += int(trading.sum())

    def text(self) -> str:
        sc, counts = self.scenario, self.counts
        if counts is None:
            raise ValueError("no block was added")
        n_rep = max(self.replications, 1)
        s = survival_at(counts, (5, 10, 15))
        exits = counts.events_by_cause.sum(axis=1)
        share = self._share_weighted / max(self._trading_last_year, 1)
        cause_text = ", ".join(f"{c} {int(n)}"
                               for c, n in zip(CAUSE_NAMES[1:], exits, strict=True))
        lines = [
            f"{self.replications} replications x {sc.years} years "
            f"({sc.start_year}-{sc.end_year}), seed {self.seed}: "
            f"{self.proposals} proposals, {counts.n} spin-outs "
            f"({counts.n / n_rep:.1f} per replication)",
            "still trading after 5 / 10 / 15 years: "
            + " / ".join("n/a" if np.isnan(v) else f"{v:.1%}" for v in s.values()),
            f"exits by cause: {cause_text}; still trading at the horizon "
            f"{int(counts.censored.sum())}",
            f"mean parent-council share of income, mutuals trading in "
            f"{sc.end_year}: {share:.1%}",
        ]
        return "\n".join(lines)
