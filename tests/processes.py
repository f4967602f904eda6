"""Which processes are running: descendants of a process, and whether one is still alive.

Read from ``/proc`` (Linux), so the tests need no extra package.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of ``pid``, None if there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (exited, not yet reaped)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] not in ("Z", "X"):
                parents.setdefault(stat[1], []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return sorted(found)


def wait_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` seconds for ``pids`` to end; the ones still alive."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def is_resource_tracker(pid: int) -> bool:
    """multiprocessing's resource tracker: started once per process that uses a spawn pool,
    it lives as long as that process (here, pytest itself) by design."""
    return "multiprocessing.resource_tracker" in command_line(pid)


__all__ = ["alive", "command_line", "descendants", "is_resource_tracker", "wait_gone"]


def sigkill_after(proc, finished, count: int, what: str, timeout: float = 120.0) -> None:
    """Wait until ``finished()`` reaches ``count`` while ``proc`` (started with
    ``start_new_session=True`` and ``stderr=PIPE``) runs, then SIGKILL it and its process
    group (the pool's workers it orphans). Fails naming ``what`` if it stops or stalls."""
    import os
    import signal
    try:
        deadline = time.monotonic() + timeout
        while finished() < count:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, f"the {what} made no progress"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        try:  # the pool's worker processes, orphaned by the kill
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stderr.close()
