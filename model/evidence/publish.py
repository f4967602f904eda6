"""Result folders of ``calibrate`` and ``sensitivity``: checked before work, published whole.

A result folder holds the tables and figures of one run plus ``manifest.json`` naming the
command and what identifies the run (``run_key``). It is assembled in a temporary folder
beside its final name and published in one step (``mutualsim.io.atomic_directory``), so a
killed command leaves no half result. The slow part, the model runs, lives in sweep stores
beside the result (``<out>.sweeps/<run_key>/``), which resume task by task like
``mutualsim sweep``; re-running a finished command only redoes the (fast) analysis.

What may be replaced (checked before anything is computed or written):

* a missing or empty folder: yes;
* a previous result of the same command and the same run: yes (a re-run);
* a previous result of the same command but another run: only with ``--force``;
* anything else: as ``mutualsim.io.check_out`` rules for every command (a folder with
  other files only with ``--force``; never a file, the command's own input or the current
  folder).

The manifest lists the ``files`` the command wrote, so the other commands recognise the
folder as a result of this one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError
from ..io import TMP_PREFIX, atomic_directory, check_out, write_json_atomic

MANIFEST = "manifest.json"
FORMAT = "mutualsim-evidence/1"


def sweeps_root(out: Path, run_key: str) -> Path:
    """Where the resumable sweep stores of one run live: ``<out>.sweeps/<run_key>``."""
    return out.with_name(out.name + ".sweeps") / run_key


def read_result_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a result folder written by ``calibrate`` or ``sensitivity``, or None."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(manifest, dict) and manifest.get("format") == FORMAT:
        return manifest
    return None


def check_target(out: Path, command: str, run_key: str, force: bool = False,
                 inputs: tuple[Path, ...] = ()) -> None:
    """Refuse (InputError, nothing written) an ``--out`` this run may not replace."""
    source = f"--out {out}"
    check_out(out, command, inputs, force)  # the rules every command follows
    if not out.is_dir() or not any(not p.name.startswith(TMP_PREFIX) for p in out.iterdir()):
        return
    manifest = read_result_manifest(out)
    if manifest is None or manifest.get("command") != command:
        return  # not a result of ours: check_out allowed it (--force)
    if manifest.get("run_key") != run_key and not force:
        run = manifest.get("run")
        label = run.get("label") if isinstance(run, dict) else None
        raise InputError(f"holds a result of another {command} run ({label}); give another "
                         "--out folder, or --force to replace it", source=source)


@contextmanager
def publish(out: Path, command: str, run_key: str, run: dict[str, Any],
            force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it becomes ``out`` with a manifest.

    ``run`` describes the run (settings, counts of dropped points, where the sweeps are) and
    is stored in the manifest next to the command name and versions.
    """
    from ..versions import library_versions

    # atomic_directory adds the command and the list of files to the manifest and checks
    # ``out`` again just before the swap.
    with atomic_directory(out, command=command, force=force) as work:
        yield work
        write_json_atomic(work / MANIFEST, {
            "format": FORMAT, "command": command, "run_key": run_key, "run": run,
            "mutualsim_version": __version__, "versions": library_versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
