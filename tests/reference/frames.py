"""Histories and panel frames of reference runs, in the kernel's columns and dtypes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from mutualsim.params import Scenario

from .agents import INCUBATING, TRADING
from .model import COLUMNS, ReferenceMarket

ORIGINS = ("reactive", "strategic")


def run_models(scenario: Scenario, seed: int, replications: Iterable[int],
               shuffle: bool = True, services: Any = None) -> list[ReferenceMarket]:
    """Run each replication to the horizon, one model after another (``services``: a
    council file's, :class:`mutualsim.council.Services`)."""
    models = []
    for i in replications:
        model = ReferenceMarket(scenario, seed=seed, replication=int(i), shuffle=shuffle,
                                services=services)
        while model.running:
            model.step()
        models.append(model)
    return models


def histories_frame(models: list[ReferenceMarket]) -> pd.DataFrame:
    """One row per mutual ever proposed, as ``mutualsim.simulate`` reports it."""
    rows = []
    for model in models:
        end = model.params.end_year
        for s in model.ever_proposed():
            spun, exited = s.spinout_year >= 0, s.exit_year >= 0
            duration = (s.exit_year if exited else end) - s.spinout_year + 1
            incubated = s.teckal_end >= 0
            at_risk = (s.teckal_end - model.params.incubation_years if incubated
                       else s.spinout_year)
            risk_end = (s.exit_year if exited
                        else s.teckal_end if s.incubation == "taken_back" else end)
            rows.append({
                "replication": model.replication,
                "mutual_id": s.index,
                "council_id": s.council.index,
                "origin": s.origin,
                "proposal_year": s.proposal_year,
                "incubation_outcome": "incubating" if s.stage == INCUBATING else s.incubation,
                "spinout_year": s.spinout_year if spun else None,
                "exit_year": s.exit_year if exited else None,
                "exit_cause": s.exit_cause,
                "censored": spun and s.stage in TRADING,
                "duration_years": duration if spun else None,
                "at_risk_year": at_risk if incubated or spun else None,
                "at_risk_duration_years": (risk_end - at_risk + 1 if incubated or spun
                                           else None),
                "parent_income_share": s.parent_share if spun else float("nan"),
                "final_stage": s.stage,
                "tenders": s.tenders,
                "tender_wins": s.tender_wins,
                "capability": s.capability,
                "reserves": s.reserves,
                "social_value": s.social_value,
                "baseline_value": s.v0,
            })
    frame = pd.DataFrame(rows)

    def column(name: str) -> list:
        return [row[name] for row in rows]

    return frame.assign(
        replication=frame["replication"].astype("int64"),
        mutual_id=frame["mutual_id"].astype("int64"),
        council_id=frame["council_id"].astype("int64"),
        origin=pd.Categorical(column("origin"), categories=ORIGINS),
        proposal_year=frame["proposal_year"].astype("int64"),
        incubation_outcome=pd.Series(column("incubation_outcome"), dtype=object),
        spinout_year=pd.array(column("spinout_year"), dtype="Int64"),
        exit_year=pd.array(column("exit_year"), dtype="Int64"),
        exit_cause=pd.array(column("exit_cause"), dtype="string"),
        censored=frame["censored"].astype(bool),
        duration_years=pd.array(column("duration_years"), dtype="Int64"),
        at_risk_year=pd.array(column("at_risk_year"), dtype="Int64"),
        at_risk_duration_years=pd.array(column("at_risk_duration_years"), dtype="Int64"),
        final_stage=pd.Series(column("final_stage"), dtype=object),
        tenders=frame["tenders"].astype("int64"),
        tender_wins=frame["tender_wins"].astype("int64"),
    )


def panel_frame(models: list[ReferenceMarket]) -> pd.DataFrame:
    """One row per replication and year."""
    rows = [{"replication": model.replication, **row} for model in models
            for row in model.rows]
    frame = pd.DataFrame(rows, columns=["replication", "year", *COLUMNS])
    return frame.astype({"replication": "int64", "year": "int64",
                         **dict.fromkeys(COLUMNS, "float64")})


def run_reference(scenario: Scenario, seed: int, replications: Iterable[int],
                  services: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(histories, panel)`` of the reference model, comparable to ``simulate``'s."""
    models = run_models(scenario, seed, replications, services=services)
    return histories_frame(models), panel_frame(models)
