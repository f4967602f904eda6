"""``mutualsim sweep``: run an experiment file's scenarios x replications, resumably.

Every check of the experiment file, the arguments and the results folder happens before
anything is written, so bad input ends with one line, status 2 and no files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..cli import add_safety_options, positive_int
from ..errors import InputError
from .executors import open_pool  # light (the Dask import is inside it); tests replace it

if TYPE_CHECKING:  # the parser imports nothing heavy; the command imports what it runs
    import pandas as pd

    from .runner import SweepReport
    from .tasks import Shard

SUMMARY_ROWS = 60


def shard_arg(text: str) -> Shard:
    from .tasks import parse_shard
    try:
        return parse_shard(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("--shard: ")) from None


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where tasks run: ``--workers``, and ``--scheduler`` or ``--cluster local`` (every
    command built on the sweep layer: sweep, calibrate, sensitivity)."""
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="local worker processes, or workers of --cluster local "
                             "(default: all cores)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run on the Dask cluster whose scheduler is at ADDRESS, e.g. "
                            "tcp://10.0.0.5:8786 (needs mutualsim[distributed])")
    where.add_argument("--cluster", choices=["local"], default=None,
                       help="start a local Dask cluster (needs mutualsim[distributed])")


def register(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser(
        "sweep", help="run every scenario of an experiment file, resumably, in parallel",
        description="Run every scenario of an experiment file (a design over scenario "
                    "parameters) for many replications, in tasks of block_size replications "
                    "on local processes or a Dask cluster. Each finished task is written to "
                    "--out at once; running the same command again resumes (finished tasks "
                    "are skipped, failed ones retried). See docs/SWEEPS.md.")
    sweep.add_argument("experiment", type=Path, help="experiment TOML file (see experiments/)")
    sweep.add_argument("--out", type=Path, default=None,
                       help="results folder (default: out/sweeps/<experiment file name>)")
    add_executor_options(sweep)
    sweep.add_argument("--shard", type=shard_arg, default=None, metavar="K/N",
                       help="run only part K of N of the tasks (1 <= K <= N), e.g. one job "
                            "of an array; all parts may share one --out folder")
    sweep.add_argument("--replications", "-n", type=positive_int, default=None,
                       help="override the experiment file's replications")
    sweep.add_argument("--draws", type=positive_int, default=None,
                       help="override the posterior draws of the file's [uncertainty] "
                            "kind = \"posterior\" section (see docs/SWEEPS.md)")
    sweep.add_argument("--verify", action="store_true",
                       help="also decode every finished task's files in full before "
                            "skipping it (every run already checks each file's sha256)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    add_safety_options(sweep, force=False)
    sweep.set_defaults(func=cmd_sweep)


def format_summary(summary: pd.DataFrame) -> str:
    """The per-scenario table a user reads at the end of a sweep."""
    import pandas as pd
    table = summary.copy()
    for column in table.columns:
        if column.startswith("S("):
            table[column] = table[column].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1%}")
    if len(table) > SUMMARY_ROWS:
        text = table.head(SUMMARY_ROWS).to_string(index=False)
        return text + f"\n... {len(table) - SUMMARY_ROWS} more scenarios (open_sweep(DIR))"
    return table.to_string(index=False)


def posterior_summary(out: Path) -> str:
    """The posterior-predictive table of a posterior sweep (as ``mutualsim plot`` prints
    it), or the plain per-scenario table while a single-parameter run is unfinished."""
    from ..analysis.posterior_sweep import posterior_from_sweep
    from ..analysis.uncertainty_report import markdown
    from .results import open_sweep
    try:
        return markdown(posterior_from_sweep(out))
    except InputError:
        return format_summary(open_sweep(out).summary())


def _report_lines(report: SweepReport, total_tasks: int) -> list[str]:
    lines = [f"{report.finished} tasks finished ({report.replications} replications) in "
             f"{report.elapsed:.1f} s; {report.already_done} were already done"
             + (f", {report.damaged} had damaged files and were redone" if report.damaged
                else "")]
    lines.extend(f"  damaged: {f.task_id}: {f.error}" for f in report.damaged_tasks[:20])
    if report.failed:
        lines.append(f"{len(report.failed)} tasks failed (details in "
                     f"{report.out}/tasks/<scenario>/<block>.error.json):")
        lines.extend(f"  {f.task_id}: {f.error}" for f in report.failed[:20])
        if len(report.failed) > 20:
            lines.append(f"  ... {len(report.failed) - 20} more")
    if report.not_run:
        lines.append(f"{report.not_run} tasks were not run (the executor stopped)")
    if not report.ok:
        lines.append("run the same command again to retry them")
    if report.tasks < total_tasks:
        lines.append(f"this shard ran {report.tasks} of {total_tasks} tasks")
    return lines


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..guard import check_estimate, estimate_sweep, worker_count
    from ..outdir import check_out
    from .experiment import load_experiment
    from .results import open_sweep
    from .runner import run_sweep
    from .store import SweepStore, build_manifest

    experiment = load_experiment(args.experiment, replications=args.replications,
                                 size_check=not args.no_size_check, draws=args.draws)
    out = args.out if args.out is not None else Path("out") / "sweeps" / args.experiment.stem
    check_out(out, "sweep", inputs=[args.experiment, experiment.base_file], resumable=True)
    workers, note = args.workers, None
    if args.scheduler is None:  # a remote cluster's size is the cluster's business
        workers, note = worker_count(args.workers, override=args.no_size_check)
        check_estimate(estimate_sweep([p.scenario for p in experiment.scenarios],
                                      experiment.replications, experiment.block_size,
                                      workers),
                       f"{len(experiment.scenarios):,} scenarios x "
                       f"{experiment.replications:,} replications on {workers} workers",
                       out=out, override=args.no_size_check,
                       source=f"sweep {args.experiment}")
    store = SweepStore(out)
    manifest = build_manifest(experiment)
    store.check(manifest)
    n_tasks = len(manifest["tasks"])
    if note is not None and not args.quiet:
        sys.stderr.write(note + "\n")
    try:
        # The pool first: a bad --scheduler or a missing Dask is refused before the folder
        # (and its lock file) is created; local workers start only when tasks are submitted.
        with open_pool(workers, args.scheduler, args.cluster,
                       tasks=len(args.shard.select(manifest["tasks"])) if args.shard
                       else n_tasks) as pool, store.locked(args.shard):
            if not args.quiet:
                draws = ("" if experiment.uncertainty is None else
                         f" ({len(experiment.policies)} design points x "
                         f"({experiment.uncertainty.draws} posterior draws + 1))")
                sys.stderr.write(f"{experiment.name}: {len(experiment.scenarios)} scenarios"
                                 f"{draws} x {experiment.replications} replications = "
                                 f"{n_tasks} tasks of up to {experiment.block_size}, on "
                                 f"{pool.description}\n")
            report = run_sweep(experiment, store, pool.executor, capacity=pool.capacity,
                               shard=args.shard, verify=args.verify,
                               progress=not args.quiet, description=pool.description)
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted; finished tasks are kept in {out}/; run the same "
                         "command again to resume\n")
        return 130
    print(posterior_summary(out) if experiment.uncertainty is not None
          else format_summary(open_sweep(out).summary()))
    print("\n".join(_report_lines(report, n_tasks)))
    print(f"results in {out}/ (open with mutualsim.open_sweep)")
    return 0 if report.ok else 1
