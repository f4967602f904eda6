"""The results folder of a sweep: layout, the manifest, and what counts as a finished task.

Layout (``DIR``)::

    manifest.json                      experiment hash, versions, seed, design, task list,
                                       and manifest_sha256, the hash of all of that
    scenarios.parquet                  scenario id -> every parameter (derived from the
                                       manifest; rewritten by ``sweep`` if damaged)
    .lock                              held (flock) by the sweep running on the folder
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

Integrity: one sweep at a time holds the folder (an ``flock`` on ``.lock``, released by the
operating system when the process ends, however it ends; shards hold it shared, each shard
its own ``.lock-shard-K-of-N``). The manifest carries the sha256 of its own canonical content
and must agree with the experiment it describes (the design, the hash, the task list) or it
is refused. Every task file is checked against the sha256 in its done marker whenever the
folder is opened, so a damaged file is never read as a result; the next ``sweep`` redoes it.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..errors import InputError
from ..io import TMP_PREFIX, write_bytes_atomic, write_json_atomic, write_parquet_atomic
from ..params import FIELD_NAMES, FIELDS
from ..schema import library_versions
from .experiment import (
    Experiment,
    Uncertainty,
    canonical_json,
    parse_experiment,
    with_posterior,
)
from .tasks import KINDS, Shard, Task, TaskOutput, plan_tasks

FORMAT = "mutualsim-sweep/1"
MANIFEST = "manifest.json"
SCENARIOS = "scenarios.parquet"
LOG = "log.jsonl"
TASKS = "tasks"
LOCK = ".lock"
MANIFEST_HASH = "manifest_sha256"
# flock errors that mean "this file system has no locks", not "someone holds the lock".
NO_LOCKS = (errno.ENOLCK, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP)
# Keys left out of the manifest's own hash: the hash itself and the creation time.
UNHASHED_KEYS = (MANIFEST_HASH, "created")
# Manifest keys that must equal the manifest rebuilt from its own experiment description.
DERIVED_KEYS = ("experiment_hash", "base", "design", "seed", "replications", "block_size",
                "factors", "design_points", "tasks", "uncertainty")
# Manifest keys that together determine the results (their hash is the experiment hash).
SPEC_KEYS = ("base", "design", "seed", "replications", "block_size", "uncertainty")
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def build_manifest(experiment: Experiment) -> dict[str, Any]:
    """The manifest of an experiment (``created`` is the only field that varies by run)."""
    spec = experiment.spec()
    posterior = experiment.uncertainty
    manifest = {
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
        **{key: spec[key] for key in SPEC_KEYS if key in spec},
        "factors": list(experiment.factors),
        "design_points": [{"index": p.index, "scenario_id": p.scenario_id, "values": p.values}
                          | ({} if posterior is None else {"draw": p.draw, "first": p.first})
                          for p in experiment.points],
        "tasks": [{"id": t.id, "scenario_id": t.scenario_id, "start": t.start, "stop": t.stop}
                  for t in plan_tasks(experiment)],
    }
    if posterior is not None:  # where the draws came from (for reports; not derived)
        manifest |= {"posterior_file": posterior.source, "posterior_label": posterior.label}
    return manifest


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


def _plain(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as it reads back from JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(manifest, default=str))


def manifest_digest(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON, without its own hash and creation time."""
    content = {k: v for k, v in _plain(manifest).items() if k not in UNHASHED_KEYS}
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def seal_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with ``manifest_sha256`` set: what is written to ``manifest.json``."""
    return {**_plain(manifest), MANIFEST_HASH: manifest_digest(manifest)}


def experiment_from_manifest(manifest: dict[str, Any], source: str) -> Experiment:
    """Rebuild the experiment a manifest describes (design points regenerated from the design).

    Raises InputError (one line naming ``source``) when the manifest does not describe a valid
    experiment, e.g. an unknown factor name or a missing key.
    """
    try:
        design = dict(manifest["design"])
        table = design.pop("factors")
        # manifest.json is written with sorted keys: the factor order is the "factors" list.
        if sorted(table) != sorted(manifest["factors"]):
            raise InputError("its 'factors' and its design's factors differ")
        factors = {name: table[name] for name in manifest["factors"]}
        base = dict(manifest["base"])
        data = {
            "name": manifest["name"], "description": manifest["description"],
            "seed": manifest["seed"], "replications": manifest["replications"],
            "block_size": manifest["block_size"], "design": design, "factors": factors,
            "base_overrides": {k: v for k, v in base.items()
                               if k not in factors and v is not None},
        }
        experiment = parse_experiment(data, source)
        if manifest.get("uncertainty") is not None:
            spec = manifest["uncertainty"]
            experiment = with_posterior(experiment, Uncertainty(
                draws=int(spec["draws"]), rows=tuple(int(r) for r in spec["rows"]),
                sets=tuple(dict(s) for s in spec["parameter_sets"]),
                source=str(manifest.get("posterior_file", "")),
                label=str(manifest.get("posterior_label", "")), kind=str(spec["kind"])),
                source)
        # A factor's base value never reaches a scenario but is part of the experiment hash.
        resolved = experiment.base.replace(**{k: base[k] for k in factors if k in base})
        return dataclasses.replace(experiment, base=resolved)
    except InputError as err:
        raise InputError(f"does not describe a valid experiment: {err}",
                         source=source) from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"does not describe a valid experiment ({type(err).__name__}: "
                         f"{err})", source=source) from None


def verify_manifest(manifest: dict[str, Any], source: str) -> Experiment:
    """Check a manifest against its own hash and its contents; return its experiment.

    Refuses (InputError, one line) a manifest edited by hand or cut short: its
    ``manifest_sha256`` must match its content, and the experiment hash, design points and
    task list must be those its design, seed and replications give.
    """
    stored = manifest.get(MANIFEST_HASH)
    if not isinstance(stored, str):
        raise InputError(f"has no {MANIFEST_HASH} (written by an older mutualsim, or edited); "
                         "run the sweep into a new --out folder", source=source)
    if stored != manifest_digest(manifest):
        raise InputError("does not match its own sha256 (edited or damaged after it was "
                         "written); run the sweep into a new --out folder", source=source)
    experiment = experiment_from_manifest(manifest, source)
    rebuilt = _plain(build_manifest(experiment))
    if manifest.get("experiment_hash") != rebuilt["experiment_hash"]:
        raise InputError("key 'experiment_hash' does not agree with its base, design, seed, "
                         "replications and block_size; run the sweep into a new --out folder",
                         source=source)
    for key in DERIVED_KEYS:
        if manifest.get(key) != rebuilt.get(key):
            raise InputError(f"key {key!r} does not agree with the experiment it describes; "
                             "run the sweep into a new --out folder", source=source)
    return experiment


def scenarios_ok(path: Path, expected: pa.Table) -> bool:
    """True if ``path`` reads back (page checksums verified) as exactly ``expected``."""
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException):
        return False
    return table.equals(expected)


class SweepStore:
    """Reads and writes one sweep's results folder (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._experiment: Experiment | None = None
        self._lock_fds: list[int] = []

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
        self._experiment = verify_manifest(manifest, source)
        return manifest

    def experiment(self) -> Experiment | None:
        """The experiment of the stored (verified) manifest, None if there is none."""
        return None if self.read_manifest() is None else self._experiment

    def check(self, manifest: dict[str, Any]) -> None:
        """Refuse a folder that holds something else; writes nothing."""
        source = f"--out {self.root}"
        if self.root.exists() and not self.root.is_dir():
            raise InputError("exists and is not a folder; give a folder path", source=source)
        stored = self.read_manifest()
        if stored is None:
            if self.root.is_dir() and any(not p.name.startswith((TMP_PREFIX, LOCK))
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
            write_json_atomic(self.manifest_path, seal_manifest(manifest))
        self.repair_scenarios(scenarios)
        (self.root / TASKS).mkdir(exist_ok=True)

    def repair_scenarios(self, scenarios: pa.Table) -> bool:
        """Write ``scenarios.parquet`` if it is missing, damaged or different (it is derived
        from the manifest); True if it was (re)written."""
        path = self.root / SCENARIOS
        if path.is_file() and scenarios_ok(path, scenarios):
            return False
        existed = path.exists()
        write_parquet_atomic(path, scenarios)
        if existed:
            self.log("repaired", file=SCENARIOS, reason="damaged or different from manifest")
        return True

    # ---------------------------------------------------------------- lock
    @contextmanager
    def locked(self, shard: Shard | None = None) -> Iterator[None]:
        """Hold the folder for one run: exclusively, or for a shard shared with other shards
        (and exclusively for that shard). The OS releases it when the process ends.

        Raises InputError (one line) if another run holds it. Re-entrant on one store.
        """
        if self._lock_fds:
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        names = [(LOCK, fcntl.LOCK_EX)] if shard is None else [
            (LOCK, fcntl.LOCK_SH), (f"{LOCK}-shard-{shard.k}-of-{shard.n}", fcntl.LOCK_EX)]
        fds: list[int] = []
        try:
            for name, mode in names:
                fd = os.open(self.root / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
                fds.append(fd)
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                except OSError as err:
                    if err.errno in NO_LOCKS:  # e.g. Lustre mounted without -o flock
                        sys.stderr.write(f"--out {self.root}: this file system cannot lock "
                                         "files; make sure no other sweep uses the folder\n")
                        break
                    if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                    raise InputError(self._busy_message(fd, name != LOCK),
                                     source=f"--out {self.root}") from None
                if mode == fcntl.LOCK_EX:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{driver_id()} {now()}\n".encode(), 0)
            self._lock_fds = fds
            yield
        finally:
            self._lock_fds = []
            for fd in fds:
                os.close(fd)  # closing the last descriptor releases the flock

    def _busy_message(self, fd: int, shard: bool) -> str:
        try:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
        except OSError:
            holder = []
        who = f" (driver {holder[0]}, since {holder[1]})" if len(holder) >= 2 else ""
        what = "this shard" if shard else "this folder"
        return (f"another sweep is running on {what}{who}; wait for it to end or give "
                "another --out folder")

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

        Every file is compared, size and then every byte (sha256), with its done marker, so
        a damaged file is never taken for a result. ``verify`` also decodes each file in
        full (a check of the Parquet reader itself; the sha256 already covers the bytes).
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
            try:
                digest = sha256_of(path)
            except OSError as err:
                return f"damaged: {path.name} cannot be read ({err.strerror})"
            if digest != info.get("sha256"):
                return f"damaged: {path.name} does not match the sha256 in its done marker"
            if verify:
                try:
                    pq.read_table(path)
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


__all__ = ["SweepStore", "build_manifest", "driver_id", "experiment_from_manifest",
           "scenarios_table", "seal_manifest", "verify_manifest"]
