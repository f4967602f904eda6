"""Evidence stages as sweeps: a list of design points -> resumable tasks -> outcomes.

Every model run of ``calibrate`` and ``sensitivity`` goes through the sweep layer
(:func:`mutualsim.sweep.run_sweep` on any executor of :func:`~mutualsim.sweep.executors.
open_pool`), so both commands run on local processes or Dask, show the sweep progress bar,
and resume after a kill exactly like ``mutualsim sweep``. A point's outcomes are
``outcomes_from`` over its ``replications`` (seed ``seed``, replications ``0..R-1``): the same
numbers ``run_model(seed, replications, **point)`` returns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd

from ..sweep import Experiment, SweepStore, open_sweep, parse_experiment, run_sweep
from ..sweep.runner import SweepReport
from .outcomes import OUTCOMES, outcomes_from

HIST_COLUMNS = ["scenario_id", "replication", "council_id", "origin", "proposal_year",
                "spinout_year", "censored", "duration_years"]
POINTS_KIND = "points"  # the design kind of an explicit list of points


def points_experiment(name: str, base_overrides: dict[str, Any],
                      points: Sequence[dict[str, Any]], seed: int, replications: int,
                      description: str = "", block_size: int | None = None) -> Experiment:
    """An experiment over explicit design points (``{field: value}`` each, in order).

    The points become a ``kind = "points"`` design (one list per field), validated like an
    experiment file, so the sweep's manifest describes them in full; points without any
    field (``[{}]``) are the base scenario alone. Raises InputError (naming the point) if a
    point is not a valid scenario.
    """
    keys = list(dict.fromkeys(k for p in points for k in p))
    if any(set(p) != set(keys) for p in points):
        raise ValueError("every design point must set the same fields")
    if keys:
        design: dict[str, Any] = {"kind": POINTS_KIND}
        factors = {k: [p[k] for p in points] for k in keys}
    else:
        if len(points) != 1:
            raise ValueError("points without fields: give exactly one ({}), the base")
        design, factors = {"kind": "grid"}, {}
    data = {"name": name, "description": description, "seed": seed,
            "replications": replications, "block_size": block_size or replications,
            "base_overrides": dict(base_overrides), "design": design, "factors": factors}
    return parse_experiment(data, f"mutualsim {name}")


def run_stage(experiment: Experiment, root: Path, executor: Executor, capacity: Any,
              progress: bool = False, description: str = "") -> SweepReport:
    """Run (or resume) one stage's sweep into ``root``.

    Where the sweep store can lock its folder (``SweepStore.locked``), the stage holds the
    lock as ``mutualsim sweep`` does, so a second run on the same folder is refused.
    """
    store = SweepStore(root)
    locked = getattr(store, "locked", None)
    with locked() if callable(locked) else contextlib.nullcontext():
        return run_sweep(experiment, store, executor, capacity=capacity, progress=progress,
                         description=description)


def check_stage(experiment: Experiment, root: Path) -> None:
    """Refuse (before any work) a stage folder holding another experiment."""
    from ..sweep.store import build_manifest
    SweepStore(root).check(build_manifest(experiment))


def point_outcomes(root: Path, experiment: Experiment,
                   blocks: int = 1) -> pd.DataFrame:
    """Outcomes of every design point, in design order (index ``design_index``).

    With ``blocks`` > 1 each point's replications are split into that many equal groups
    and each group gives one row (column ``block``): independent repeats of the point.
    Points whose tasks are not finished are absent.
    """
    sweep = open_sweep(root)
    hist = sweep.histories(columns=HIST_COLUMNS)
    panel = sweep.panel()
    hist_by = dict(tuple(hist.groupby("scenario_id", observed=True)))
    panel_by = dict(tuple(panel.groupby("scenario_id", observed=True)))
    size = experiment.replications // blocks
    cache: dict[str, list[dict[str, float]]] = {}
    rows = []
    for p in experiment.points:
        if p.scenario_id not in panel_by:
            continue
        if p.scenario_id not in cache:
            h_all = hist_by.get(p.scenario_id, hist.iloc[:0])
            p_all = panel_by[p.scenario_id]
            cache[p.scenario_id] = []
            for b in range(blocks):
                lo, hi = b * size, (b + 1) * size
                h = h_all[(h_all["replication"] >= lo) & (h_all["replication"] < hi)]
                pn = p_all[(p_all["replication"] >= lo) & (p_all["replication"] < hi)]
                cache[p.scenario_id].append(outcomes_from(h, pn, p.scenario))
        for b, out in enumerate(cache[p.scenario_id]):
            rows.append({"design_index": p.index, "block": b, "scenario_id": p.scenario_id,
                         **p.values, **out})
    columns = ["design_index", "block", "scenario_id", *experiment.factors, *OUTCOMES]
    frame = pd.DataFrame(rows, columns=columns)
    if blocks == 1:
        frame = frame.drop(columns="block")
    return frame
