"""Issue 14: posterior-predictive ``compare`` beside today's single-parameter ``compare``.

Both run as the command a user types (a subprocess each, wall time including start-up and
the report), at their default sizes, one after the other in this run: ``mutualsim compare
--uncertainty none`` (5 values x 1,000 replications) and ``mutualsim compare`` (default
``--uncertainty posterior``: 5 values x 40 posterior draws x 50 replications, plus the 50
single-parameter replications shown beside it). Target: the posterior run within 3x.
``--quick`` shrinks both (tiny scenario, few replications, in process without the report)
to check that it works.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from . import ROOT
from .common import Plan, Section, timed
from .processes import run_measured
from .sweeps import CLI, overrides_of

TARGET_RATIO = 3.0
VALUES = (0, 3, 5, 7, 15)


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _time(args: list[str], plan: Plan, tmp: Path, name: str) -> tuple[float, str, str]:
    cmd = [sys.executable, "-c", CLI, "compare", "--quiet", "--out", str(tmp / name), *args]
    if overrides_of(plan.scenario):
        path = tmp / "scenario.toml"
        path.write_text("".join(f"{k} = {json.dumps(v)}\n"
                                for k, v in overrides_of(plan.scenario).items()))
        cmd.insert(4, str(path))  # after "compare"
    load = _load()
    run = run_measured(cmd, cwd=ROOT)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:])} failed: {run.stderr[-2000:]}")
    return run.seconds, load, run.stdout


def _quick(plan: Plan) -> tuple[float, str, float, str, str]:
    """In process, tiny: ``compare`` one parameter set vs over 4 posterior draws."""
    from mutualsim.analysis import compare
    from mutualsim.analysis.uncertainty_report import markdown

    single_load = _load()
    single = timed(lambda: compare(plan.scenario, "protection", VALUES, 20, 0), 1)
    post_load = _load()
    post = timed(lambda: compare(plan.scenario, "protection", VALUES, 2, 0,
                                 uncertainty="posterior", draws=4), 1)
    return single.seconds, single_load, post.seconds, post_load, markdown(post.result)


def uncertainty(plan: Plan, shared: dict) -> Section:
    single_args = ["--uncertainty", "none"]
    posterior_args: list[str] = []
    if plan.quick:
        single_args += ["-n", "20"]
        posterior_args += ["-n", "2", "--draws", "4"]
        single_s, single_load, post_s, post_load, printed = _quick(plan)
    else:
        with tempfile.TemporaryDirectory(prefix="mutualsim-bench-") as tmp:
            single_s, single_load, _ = _time(single_args, plan, Path(tmp), "single")
            post_s, post_load, printed = _time(posterior_args, plan, Path(tmp), "posterior")
    ratio = post_s / single_s
    shared["uncertainty_ratio"] = ratio
    met = "met" if ratio <= TARGET_RATIO else "NOT met"
    rows = [
        {"command": "mutualsim compare --uncertainty none " + " ".join(single_args[2:]),
         "work": "5 values x 1,000 replications" if not plan.quick else "quick",
         "seconds": single_s, "ratio": 1.0, "goal": "reference", "met": "",
         "load (1/5/15 min)": single_load},
        {"command": "mutualsim compare " + " ".join(posterior_args),
         "work": ("5 values x (40 draws x 50 + 50) replications" if not plan.quick
                  else "quick"),
         "seconds": post_s, "ratio": ratio, "goal": f"<= {TARGET_RATIO:g} x", "met": met,
         "load (1/5/15 min)": post_load},
    ]
    notes = [f"Scenario: {plan.scenario.councils} councils, {plan.scenario.years} years, "
             "protection 0/3/5/7/15, seed 0; each command a subprocess, wall time including "
             "start-up, figures and report.html, measured one after the other in this run."
             + (" **--quick: sizes shrunk, in process without the report; not the issue's "
                "figure.**" if plan.quick else ""),
             "The posterior run printed:\n\n" + printed.strip()]
    return Section("Posterior-predictive compare vs single-parameter compare (issue 14)",
                   rows, notes)
