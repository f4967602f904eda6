"""Posterior-predictive summary of a sweep run with ``[uncertainty] kind = "posterior"``.

The sweep ran every scenario of its design as given (replications ``0 ... R - 1``: the
single-parameter run) and under each of the same posterior draws (draw ``d`` on
replications ``(d + 1) R ... (d + 2) R - 1``), so it holds exactly what
:func:`mutualsim.analysis.uncertainty.compare_posterior` simulates for the same scenarios,
draws and seed. This module reads it back into a
:class:`~mutualsim.analysis.uncertainty.PosteriorComparison`, so ``mutualsim plot`` reports
it with the estimator and wording of ``compare --uncertainty posterior``
(:mod:`mutualsim.analysis.uncertainty_report`): per scenario S(5), S(10), S(15) and RMST15
as posterior median and 90% interval, the paired difference to the first scenario and
P(better), beside the single-parameter Kaplan-Meier interval.

A draw whose tasks have not all finished is missing for every measure (counted in the
table's ``*_missing`` columns and in ``meta["unfinished_draw_runs"]``), never filled in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..survival import SurvivalCounts
from .compare import Comparison, Group, default_origin, income_share_band
from .from_sweep import _label, _open, _plain
from .uncertainty import MEASURES, PosteriorComparison, estimates

__all__ = ["is_posterior_sweep", "posterior_from_sweep"]

_PANEL = ["replication", "year", "mean_parent_income_share"]


def is_posterior_sweep(path: str | Path) -> bool:
    """True if the sweep folder at ``path`` ran over posterior draws."""
    return _open(Path(path)).experiment.uncertainty is not None


def _counts(sweep: Any, tasks: list[Any], max_time: int, origin: str) -> SurvivalCounts:
    counts = None
    for task in tasks:
        c = SurvivalCounts.from_histories(sweep.task_frame(task, "histories"), max_time,
                                          origin=origin)
        counts = c if counts is None else counts + c
    assert counts is not None
    return counts


def posterior_from_sweep(path: str | Path) -> PosteriorComparison:
    """Summarise a posterior sweep folder (see the module docstring).

    Raises
    ------
    InputError
        If the folder is not a sweep, was run without posterior draws, or the
        single-parameter run of a scenario has not finished.
    """
    path = Path(path)
    sweep = _open(path)
    experiment = sweep.experiment
    uncertainty = experiment.uncertainty
    if uncertainty is None:
        raise InputError("this sweep ran without posterior draws ([uncertainty] kind = "
                         "\"posterior\" in its experiment file)", source=str(path))
    factors = list(experiment.factors)
    single_factor = factors[0] if len(factors) == 1 else None
    origin = default_origin(single_factor) if single_factor else "spinout"
    policies = experiment.policies
    labels = [_label(pd.Series({"scenario_id": p.scenario_id, **p.values}), factors)
              for p in policies]
    values = [_plain(p.values[single_factor]) if single_factor else label
              for p, label in zip(policies, labels, strict=True)]
    from ..sweep.tasks import run_tasks
    runs = run_tasks(experiment)
    done = set(sweep.done)

    def finished(key: tuple[str, int]) -> bool:
        return all(t in done for t in runs[key])

    groups = []
    for p, value, label in zip(policies, values, labels, strict=True):
        key = (p.scenario_id, 0)
        if not finished(key):
            raise InputError(f"the single-parameter run of scenario {p.scenario_id} "
                             f"({label}) has not finished; run the sweep again to finish "
                             "it", source=str(path))
        counts = _counts(sweep, runs[key], p.scenario.years, origin)
        panel = pd.concat([sweep.task_frame(t, "panel", _PANEL) for t in runs[key]],
                          ignore_index=True)
        groups.append(Group(value=value, label=label, counts=counts, spinouts=counts.n,
                            replications=int(panel["replication"].nunique()),
                            income_share=income_share_band(panel), origin=origin))
    factor = single_factor or (", ".join(factors) or "scenario")
    manifest = sweep.manifest
    single = Comparison(factor=factor, groups=groups, scenario=None,
                        replications=experiment.replications, seed=experiment.seed,
                        origin=origin,
                        meta={"title": None if single_factor else "scenario",
                              "details": {"Sweep folder": str(path),
                                          "Experiment": manifest.get("name"),
                                          "Experiment hash": manifest.get("experiment_hash")}})

    index = {p.scenario_id: j for j, p in enumerate(policies)}
    records = []
    unfinished = 0
    policy_of = {p.index: index[p.scenario_id] for p in experiment.points if p.draw is None}
    by_draw = {(p.draw, policy_of[p.index]): p for p in experiment.points
               if p.draw is not None}
    for d in range(uncertainty.draws):
        for j in range(len(policies)):
            point = by_draw[(d, j)]
            key = (point.scenario_id, point.first)
            record: dict[str, Any] = {"draw": d, "row": uncertainty.rows[d], "value_index": j,
                                      "value": values[j], "label": labels[j]}
            if finished(key):
                counts = _counts(sweep, runs[key], point.scenario.years, origin)
                record |= {"spinouts": counts.n} | estimates(counts)
            else:
                unfinished += 1
                record |= {"spinouts": np.nan} | dict.fromkeys(MEASURES, np.nan)
            records.append(record)
    return PosteriorComparison(
        factor=factor, values=values, labels=labels, draws=pd.DataFrame(records),
        single=single, n_draws=uncertainty.draws, replications=experiment.replications,
        seed=experiment.seed, origin=origin, posterior=uncertainty.source,
        posterior_label=uncertainty.label,
        meta={"unfinished_draw_runs": unfinished, "sweep": str(path)})
