"""``mutualsim calibrate`` and ``mutualsim sensitivity``: long commands of the sweep layer.

Both run their model evaluations as resumable sweeps (``--workers``, ``--scheduler``,
``--cluster local``, a progress bar, resume after a kill) and publish their result folder
whole. All checks (files, arguments, a missing optional extra, an ``--out`` that holds
something else or another run) happen before anything is written, so bad input ends with one
line, status 2 and no files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import add_safety_options, positive_int
from ..sweep.cli import add_executor_options

DEFAULT_SENSITIVITY_OUT = Path("out/sensitivity")
DEFAULT_OAT_OUT = Path("out/sensitivity_oat")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def _executor_args(parser: argparse.ArgumentParser) -> None:
    add_executor_options(parser)  # as for sweep
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_safety_options(parser)  # --force, --no-size-check: as for every command


def register(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="ABC rejection calibration against published figures (resumable)",
        description="Run the Latin-hypercube prior of an experiment file as a sweep (parallel, "
                    "resumable), compute each point's distance to the published targets and "
                    "keep the closest points as the posterior. Publishes prior_outcomes."
                    "parquet, posterior.parquet, posterior_summary.csv, calibrated.csv, "
                    "calibration.json and manifest.json into --out all at once; the prior "
                    "sweep stays resumable in <out>.sweeps/. See docs/CALIBRATION.md.")
    cal.add_argument("experiment", nargs="?", default=None,
                     help="experiment TOML with an lhs design, or the name of a shipped one "
                          "(default: the shipped calibration)")
    cal.add_argument("--out", type=Path, default=None,
                     help="results folder (default out/calibration/<file name>)")
    cal.add_argument("--replications", "-n", type=positive_int, default=None,
                     help="override the file's replications per point")
    cal.add_argument("--samples", type=positive_int, default=None,
                     help="override the file's number of LHS points")
    cal.add_argument("--accept", type=_fraction, default=None,
                     help="share of prior points accepted (default 0.05)")
    _executor_args(cal)
    cal.set_defaults(func=cmd_calibrate)

    sen = subparsers.add_parser(
        "sensitivity", help="Morris screening, Sobol indices and PRIM scenario discovery",
        description="Morris screening of every numeric non-structural parameter on "
                    "10-year survival, RMST over 15 years, council spend and step-in cost; "
                    "Sobol indices of the ten most influential, with their convergence "
                    "against sample size; and PRIM on "
                    "the policy levers under uncertain austerity and recession. Publishes "
                    "tables (CSV), summary.json, figures (PNG) and manifest.json into --out "
                    "all at once; the model runs stay resumable in <out>.sweeps/. Needs "
                    "mutualsim[sensitivity]. See docs/SENSITIVITY.md.")
    sen.add_argument("--out", type=Path, default=None,
                     help=f"output folder (default {DEFAULT_SENSITIVITY_OUT}, with --oat "
                          f"{DEFAULT_OAT_OUT})")
    sen.add_argument("--quick", action="store_true",
                     help="a tiny version (20 councils, 20 years, few points; with --oat 12 "
                          "councils, 20 years, 4 replications) to check setup")
    sen.add_argument("--oat", action="store_true",
                     help="instead: one-at-a-time table of S(10), every numeric parameter "
                          "-10%% and +10%% on common random numbers (no SALib needed); "
                          "publishes oat_S10.csv and oat_S10.md (Markdown for "
                          "docs/SENSITIVITY.md)")
    sen.add_argument("--replications", "-n", type=positive_int, default=None,
                     help="with --oat: replications per point (default 200; --quick 4)")
    _executor_args(sen)
    sen.set_defaults(func=cmd_sensitivity)


def _interrupted(where: Path) -> int:
    sys.stderr.write(f"interrupted; finished model runs are kept in {where}/; run the same "
                     "command again to resume (no result was published)\n")
    return 130


def _workers(args: argparse.Namespace) -> int | None:
    """Local workers: capped at the cores unless --no-size-check (None: a Dask scheduler)."""
    from ..guard import worker_count
    if args.scheduler is not None:
        return None
    workers, note = worker_count(args.workers, override=args.no_size_check)
    if note is not None and not args.quiet:
        sys.stderr.write(note + "\n")
    return workers


def _base_file(experiment) -> tuple[Path, ...]:
    return (Path(experiment.base_file),) if experiment.base_file else ()


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..guard import check_estimate, estimate_sweep
    from ..sweep import plan_tasks
    from ..sweep.executors import open_pool
    from .calibrate import (
        DEFAULT_ACCEPT,
        calibrate,
        check_calibration,
        experiment_path,
        load_calibration_experiment,
        load_targets,
    )
    from .extras import require

    fraction = args.accept or DEFAULT_ACCEPT
    path = experiment_path(args.experiment)
    experiment = load_calibration_experiment(path, args.replications, args.samples,
                                             size_check=not args.no_size_check)
    targets = load_targets(path)
    out = args.out if args.out is not None else Path("out/calibration") / path.stem
    if args.scheduler is not None or args.cluster is not None:
        require("distributed", "--scheduler" if args.scheduler else "--cluster local")
    root = check_calibration(experiment, out, fraction, args.force,
                             inputs=(path, *_base_file(experiment)), targets=targets)
    workers = _workers(args)
    check_estimate(estimate_sweep([p.scenario for p in experiment.scenarios],
                                  experiment.replications, experiment.block_size,
                                  workers or 1),
                   f"{len(experiment.scenarios):,} prior points x "
                   f"{experiment.replications:,} replications", out=out,
                   override=args.no_size_check, source=f"calibrate {path}")
    try:
        with open_pool(workers, args.scheduler, args.cluster,
                       tasks=len(plan_tasks(experiment))) as pool:
            if not args.quiet:
                sys.stderr.write(f"{experiment.name}: {len(experiment.scenarios)} prior points "
                                 f"x {experiment.replications} replications on "
                                 f"{pool.description}; resumable in {root}/\n")
            result = calibrate(experiment, out, pool.executor, pool.capacity, fraction,
                               progress=not args.quiet, force=args.force,
                               description=pool.description, targets=targets)
    except KeyboardInterrupt:
        return _interrupted(root)
    if not result.complete:
        report = result.report
        print(f"{len(report.failed)} prior tasks failed and {report.not_run} were not run "
              f"(details in {root}/tasks/); nothing was published; run the same command "
              "again to retry them")
        return 1
    print(f"accepted {len(result.posterior)} of {len(result.outcomes) - result.dropped} prior "
          f"points (closest {fraction:.0%} by normalised squared error); "
          f"{result.dropped} of {len(result.outcomes)} points dropped for a missing target "
          "outcome (not filled in)")
    print(result.summary.to_string(float_format=lambda v: f"{v:.4g}"))
    bound = {"both": "=", "at_least": ">=", "at_most": "<="}
    print("targets: " + "; ".join(f"{t.outcome} {bound[t.side]} {t.value:g} (scale "
                                  f"{t.scale:g})" for t in targets))
    print(f"results in {out}/ (prior sweep in {root}/)")
    return 0


def cmd_oat(args: argparse.Namespace) -> int:
    """``mutualsim sensitivity --oat``: the one-at-a-time table (see evidence/oat.py)."""
    from dataclasses import replace

    from .oat import OatIncomplete, OatSettings, run_oat
    from .publish import sweeps_root

    settings = OatSettings.quick() if args.quick else OatSettings({})
    if args.replications is not None:
        settings = replace(settings, replications=args.replications)
    out = args.out if args.out is not None else DEFAULT_OAT_OUT
    try:
        result = run_oat(out, settings, workers=_workers(args), scheduler=args.scheduler,
                         cluster=args.cluster, progress=not args.quiet, force=args.force,
                         size_check=not args.no_size_check)
    except OatIncomplete as err:
        print(f"{err}; nothing was published")
        return 1
    except KeyboardInterrupt:
        return _interrupted(sweeps_root(out, settings.key) / "oat")
    table = result["table"]
    flagged = result["info"]["flagged"]
    print(f"baseline {settings.outcome} = {result['baseline']:.3f}; {len(table)} parameters "
          f"varied, {len(result['skipped'])} skipped; {len(flagged)} move it by more than "
          f"{settings.flag_points:g} points: {', '.join(flagged) or 'none'}")
    print(f"results in {out}/ (oat_{settings.outcome}.md for docs/SENSITIVITY.md; model runs "
          f"in {result['sweeps']}/)")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    if args.oat:
        return cmd_oat(args)
    if args.replications is not None:
        from ..errors import InputError
        raise InputError("--replications applies only with --oat", source="sensitivity")
    if args.out is None:
        args.out = DEFAULT_SENSITIVITY_OUT
    from .extras import require
    require("SALib", "sensitivity")
    from .publish import sweeps_root
    from .sensitivity import Incomplete, Settings, missing_lines, run_pipeline

    settings = Settings.quick() if args.quick else Settings.full()
    try:
        result = run_pipeline(args.out, settings=settings, workers=_workers(args),
                              scheduler=args.scheduler, cluster=args.cluster,
                              progress=not args.quiet, force=args.force,
                              size_check=not args.no_size_check)
    except Incomplete as err:
        print(f"{err}; nothing was published")
        return 1
    except KeyboardInterrupt:
        return _interrupted(sweeps_root(args.out, settings.key))
    summary = result["summary"]
    prim = summary["prim"]
    for outcome, top in summary["morris_top"].items():
        print(f"Morris, most influential on {outcome}: {', '.join(top)}")
    print(f"Sobol indices computed for: {', '.join(summary['sobol_factors'])}")
    print(f"PRIM box for S10 >= {prim['threshold']:g}: {prim['box'] or 'no restriction'} "
          f"(coverage {prim['coverage']:.2f}, density {prim['density']:.2f}, "
          f"{prim['support']} of {prim['points_used']} points)")
    print("\n".join(missing_lines(summary)))
    print(f"results in {args.out}/ (model runs in {result['sweeps']}/)")
    return 0

