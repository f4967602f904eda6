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
SHIPPED = "<shipped>"  # --publish-posterior without a file: the package's posterior.csv


def _executor_args(parser: argparse.ArgumentParser) -> None:
    add_executor_options(parser)  # as for sweep
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_safety_options(parser)  # --force, --no-size-check: as for every command


def register(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="ABC-SMC calibration against published figures (resumable)",
        description="ABC-SMC (population Monte Carlo ABC with an adaptive tolerance): "
                    "generation 0 runs the Latin-hypercube prior of an experiment file, "
                    "later generations perturb the accepted particles under a shrinking "
                    "tolerance; every batch runs as a sweep (parallel, resumable), then "
                    "posterior draws are re-simulated on fresh random numbers for "
                    "posterior-predictive checks. Publishes posterior.csv (weighted "
                    "particles), posterior.parquet, simulations.parquet, generations.csv, "
                    "posterior_summary.csv, identification.csv, predictive_checks.csv/.png, "
                    "report.md, calibrated.csv, calibration.json and manifest.json into "
                    "--out all at once; the runs stay resumable in <out>.sweeps/. See "
                    "docs/CALIBRATION.md.")
    cal.add_argument("experiment", nargs="?", default=None,
                     help="experiment TOML with an lhs design, or the name of a shipped one "
                          "(default: the shipped calibration)")
    cal.add_argument("--out", type=Path, default=None,
                     help="results folder (default out/calibration/<file name>)")
    cal.add_argument("--replications", "-n", type=positive_int, default=None,
                     help="override the file's replications per point")
    cal.add_argument("--samples", type=positive_int, default=None,
                     help="override the file's number of LHS points (generation 0)")
    cal.add_argument("--particles", type=positive_int, default=None,
                     help="override [abc] particles (accepted per generation)")
    cal.add_argument("--generations", type=positive_int, default=None,
                     help="override [abc] generations (at most, generation 0 included)")
    cal.add_argument("--max-simulations", type=positive_int, default=None,
                     help="override [abc] max_simulations (the budget of points, prior "
                          "sample included, before the posterior-predictive draws)")
    cal.add_argument("--publish-posterior", nargs="?", const=SHIPPED, default=None,
                     metavar="FILE",
                     help="also write the accepted parameter sets as a posterior file "
                          "(Scenario columns + weight; what 'compare --uncertainty "
                          "posterior' draws from): to FILE (a new .csv or a previous "
                          "posterior file), or without FILE to the shipped "
                          "mutualsim/data/posterior.csv")
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
        calibrate,
        check_calibration,
        experiment_path,
        load_calibration_experiment,
        load_settings,
        load_targets,
    )
    from .extras import require

    path = experiment_path(args.experiment)
    experiment = load_calibration_experiment(path, args.replications, args.samples,
                                             size_check=not args.no_size_check)
    targets = load_targets(path)
    settings = load_settings(path, experiment, args.particles, args.generations,
                             args.max_simulations)
    out = args.out if args.out is not None else Path("out/calibration") / path.stem
    if args.scheduler is not None or args.cluster is not None:
        require("distributed", "--scheduler" if args.scheduler else "--cluster local")
    root = check_calibration(experiment, out, settings, args.force,
                             inputs=(path, *_base_file(experiment)), targets=targets)
    publish_to = _posterior_target(args.publish_posterior, args.force)
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
                sys.stderr.write(f"{experiment.name}: ABC-SMC, {settings.particles} particles, "
                                 f"prior sample {len(experiment.points)} points, at most "
                                 f"{settings.max_simulations} points x "
                                 f"{experiment.replications} replications, then "
                                 f"{settings.particles} x {settings.predictive} predictive "
                                 f"replications on {pool.description}; resumable in "
                                 f"{root}/\n")
            result = calibrate(experiment, out, pool.executor, pool.capacity, settings,
                               progress=not args.quiet, force=args.force,
                               description=pool.description, targets=targets)
    except KeyboardInterrupt:
        return _interrupted(root)
    if not result.complete:
        report = result.report
        print(f"{len(report.failed)} tasks failed and {report.not_run} were not run "
              f"(details in {result.sweep}/tasks/); nothing was published; run the same "
              "command again to retry them")
        return 1
    table = result.smc.table()
    g = result.smc.final
    print(f"ABC-SMC: {len(table)} generations, {len(result.outcomes)} points simulated "
          f"(stopped: {result.smc.stopped}); final tolerance {g.epsilon:.4g}, "
          f"{len(result.posterior)} particles (effective sample size {g.ess:.0f}); "
          f"{result.dropped} points dropped for a missing target outcome (not filled in)")
    print(result.summary.to_string(float_format=lambda v: f"{v:.4g}"))
    bound = {"both": "=", "at_least": ">=", "at_most": "<="}
    print("targets: " + "; ".join(f"{t.outcome} {bound[t.side]} {t.value:g} (scale "
                                  f"{t.scale:g})" for t in targets))
    print("posterior-predictive checks (one simulated world per draw):")
    print(result.checks.to_string(float_format=lambda v: f"{v:.4g}"))
    lost = [n for n in result.identified.index
            if result.identified.loc[n, "verdict"].startswith("not")]
    print("not identified by the targets (posterior s.d. > 0.8 x prior s.d.): "
          + (", ".join(lost) or "none"))
    print(f"results in {out}/ (model runs in {root}/)")
    if publish_to is not None:
        from .posterior import publish_posterior
        print(f"posterior: {publish_posterior(out, publish_to)}")
    return 0


def _posterior_target(given: str | None, force: bool) -> Path | None:
    """Where ``--publish-posterior`` writes, checked before any work: a new ``.csv`` file
    or a previous posterior file (one with a ``weight`` column), unless ``--force``."""
    from ..errors import InputError
    from .posterior import DEFAULT_PATH, WEIGHT
    if given is None:
        return None
    path = DEFAULT_PATH if given == SHIPPED else Path(given)
    source = f"--publish-posterior {given}"
    if path.suffix != ".csv":
        raise InputError("give a .csv file name", source=source)
    if path.exists() and not force:
        try:
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                     if not ln.startswith("#")]
        except (OSError, UnicodeDecodeError):
            lines = []
        if not path.is_file() or not lines or WEIGHT not in lines[0].split(","):
            raise InputError("exists and is not a previous posterior file; give a new file "
                             "or --force", source=source)
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist", source=source)
    return path


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

