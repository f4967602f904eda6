"""Running a command and measuring the peak memory of its whole process tree."""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is optional
    psutil = None

POLL_SECONDS = 0.05


@dataclass
class ProcessRun:
    seconds: float
    returncode: int
    peak_tree: int | None      # bytes: max over samples of the summed RSS of the tree
    peak_process: int          # bytes: largest RSS of any single process
    method: str
    stdout: str
    stderr: str


def run_measured(cmd: list[str], cwd: Path | None = None) -> ProcessRun:
    """Run ``cmd``; sample the tree's RSS with psutil, else use getrusage (one process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak_tree = peak_process = 0
    if psutil is not None:
        peak_tree, peak_process = _poll(proc)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    rusage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if psutil is None:
        # ru_maxrss is a running maximum over all children ever waited for: only a new
        # maximum is attributable to this run.
        return ProcessRun(seconds, proc.returncode, None, rusage if rusage > before else 0,
                          "getrusage (largest single process)", stdout, stderr)
    return ProcessRun(seconds, proc.returncode, peak_tree, max(peak_process, 0),
                      f"psutil, summed over the process tree every {POLL_SECONDS * 1000:.0f} ms",
                      stdout, stderr)


def _poll(proc: subprocess.Popen) -> tuple[int, int]:
    peak_tree = peak_process = 0
    try:
        root = psutil.Process(proc.pid)
    except psutil.Error:
        return 0, 0
    while proc.poll() is None:
        total = 0
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for p in members:
            try:
                rss = p.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            peak_process = max(peak_process, rss)
        peak_tree = max(peak_tree, total)
        time.sleep(POLL_SECONDS)
    return peak_tree, peak_process
