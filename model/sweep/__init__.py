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

# Imported on first use (PEP 562), so ``mutualsim --help`` and the ``sweep`` parser do not
# load pandas, scipy or the kernel.
_LAZY = {"Experiment": ".experiment", "load_experiment": ".experiment",
         "parse_experiment": ".experiment", "scenario_id": ".experiment",
         "Sweep": ".results", "open_sweep": ".results", "SweepReport": ".runner",
         "run_sweep": ".runner", "SweepStore": ".store", "Task": ".tasks",
         "plan_tasks": ".tasks"}

__all__ = [
    "Experiment", "Sweep", "SweepReport", "SweepStore", "Task", "load_experiment",
    "open_sweep", "parse_experiment", "plan_tasks", "run_sweep", "scenario_id",
]


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'mutualsim.sweep' has no attribute {name!r}")
