"""Reading a sweep's results folder: ``open_sweep(DIR)``.

Only finished tasks (those with a done marker whose files match its sha256) are read, so a
folder can be opened while a sweep is still running or after it was interrupted, and a
damaged file is left out (with one warning line) rather than read as a result. The manifest
is checked against its own hash and contents when the folder is opened. Histories and
panels come back as pandas frames for a few scenarios, or as a ``pyarrow.dataset`` to query
the whole sweep without loading it; survival counts are summed over tasks, never over raw
rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..errors import InputError
from ..schema import empty_table, to_frame
from ..survival import SurvivalCounts, survival_at
from .store import SweepStore, scenarios_table
from .tasks import KINDS, Task

SUMMARY_TIMES = (5, 10, 15)


class DamagedResultsWarning(UserWarning):
    """Some finished tasks' files do not match their done markers and are left out."""


class Sweep:
    """A sweep's results folder, read only.

    Attributes
    ----------
    path : pathlib.Path
    manifest : dict
        ``manifest.json``: experiment hash, versions, seed, design, task list.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.store = SweepStore(self.path)
        manifest = self.store.read_manifest()
        if manifest is None:
            raise InputError("not a sweep results folder (no manifest.json)",
                             source=str(self.path))
        self.manifest: dict[str, Any] = manifest
        self.experiment = self.store.experiment()

    # ---------------------------------------------------------------- what was planned
    @cached_property
    def scenarios(self) -> pd.DataFrame:
        """One row per scenario: ``scenario_id``, ``design_index`` and every parameter.

        Built from the (verified) manifest, of which ``scenarios.parquet`` is a copy, so a
        damaged copy is never read."""
        assert self.experiment is not None
        return scenarios_table(self.experiment).to_pandas()

    @property
    def factors(self) -> tuple[str, ...]:
        """The parameters the design varies."""
        return tuple(self.manifest["factors"])

    def design(self) -> pd.DataFrame:
        """Design points in design order (for SALib's analysers: rows of X, in order)."""
        rows = [{"design_index": p["index"], "scenario_id": p["scenario_id"], **p["values"]}
                for p in self.manifest["design_points"]]
        return pd.DataFrame(rows, columns=["design_index", "scenario_id", *self.factors])

    @cached_property
    def _tasks(self) -> list[Task]:
        return [Task(t["scenario_id"], t["start"], t["stop"]) for t in self.manifest["tasks"]]

    @cached_property
    def _states(self) -> dict[Task, str]:
        """Each task's state (done / pending / damaged: why), files checked by sha256."""
        states = {t: self.store.task_state(t, self.manifest["experiment_hash"])
                  for t in self._tasks}
        damaged = [(t, s) for t, s in states.items() if s.startswith("damaged")]
        if damaged:
            first, why = damaged[0]
            # Attributed to the folder (not a source line), so it prints as one line.
            warnings.warn_explicit(
                f"{len(damaged)} finished task(s) have damaged files and are left out "
                f"({first.id}: {why.removeprefix('damaged: ')}); run mutualsim sweep again "
                "to recompute them", DamagedResultsWarning, str(self.path), 0)
        return states

    @cached_property
    def _done(self) -> list[Task]:
        return [t for t in self._tasks if self._states[t] == "done"]

    @property
    def tasks(self) -> pd.DataFrame:
        """Every planned task with its status (done / damaged / failed / pending) and the
        last error (or what is damaged)."""
        rows = []
        for t in self._tasks:
            state = self._states[t]
            error = None if state != "pending" else self.store.read_error(t)
            if state.startswith("damaged"):
                status, text = "damaged", state.removeprefix("damaged: ")
            else:
                status = state if state == "done" else ("failed" if error else "pending")
                text = error.get("error") if error else None
            rows.append({"task": t.id, "scenario_id": t.scenario_id, "start": t.start,
                         "stop": t.stop, "status": status, "error": text})
        return pd.DataFrame(rows)

    @property
    def done(self) -> list[Task]:
        """Finished tasks (files matching their done markers), in task order."""
        return list(self._done)

    def task_frame(self, task: Task, kind: str,
                   columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One finished task's rows of ``kind`` (``histories``, ``panel`` or ``counts``)."""
        if task not in self._states or self._states[task] != "done":
            raise InputError(f"task {task.id} has not finished", source=str(self.path))
        table = pq.read_table(self.store.file_path(task, kind),
                              columns=list(columns) if columns else None)
        return to_frame(table)

    @property
    def complete(self) -> bool:
        return len(self._done) == len(self._tasks)

    # ---------------------------------------------------------------- results
    def _ids(self, scenario_id: str | Sequence[str] | None) -> set[str] | None:
        if scenario_id is None:
            return None
        ids = {scenario_id} if isinstance(scenario_id, str) else set(scenario_id)
        unknown = sorted(ids - set(self.scenarios["scenario_id"]))
        if unknown:
            raise InputError(f"unknown scenario id {unknown[0]!r}", source=str(self.path))
        return ids

    def files(self, kind: str, scenario_id: str | Sequence[str] | None = None) -> list[Path]:
        """Result files of finished tasks, in task order (scenario, then replication)."""
        if kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}",
                             source="Sweep")
        ids = self._ids(scenario_id)
        return [self.store.file_path(t, kind) for t in self._done
                if ids is None or t.scenario_id in ids]

    def dataset(self, kind: str = "histories",
                scenario_id: str | Sequence[str] | None = None) -> ds.Dataset:
        """A ``pyarrow.dataset`` over every finished task's file of ``kind``.

        Its schema is :func:`mutualsim.schema.schema` ``(kind, scenario_id=True)`` whatever
        the data. Files with no rows are left out: they add nothing, and Parquet cannot keep
        an enumeration's dictionary in a file without rows, which would stop pyarrow from
        joining the dataset with another table. With no rows at all, an empty in-memory
        dataset of the same schema.
        """
        files = [str(p) for p in self.files(kind, scenario_id)
                 if pq.read_metadata(p).num_rows > 0]
        if not files:
            return ds.dataset(empty_table(kind, scenario_id=True))
        return ds.dataset(files, format="parquet")

    def _frame(self, kind: str, scenario_id: str | Sequence[str] | None,
               columns: Sequence[str] | None) -> pd.DataFrame:
        """Rows of ``kind`` as pandas, dtypes as :func:`mutualsim.schema.to_frame` gives."""
        names = list(columns) if columns else None
        dataset = self.dataset(kind, scenario_id)
        if names:
            unknown = sorted(set(names) - set(dataset.schema.names))
            if unknown:
                raise InputError(f"no column {unknown[0]!r} in {kind}", source=str(self.path))
        return to_frame(dataset.to_table(columns=names))

    def histories(self, scenario_id: str | Sequence[str] | None = None,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per mutual ever proposed, with a ``scenario_id`` column."""
        return self._frame("histories", scenario_id, columns)

    def panel(self, scenario_id: str | Sequence[str] | None = None,
              columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per replication and year, with a ``scenario_id`` column."""
        return self._frame("panel", scenario_id, columns)

    def counts(self, scenario_id: str) -> SurvivalCounts:
        """Survival counts of one scenario, summed over its finished tasks."""
        total = SurvivalCounts(np.zeros(0, np.int64), np.zeros(0, np.int64))
        for path in self.files("counts", scenario_id):
            frame = to_frame(pq.read_table(path).drop_columns(["scenario_id"]))
            total = total + SurvivalCounts.from_frame(frame)
        return total

    def summary(self, times: Iterable[int] = SUMMARY_TIMES) -> pd.DataFrame:
        """Per scenario: the varied factors, replications done and missing, spin-outs, S(t).

        ``missing_replications`` counts planned replications whose task has not finished
        (failed or pending): they are left out of ``spinouts`` and S(t), never filled
        in. S(t) is :func:`mutualsim.survival.survival_at` of the summed counts (NaN
        where no mutual was followed for t years, or nothing finished).
        """
        times = list(times)
        planned: dict[str, int] = {}
        done_reps: dict[str, int] = {}
        for t in self._tasks:
            planned[t.scenario_id] = planned.get(t.scenario_id, 0) + t.replications
        for t in self._done:
            done_reps[t.scenario_id] = done_reps.get(t.scenario_id, 0) + t.replications
        rows = []
        for _, sc in self.scenarios.iterrows():
            sid = sc["scenario_id"]
            counts = self.counts(sid)
            row: dict[str, Any] = {"scenario_id": sid}
            row.update({f: sc[f] for f in self.factors})
            row["replications"] = done_reps.get(sid, 0)
            row["missing_replications"] = max(planned.get(sid, 0) - row["replications"], 0)
            row["spinouts"] = counts.n
            row.update({f"S({t})": s for t, s in survival_at(counts, times).items()})
            rows.append(row)
        return pd.DataFrame(rows)


def open_sweep(path: str | Path) -> Sweep:
    """Open a sweep's results folder (see :class:`Sweep`)."""
    return Sweep(path)
