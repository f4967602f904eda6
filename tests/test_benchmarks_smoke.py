"""``python -m benchmarks --quick`` runs end to end and writes its report (no timing checks:
CI machines vary; the numbers are for people to read)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "B.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    for heading in ("## Machine", "## Targets", "## Kernel vs reference implementation",
                    "## Memory-bandwidth bound", "## Survival estimators vs scipy.stats.ecdf",
                    "## Workshop comparison vs mesa.batch_run", "## Profile",
                    "## Issue 12 targets (one run)", "## Workshop page latency (issue 15)",
                    "## Issue 12: sweep workers, start-up and per-task overhead"):
        assert heading in text, heading
    targets = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    assert "| target | measured | required | met |" in targets
    verdicts = [line.rsplit("|", 2)[1].strip() for line in targets.splitlines()
                if line.startswith("| ") and not line.startswith("| target")]
    assert len(verdicts) == 7 and set(verdicts) <= {"met", "NOT met"}, verdicts
    assert "python -m benchmarks --quick" in text
    issue12 = text.split("## Issue 12 targets (one run)", 1)[1].split("\n## ", 1)[0]
    measured = [line for line in issue12.splitlines() if line.startswith("| ")
                and not line.startswith("| target") and "skipped" not in line]
    assert len(measured) >= 8, issue12  # reference x2, bandwidth x2, run, workers, startup x2
    assert "| target | measured | required | met |" in done.stdout  # printed too
