"""Scenario sweeps that scale: experiment files -> tasks -> results on disk.

An experiment file (``experiments/*.toml``) names a base scenario and a design (grid, Latin
hypercube, or Morris / Sobol through SALib) over scenario fields. Each design point times each
block of replications is a task; tasks run on any ``concurrent.futures.Executor`` (local
processes, a Dask cluster), only the driver writes, and a re-run resumes. See
docs/SWEEPS.md.

Public API::

    load_experiment(path) -> Experiment     validated design, one Scenario per point
    run_sweep(experiment, SweepStore(dir), executor) -> SweepReport
    open_sweep(dir) -> Sweep                .scenarios, .histories(), .panel(), .counts(),
                                            .dataset(kind), .summary()
"""

from .experiment import Experiment, load_experiment, parse_experiment, scenario_id
from .results import Sweep, open_sweep
from .runner import SweepReport, run_sweep
from .store import SweepStore
from .tasks import Task, plan_tasks

__all__ = [
    "Experiment", "Sweep", "SweepReport", "SweepStore", "Task", "load_experiment",
    "open_sweep", "parse_experiment", "plan_tasks", "run_sweep", "scenario_id",
]
