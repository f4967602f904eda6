"""The workshop comparison (protection 0/3/5/7/15 years) against ``mesa.batch_run`` of the
reference model doing the same work.

The kernel side is ``mutualsim compare`` (its defaults) in a subprocess when the command
exists, else ``simulate`` for the five scenarios in this process. The reference side runs a
few replications per scenario under ``mesa.batch_run`` and is extrapolated linearly to the
same number of replications (each model is independent, so its cost is linear in them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import mesa

from mutualsim import Scenario, simulate
from tests.reference import ReferenceMarket

from . import ROOT
from .common import Plan, Section, Target, timed
from .processes import run_measured
from .sweeps import CLI, overrides_of

VALUES = (0, 3, 5, 7, 15)


def compare_command_works() -> bool:
    done = subprocess.run([sys.executable, "-c", CLI, "compare", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return done.returncode == 0


def time_compare(plan: Plan) -> tuple[float, str]:
    """Seconds for the comparison, and how it was run."""
    n, sc = plan.workshop_replications, plan.scenario
    if plan.use_commands and compare_command_works():
        with tempfile.TemporaryDirectory(prefix="mutualsim-bench-") as tmp:
            # One parameter set, as mesa.batch_run runs (the default is posterior draws).
            cmd = [sys.executable, "-c", CLI, "compare", "--quiet", "--out",
                   str(Path(tmp) / "out"), "--replications", str(n), "--uncertainty", "none"]
            if overrides_of(sc):
                path = Path(tmp) / "scenario.toml"
                path.write_text("".join(f"{k} = {json.dumps(v)}\n"
                                        for k, v in overrides_of(sc).items()))
                cmd.insert(4, str(path))  # after "compare"
            run = run_measured(cmd, cwd=ROOT)
            if run.returncode == 0:
                return run.seconds, ("`mutualsim compare` (default values 0,3,5,7,15; "
                                     "subprocess, wall time incl. start-up and report)")
    timing = timed(lambda: [simulate(sc.replace(protection_years=p), n, seed=0)
                            for p in VALUES], 1)
    why = "--quick" if not plan.use_commands else "compare command missing"
    return timing.seconds, f"`simulate` for the five scenarios, in process ({why})"


def time_batch_run(plan: Plan, scenario: Scenario) -> float:
    k = plan.batch_run_replications
    timing = timed(lambda: mesa.batch_run(
        ReferenceMarket, parameters={"scenario": scenario, "protection_years": list(VALUES),
                                     "replication": list(range(k))},
        rng=[0], max_steps=scenario.years, number_processes=1, display_progress=False), 1)
    return timing.seconds


def workshop(plan: Plan, shared: dict) -> Section:
    n, sc = plan.workshop_replications, plan.scenario
    kernel_s, how = time_compare(plan)
    k = plan.batch_run_replications
    measured = time_batch_run(plan, sc)
    extrapolated = measured * n / k
    shared["workshop"] = (kernel_s, extrapolated)  # reused by the issue-12 table
    rows = [
        {"implementation": how, "scenarios": len(VALUES), "replications each": n,
         "seconds": kernel_s, "extrapolated": False, "speed-up": extrapolated / kernel_s},
        {"implementation": f"mesa.batch_run(ReferenceMarket), measured on {k} "
                           "replications each", "scenarios": len(VALUES),
         "replications each": k, "seconds": measured, "extrapolated": False,
         "speed-up": float("nan")},
        {"implementation": "mesa.batch_run(ReferenceMarket), extrapolated x "
                           f"{n // k:,}", "scenarios": len(VALUES), "replications each": n,
         "seconds": extrapolated, "extrapolated": True, "speed-up": 1.0},
    ]
    notes = [f"Scenario: {sc.councils} councils, {sc.years} years, protection "
             f"{'/'.join(map(str, VALUES))} years, seed 0. batch_run runs in one process "
             "(number_processes=1), as does the kernel side."]
    return Section("Workshop comparison vs mesa.batch_run", rows, notes,
                   [Target("workshop comparison >= 100x faster than mesa.batch_run with the "
                           "reference", extrapolated / kernel_s, 100.0, "x")])
