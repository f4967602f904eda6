"""The results folder of a sweep: layout, the manifest, and what counts as a finished task.

Layout (``DIR``)::

    manifest.json                      experiment hash, versions, seed, design, task list
    scenarios.parquet                  scenario id -> every parameter
    log.jsonl                          one line per run start, finished and failed task
    tasks/<scenario_id>/<block>.histories.parquet
    tasks/<scenario_id>/<block>.panel.parquet
    tasks/<scenario_id>/<block>.counts.parquet
    tasks/<scenario_id>/<block>.done.json     written last: sizes and sha256 of the three
    tasks/<scenario_id>/<block>.error.json    only while the task's last attempt failed

Only the driver writes, each file to a ``.tmp-*`` name and renamed into place, and a task
is finished exactly when its done marker exists and its files match it. So a run killed at
any instant leaves either a finished task or one that the next run redoes; never a
half-written file that is read as a result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..errors import InputError
from ..io import TMP_PREFIX, write_bytes_atomic, write_json_atomic, write_parquet_atomic
from ..params import FIELD_NAMES, FIELDS
from ..schema import library_versions
from .experiment import Experiment
from .tasks import KINDS, Task, TaskOutput, plan_tasks

FORMAT = "mutualsim-sweep/1"
MANIFEST = "manifest.json"
SCENARIOS = "scenarios.parquet"
LOG = "log.jsonl"
TASKS = "tasks"
# Manifest keys that together determine the results (their hash is the experiment hash).
SPEC_KEYS = ("base", "design", "seed", "replications", "block_size")
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def build_manifest(experiment: Experiment) -> dict[str, Any]:
    """The manifest of an experiment (``created`` is the only field that varies by run)."""
    spec = experiment.spec()
    return {
        "format": FORMAT,
        "experiment_hash": experiment.hash,
        "name": experiment.name,
        "description": experiment.description,
        "experiment_file": experiment.source,
        "base_file": experiment.base_file,
        "mutualsim_version": __version__,
        "versions": library_versions(),
        "created": now(),
        "base_overrides": experiment.base_overrides,
        **{key: spec[key] for key in SPEC_KEYS},
        "factors": list(experiment.factors),
        "design_points": [{"index": p.index, "scenario_id": p.scenario_id, "values": p.values}
                          for p in experiment.points],
        "tasks": [{"id": t.id, "scenario_id": t.scenario_id, "start": t.start, "stop": t.stop}
                  for t in plan_tasks(experiment)],
    }


def scenarios_table(experiment: Experiment) -> pa.Table:
    """One row per distinct scenario: id, first design row, and every parameter."""
    points = experiment.scenarios
    columns: dict[str, pa.Array] = {
        "scenario_id": pa.array([p.scenario_id for p in points], pa.string()),
        "design_index": pa.array([p.index for p in points], pa.int64()),
    }
    for name in FIELD_NAMES:
        kind = str(FIELDS[name].type).split(" ")[0]
        columns[name] = pa.array([getattr(p.scenario, name) for p in points],
                                 _ARROW_TYPES[kind])
    return pa.table(columns)


def _spec_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A short account of what changed between two manifests' specs."""
    changes = []
    for key in SPEC_KEYS:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and key != "design":
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            changes.extend(f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in keys[:3])
        elif isinstance(a, dict | list):
            changes.append(f"{key} changed")
        else:
            changes.append(f"{key} {a!r} -> {b!r}")
    if not changes and old.get("design_points") != new.get("design_points"):
        changes.append("design points changed")
    return ", ".join(changes) or "contents changed"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SweepStore:
    """Reads and writes one sweep's results folder (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ---------------------------------------------------------------- paths
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def task_dir(self, task: Task) -> Path:
        return self.root / TASKS / task.scenario_id

    def file_path(self, task: Task, kind: str) -> Path:
        return self.task_dir(task) / f"{task.block}.{kind}.parquet"

    def done_path(self, task: Task) -> Path:
        return self.task_dir(task) / f"{task.block}.done.json"

    def error_path(self, task: Task) -> Path:
        return self.task_dir(task) / f"{task.block}.error.json"

    # ---------------------------------------------------------------- manifest
    def read_manifest(self) -> dict[str, Any] | None:
        """The stored manifest, None if there is none; InputError if it is not ours."""
        source = str(self.manifest_path)
        if not self.manifest_path.is_file():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"unreadable sweep manifest: {err}", source=source) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InputError(f"not a mutualsim sweep manifest (format {FORMAT})", source=source)
        return manifest

    def check(self, manifest: dict[str, Any]) -> None:
        """Refuse a folder that holds something else; writes nothing."""
        source = f"--out {self.root}"
        if self.root.exists() and not self.root.is_dir():
            raise InputError("exists and is not a folder; give a folder path", source=source)
        stored = self.read_manifest()
        if stored is None:
            if self.root.is_dir() and any(not p.name.startswith(TMP_PREFIX)
                                          for p in self.root.iterdir()):
                raise InputError("is not empty and holds no sweep (no manifest.json); give a "
                                 "new or empty folder", source=source)
            return
        if stored.get("experiment_hash") != manifest["experiment_hash"]:
            raise InputError(
                f"holds a different experiment (hash {stored.get('experiment_hash')}, this "
                f"one {manifest['experiment_hash']}: {_spec_difference(stored, manifest)}); "
                "give another --out folder to run the changed experiment", source=source)
        if stored.get("mutualsim_version") != manifest["mutualsim_version"]:
            raise InputError(
                f"was written by mutualsim {stored.get('mutualsim_version')} and this is "
                f"{manifest['mutualsim_version']}; results would mix versions, give another "
                "--out folder", source=source)

    def initialise(self, manifest: dict[str, Any], scenarios: pa.Table) -> None:
        """Create the folder and write the manifest and scenario table once."""
        self.check(manifest)
        self.root.mkdir(parents=True, exist_ok=True)
        # The manifest first: a shard starting at the same moment then sees a sweep folder.
        if not self.manifest_path.is_file():
            write_json_atomic(self.manifest_path, manifest)
        if not (self.root / SCENARIOS).is_file():
            write_parquet_atomic(self.root / SCENARIOS, scenarios)
        (self.root / TASKS).mkdir(exist_ok=True)

    def clean_temp(self, tasks: Iterable[Task] | None = None) -> int:
        """Remove ``.tmp-*`` leftovers of killed runs: all, or only those of ``tasks``.

        A shard passes its own tasks so that it never removes a file another shard is
        writing at the same moment.
        """
        removed = 0
        if tasks is None:
            folders = [self.root, *((self.root / TASKS).glob("*"))]
            prefixes: tuple[str, ...] = (TMP_PREFIX,)
            candidates = (p for folder in folders if folder.is_dir() for p in folder.iterdir())
        else:
            tasks = list(tasks)
            prefixes = tuple(f"{TMP_PREFIX}{t.block}." for t in tasks)
            folders = sorted({self.task_dir(t) for t in tasks})
            candidates = (p for folder in folders if folder.is_dir() for p in folder.iterdir())
        for path in candidates:
            if path.name.startswith(prefixes):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed += 1
        return removed

    # ---------------------------------------------------------------- task state
    def read_marker(self, task: Task) -> dict[str, Any] | None:
        try:
            marker = json.loads(self.done_path(task).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        return marker if isinstance(marker, dict) else None

    def task_state(self, task: Task, experiment_hash: str, verify: bool = False) -> str:
        """``"done"``, ``"pending"`` (never finished) or ``"damaged: <why>"``.

        Sizes are always checked and the Parquet footer read; ``verify`` also compares
        every byte with the sha256 in the done marker.
        """
        if not self.done_path(task).exists():
            return "pending"
        marker = self.read_marker(task)
        if marker is None or marker.get("experiment_hash") != experiment_hash:
            return "damaged: unreadable done marker"
        for kind in KINDS:
            info = marker.get("files", {}).get(kind, {})
            path = self.file_path(task, kind)
            try:
                size = path.stat().st_size
            except OSError:
                return f"damaged: {path.name} is missing"
            if size != info.get("size"):
                return f"damaged: {path.name} has {size} bytes, expected {info.get('size')}"
            if verify:
                if sha256_of(path) != info.get("sha256"):
                    return f"damaged: {path.name} does not match its sha256"
            else:
                try:
                    pq.read_metadata(path)
                except Exception as err:  # any damage: Arrow, OS or decoding errors
                    return f"damaged: {path.name} is not readable Parquet ({err})"
        return "done"

    def write_result(self, task: Task, output: TaskOutput, experiment_hash: str) -> None:
        """Write a task's files, then its done marker (last), then drop any old error."""
        assert output.files is not None
        self.task_dir(task).mkdir(parents=True, exist_ok=True)
        files = {}
        for kind in KINDS:
            data = output.files[kind]
            path = self.file_path(task, kind)
            write_bytes_atomic(path, data)
            files[kind] = {"name": path.name, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()}
        write_json_atomic(self.done_path(task), {
            "task": task.id, "scenario_id": task.scenario_id, "start": task.start,
            "stop": task.stop, "experiment_hash": experiment_hash, "files": files,
            "elapsed_seconds": round(output.elapsed, 3), "worker": output.worker,
            "finished": now(),
        })
        self.error_path(task).unlink(missing_ok=True)

    def write_error(self, task: Task, error: str, trace: str | None, worker: str) -> None:
        self.task_dir(task).mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.error_path(task), {
            "task": task.id, "error": error, "traceback": trace, "worker": worker,
            "failed": now()})

    def read_error(self, task: Task) -> dict[str, Any] | None:
        try:
            return json.loads(self.error_path(task).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return None

    # ---------------------------------------------------------------- log
    def end_log_line(self) -> None:
        """End a log line cut short by a killed run, so the next record starts a line."""
        path = self.root / LOG
        if path.is_file() and path.stat().st_size:
            with open(path, "rb+") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")

    def log(self, event: str, **fields: Any) -> None:
        """Append one JSON line to ``log.jsonl`` (a history for people; not the task state)."""
        record = {"time": now(), "event": event, **fields}
        with open(self.root / LOG, "ab") as fh:
            fh.write((json.dumps(record, default=str) + "\n").encode())

    def read_log(self) -> list[dict[str, Any]]:
        records = []
        try:
            lines = (self.root / LOG).read_text(encoding="utf-8").splitlines()
        except OSError:
            return records
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records


def driver_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


__all__ = ["SweepStore", "build_manifest", "driver_id", "scenarios_table"]
