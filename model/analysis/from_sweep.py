"""Build a :class:`Comparison` from a finished sweep folder (``mutualsim plot DIR``).

Groups are the sweep's scenarios, labelled by the factors the design varies. The sweep
layer is another package that may change, so it is imported lazily and only its public
reader (``open_sweep``: ``.scenarios``, ``.factors``, ``.counts()``, ``.panel()``) is used;
anything missing becomes a one-line :class:`~mutualsim.errors.InputError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..survival import SurvivalCounts
from .compare import (
    Comparison,
    Group,
    income_share_band,
    value_label,
)

__all__ = ["comparison_from_sweep"]


def _open(path: Path) -> Any:
    try:
        from ..sweep import open_sweep
    except ImportError:
        raise InputError("the sweep layer (mutualsim.sweep.open_sweep) is not available in "
                         "this installation", source=str(path)) from None
    if not Path(path).is_dir():
        raise InputError("no such folder; give a sweep results folder", source=str(path))
    return open_sweep(path)


def _factors(sweep: Any, scenarios: pd.DataFrame) -> list[str]:
    factors = list(getattr(sweep, "factors", ()) or ())
    if not factors:  # fall back to the parameters that differ between scenarios
        params = [c for c in scenarios.columns if c not in ("scenario_id", "design_index")]
        factors = [c for c in params if scenarios[c].astype(str).nunique() > 1]
    return factors


def _label(row: pd.Series, factors: list[str]) -> str:
    if not factors:
        return str(row["scenario_id"])
    if len(factors) == 1:
        return value_label(factors[0], _plain(row[factors[0]]))
    return ", ".join(f"{f}={_plain(row[f])}" for f in factors)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _counts(sweep: Any, sid: str, max_time: int) -> SurvivalCounts:
    """Counts with causes from the sweep's tally, else re-tabulated from its histories."""
    counts = sweep.counts(sid) if hasattr(sweep, "counts") else None
    if counts is not None and counts.events_by_cause is not None and counts.n > 0:
        return counts.extend(max(max_time, counts.max_time))
    columns = ["duration_years", "censored", "exit_cause"]
    histories = sweep.histories(sid, columns=columns)
    return SurvivalCounts.from_histories(histories, max_time)


def comparison_from_sweep(path: str | Path) -> Comparison:
    """Summarise a sweep folder as a Comparison, one group per scenario with spin-outs.

    Parameters
    ----------
    path : str or Path
        A folder written by ``mutualsim sweep``.

    Returns
    -------
    Comparison
        Groups in design order; the first scenario is the reference for differences.

    Raises
    ------
    InputError
        If the folder is not a sweep, has no finished task, or no spin-outs.
    """
    path = Path(path)
    sweep = _open(path)
    scenarios = sweep.scenarios
    if "design_index" in scenarios.columns:
        scenarios = scenarios.sort_values("design_index", kind="stable")
    factors = _factors(sweep, scenarios)
    max_time = int(scenarios["years"].max()) if "years" in scenarios.columns else 0
    panel_all = sweep.panel(columns=["scenario_id", "replication", "year",
                                     "mean_parent_income_share"])
    groups = []
    left_out = []
    for _, row in scenarios.iterrows():
        sid = row["scenario_id"]
        counts = _counts(sweep, sid, max_time)
        if counts.n == 0:
            left_out.append(str(sid))
            continue
        panel = panel_all[panel_all["scenario_id"] == sid]
        value = _plain(row[factors[0]]) if len(factors) == 1 else _label(row, factors)
        groups.append(Group(value=value, label=_label(row, factors), counts=counts,
                            spinouts=counts.n, replications=int(panel["replication"].nunique()),
                            income_share=income_share_band(panel) if len(panel) else None))
    if not groups:
        raise InputError("no finished task with any spin-out to plot; run the sweep first",
                         source=str(path))
    manifest = getattr(sweep, "manifest", {}) or {}
    factor = factors[0] if len(factors) == 1 else ", ".join(factors) or "scenario"
    meta = {"title": None if len(factors) == 1 else "scenario", "left_out": left_out,
            "details": {"Sweep folder": str(path),
                        "Experiment": manifest.get("name") or manifest.get("experiment_name"),
                        "Experiment hash": manifest.get("experiment_hash"),
                     "Scenarios left out (no finished task or no spin-out)":
                         f"{len(left_out)}: {', '.join(left_out)}" if left_out else None}}
    return Comparison(factor=factor, groups=groups, scenario=None,
                      replications=max(g.replications for g in groups),
                      seed=manifest.get("seed"), meta=meta)
