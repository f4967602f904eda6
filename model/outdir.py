"""Output folders: which ones a command may replace, and replacing them in one step.

A command only ever replaces a folder that holds a previous result *of the same command*,
recognised by its ``manifest.json`` (``command`` names the command that wrote it, ``files``
lists what it wrote). It never replaces a folder with anything else in it, nor one that
holds or lies inside the command's own inputs, nor the current folder or one above it.
:func:`check_out` says so in one line (an :class:`~mutualsim.errors.InputError`) before any
work; :func:`atomic_directory` checks again just before the swap.

The swap is one atomic step on Linux (``renameat2(RENAME_EXCHANGE)``); elsewhere, or on a
filesystem without it, it is two renames that the next run completes if a kill falls
between them (the previous result comes back). Leftover ``.tmp-<name>.<pid>.*`` folders of
dead runs are removed by the next run into the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError
from .versions import library_versions

TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
COMMANDS = ("run", "compare", "plot", "sweep", "calibrate", "sensitivity", "robust")
SWEEP_FORMAT = "mutualsim-sweep/1"
SWEEP_LOCK = ".lock"
NAME_MAX = 200  # bytes: the work folder's name adds ".tmp-", a pid and a counter (255 max)
STALE_SECONDS = 24 * 3600  # a leftover older than this is removed even if its pid lives
# Results of versions that wrote no ``command`` into their manifest (or no manifest).
_LEGACY_RUN = frozenset({"histories.parquet", "panel.parquet", MANIFEST})
_REPORT_FILES = frozenset({"table.csv", "table.md", "report.html", "survival_at.csv"})
# Errors that mean "this place cannot take our files", not a bug: one line, not a traceback.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES,
                          errno.EPERM, errno.EIO, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                          errno.ENAMETOOLONG, errno.EMLINK, errno.ELOOP})


# ------------------------------------------------------------------------------ manifests
def read_manifest(folder: Path) -> dict[str, Any] | None:
    """``folder/manifest.json`` as a dict, or None if absent or unreadable."""
    path = Path(folder) / MANIFEST
    try:
        if path.stat().st_size > 64 * 2**20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _entries(folder: Path, ignore: tuple[str, ...] = (TMP_PREFIX,)) -> list[str]:
    """Names in ``folder`` except our own temporary leftovers (``ignore`` prefixes)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(ignore))


def result_command(folder: Path) -> str | None:
    """The command whose finished result ``folder`` holds, or None.

    A folder is a result of command C when its manifest says ``command = C`` and it holds
    nothing but the manifest and the files the manifest lists (a sweep, which grows as it
    resumes, is recognised by its manifest format alone). Results of earlier versions,
    without ``command``, are recognised by their exact set of files.
    """
    folder = Path(folder)
    names = set(_entries(folder))
    manifest = read_manifest(folder)
    if manifest is not None:
        if manifest.get("format") == SWEEP_FORMAT:
            return "sweep"
        command = manifest.get("command")
        files = manifest.get("files")
        if command in COMMANDS and isinstance(files, list):
            allowed = {f for f in files if isinstance(f, str)} | {MANIFEST}
            return command if names <= allowed else None
        if command is None and names <= _LEGACY_RUN and "scenario_name" in manifest:
            return "run"
        return None
    if "report.html" in names and "table.csv" in names and all(
            n in _REPORT_FILES or n.endswith((".png", ".svg")) for n in names):
        return "compare/plot"
    return None


def _foreign(folder: Path, names: list[str]) -> list[str]:
    """The names a user would not expect: those the folder's manifest does not list."""
    files = (read_manifest(folder) or {}).get("files")
    if isinstance(files, list):
        extra = [n for n in names if n not in files and n != MANIFEST]
        return extra or names
    return names


def _same_command(found: str | None, command: str) -> bool:
    return found == command or (found == "compare/plot" and command in ("compare", "plot"))


# ------------------------------------------------------------------------------ checks
def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _resolve(path: Path, source: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as err:  # a symbolic-link loop, a vanished folder
        raise InputError(f"cannot resolve the path: {err}", source=source) from None


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    return probe


def _probe_writable(folder: Path, source: str) -> None:
    """Create and remove an empty folder in ``folder``: the only sure test (root ignores
    permission bits, /proc and read-only mounts refuse at mkdir)."""
    probe = folder / f"{TMP_PREFIX}probe.{os.getpid()}.{time.monotonic_ns()}"
    try:
        before = os.stat(folder)
        os.mkdir(probe)
    except OSError as err:
        raise InputError(f"cannot write in {folder}: {err.strerror or err}; give a folder "
                         "you can write to", source=source) from None
    with contextlib.suppress(OSError):
        os.rmdir(probe)
        # Leave the folder as it was, modification time included.
        os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))


def check_out(path: str | Path, command: str, inputs: Iterable[str | Path | None] = (),
              force: bool = False, *, resumable: bool = False,
              flag: str = "--out") -> Path:
    """Refuse, before any work and touching nothing, an output folder ``command`` may not use.

    Parameters
    ----------
    path : path
        The output folder the command would create or replace.
    command : str
        The command (``run``, ``compare``, ``plot``, ``sweep``, ``calibrate``,
        ``sensitivity``); it may replace only a previous result of itself.
    inputs : paths
        The command's own input files and folders (None entries are skipped); the output
        may neither hold nor lie inside any of them, even with ``force``.
    force : bool
        Also replace a folder that holds something else (never an input, never the
        current folder or one above it).
    resumable : bool
        The command continues a previous result in place (``sweep``) rather than replacing
        it; its own store then checks that the result is the same experiment.
    flag : str
        The option named in messages.

    Returns
    -------
    Path
        ``path`` as given (a Path).

    Raises
    ------
    InputError
        One line naming the folder and what is allowed.
    """
    out = Path(path)
    source = f"{flag} {path}"
    if out.name in ("", ".", "..") or str(path).rstrip("/").endswith(("/.", "/..")):
        raise InputError("is the current folder or one above it; give a new folder name, "
                         "e.g. out/results", source=source)
    if len(os.fsencode(out.name)) > NAME_MAX:
        raise InputError(f"folder name is {len(os.fsencode(out.name))} bytes; at most "
                         f"{NAME_MAX} allowed", source=source)
    absolute = Path(os.path.abspath(out))
    real = _resolve(absolute, source)
    cwd = _resolve(Path.cwd(), "the current folder")
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known
        home = None
    if _inside(cwd, real) or real == Path(real.anchor) or real == home:
        raise InputError("is the current folder, your home folder or one above them; give "
                         "a new folder name, e.g. out/results", source=source)
    for item in inputs:
        if item is None:
            continue
        given = Path(item)
        item_real = _resolve(given, str(given))
        if _inside(item_real, real):
            what = "is" if item_real == real else "holds"
            raise InputError(f"{what} this command's input {given}; give another folder",
                             source=source)
        if given.is_dir() and _inside(real, item_real):
            raise InputError(f"is inside this command's input {given}; give a folder "
                             "outside it", source=source)
    if out.is_symlink():
        raise InputError("is a symbolic link; give the folder itself", source=source)
    if out.exists():
        if not out.is_dir():
            raise InputError("exists and is not a folder; give a folder path", source=source)
        try:
            # A sweep's lock files (".lock", ".lock-shard-K-of-N") may come before its
            # manifest: they belong to the sweep, whose own lock says if it is busy.
            names = _entries(out, (TMP_PREFIX, SWEEP_LOCK) if resumable else (TMP_PREFIX,))
            found = result_command(out) if names else None
        except OSError as err:
            raise InputError(f"cannot read it: {err.strerror or err}", source=source) from None
        if names and not _same_command(found, command):
            if found is not None:
                raise InputError(f"holds a previous '{found}' result, not a '{command}' one; "
                                 "give another folder", source=source)
            if not force:
                foreign = _foreign(out, names)
                shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
                if resumable:
                    raise InputError(f"is not empty ({shown}) and holds no {command} to "
                                     "resume; give a new or empty folder", source=source)
                raise InputError(f"is not empty ({shown}) and holds no previous '{command}' "
                                 "result; mutualsim replaces only its own results: give a "
                                 "new or empty folder (or --force to replace it)",
                                 source=source)
        _probe_writable(out.parent if out.parent.exists() else _nearest_existing(out),
                        source)
        return out
    existing = _nearest_existing(absolute)
    if not existing.is_dir():
        raise InputError(f"is inside {existing}, which is a file, not a folder; give a "
                         "folder path", source=source)
    _probe_writable(existing, source)
    return out


# ------------------------------------------------------------------------------ leftovers
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _leftover_pid(name: str, final_name: str) -> int | None:
    """The pid in ``.tmp-<final>.<pid>.<tag>`` or ``.tmp-<final>.old-<pid>``; None if absent."""
    rest = name[len(f"{TMP_PREFIX}{final_name}."):]
    head = rest.split(".", 1)[0]
    if head.startswith("old-"):
        head = head[4:]
    return int(head) if head.isdigit() else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def recover(final: Path) -> int:
    """Finish what a killed replace of ``final`` left, and remove dead runs' leftovers.

    If a kill fell between the two renames of the fallback swap (``final`` missing, its old
    copy set aside), the old copy is put back. Then every ``.tmp-<final name>.*`` entry of
    a process that is gone (or older than a day) is removed. Returns how many were removed.
    """
    final = Path(final)
    parent = final.parent
    if not parent.is_dir():
        return 0
    prefix = f"{TMP_PREFIX}{final.name}."
    removed = 0
    try:
        candidates = [p for p in parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return 0
    now = time.time()
    for path in sorted(candidates):
        pid = _leftover_pid(path.name, final.name)
        if pid == os.getpid():
            continue
        try:
            age = now - path.lstat().st_mtime
        except OSError:
            continue
        if (pid is not None and _pid_alive(pid)) and age < STALE_SECONDS:
            continue
        if pid is None and age < STALE_SECONDS:
            continue
        if path.name.endswith(".old") or ".old-" in path.name:
            if not os.path.lexists(final):
                with contextlib.suppress(OSError):
                    os.rename(path, final)
                    continue
        _remove(path)
        removed += 1
    return removed


# ------------------------------------------------------------------------------ swap
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False if the system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(err: OSError, final: Path) -> InputError | None:
    """A one-line error for an OSError that means the place cannot take our files."""
    code = getattr(err, "errno", None)
    text = str(err)
    known = {errno.ENOSPC: "no space left on the disk", errno.EFBIG: "file too large (a "
             "file size limit, e.g. ulimit -f)", errno.EDQUOT: "disk quota exceeded",
             errno.EROFS: "read-only filesystem"}
    if code not in WRITE_ERRNOS:
        code = next((c for c in known if os.strerror(c).lower() in text.lower()), None)
        if code is None:
            return None
    why = known.get(code) or (err.strerror or text)
    return InputError(f"cannot write results: {why}; nothing was written",
                      source=f"--out {final}")


def _write_manifest(work: Path, command: str, manifest: dict[str, Any] | None) -> None:
    path = work / MANIFEST
    data: dict[str, Any] = dict(read_manifest(work) or {}) if path.exists() else {}
    data.update(manifest or {})
    data["command"] = command
    data.setdefault("versions", library_versions())
    data["files"] = sorted([*(p.name for p in work.iterdir() if p.name != MANIFEST
                              and not p.name.startswith(TMP_PREFIX)), MANIFEST])
    tmp = work / f"{TMP_PREFIX}{MANIFEST}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextmanager
def atomic_directory(final: Path, command: str | None = None,
                     manifest: dict[str, Any] | None = None,
                     force: bool = False) -> Iterator[Path]:
    """Yield a fresh folder; on success it replaces ``final`` whole, on error it vanishes.

    With ``command``, ``manifest.json`` (``manifest`` plus anything the caller wrote there)
    gets ``command`` and the list of ``files``, and ``final`` is checked again just before
    the swap: it must still be new, empty or a previous result of ``command`` (or
    ``force``). OSErrors that mean the disk cannot take the files (full, file size limit,
    read-only, ...) become one-line :class:`InputError` s; nothing is left behind.
    """
    final = Path(final)
    created = []  # parents this call creates, removed again if nothing is published
    missing = final.parent
    while not os.path.lexists(missing) and missing != missing.parent:
        created.append(missing)
        missing = missing.parent
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        recover(final)
        work = Path(final.parent / f"{TMP_PREFIX}{final.name}.{os.getpid()}."
                    f"{time.monotonic_ns()}")
        os.mkdir(work)
    except OSError as err:
        raise (write_error(err, final) or err) from None
    try:
        yield work
        if command is not None:
            _write_manifest(work, command, manifest)
            if final.exists() and not force:
                check_out(final, command)
        os.chmod(work, 0o777 & ~_umask())
        _fsync_dir(work)
        if os.path.lexists(final):
            if exchange(work, final):
                _fsync_dir(final.parent)
                shutil.rmtree(work, ignore_errors=True)
                return
            old = final.with_name(f"{TMP_PREFIX}{final.name}.{os.getpid()}.old")
            os.rename(final, old)
            os.rename(work, final)
            _fsync_dir(final.parent)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, final)
            _fsync_dir(final.parent)
    except OSError as err:
        _discard(work, created)
        converted = write_error(err, final)
        if converted is not None:
            raise converted from None
        raise
    except BaseException:
        _discard(work, created)
        raise


def _discard(work: Path, created: list[Path]) -> None:
    """Remove an unpublished work folder and the (still empty) parents made for it."""
    shutil.rmtree(work, ignore_errors=True)
    for folder in created:  # innermost first
        with contextlib.suppress(OSError):
            os.rmdir(folder)


__all__ = ["COMMANDS", "MANIFEST", "TMP_PREFIX", "atomic_directory", "check_out", "exchange",
           "read_manifest", "recover", "result_command", "write_error"]
