"""``mutualsim calibrate`` and ``mutualsim sensitivity``.

All checks (files, arguments, an existing results folder from another experiment) run before
anything is written, so bad input ends with one line, status 2 and no files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import positive_int
from ..errors import InputError

DEFAULT_EXPERIMENT = Path("experiments/calibration.toml")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="ABC rejection calibration against published figures (resumable)",
        description="Run the Latin-hypercube prior of an experiment file as a sweep (parallel, "
                    "resumable), compute each point's distance to the published targets and "
                    "keep the closest points as the posterior. Writes prior_outcomes.parquet, "
                    "posterior.parquet, posterior_summary.csv and calibrated.csv into --out. "
                    "See docs/CALIBRATION.md.")
    cal.add_argument("experiment", nargs="?", type=Path, default=DEFAULT_EXPERIMENT,
                     help=f"experiment TOML with an lhs design (default {DEFAULT_EXPERIMENT})")
    cal.add_argument("--out", type=Path, default=None,
                     help="results folder (default out/calibration/<file name>)")
    cal.add_argument("--workers", type=positive_int, default=None,
                     help="local worker processes (default: all cores)")
    cal.add_argument("--replications", "-n", type=positive_int, default=None,
                     help="override the file's replications per point")
    cal.add_argument("--samples", type=positive_int, default=None,
                     help="override the file's number of LHS points")
    cal.add_argument("--accept", type=_fraction, default=None,
                     help="share of prior points accepted (default 0.05)")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    cal.set_defaults(func=cmd_calibrate)

    sen = subparsers.add_parser(
        "sensitivity", help="Morris screening, Sobol indices and PRIM scenario discovery",
        description="Morris screening of every numeric parameter on 10-year survival and "
                    "council spend, Sobol indices of the most influential ones, and PRIM on "
                    "the policy levers under uncertain austerity and recession. Writes "
                    "tables (CSV) and figures (PNG) into --out. See docs/SENSITIVITY.md.")
    sen.add_argument("--out", type=Path, default=Path("out/sensitivity"),
                     help="output folder (default out/sensitivity)")
    sen.add_argument("--quick", action="store_true",
                     help="a tiny version (20 councils, 12 years, few points) to check setup")
    sen.add_argument("--workers", type=positive_int, default=None,
                     help="local worker processes (default: all cores)")
    sen.set_defaults(func=cmd_sensitivity)


def _check_out(out: Path, flag: str = "--out") -> None:
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder path", source=f"{flag} {out}")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..sweep import SweepStore
    from ..sweep.executors import open_pool
    from ..sweep.store import build_manifest
    from .calibrate import DEFAULT_ACCEPT, TARGETS, calibrate, load_calibration_experiment

    experiment = load_calibration_experiment(args.experiment, args.replications, args.samples)
    out = args.out if args.out is not None else Path("out/calibration") / args.experiment.stem
    _check_out(out)
    SweepStore(out / "sweep").check(build_manifest(experiment))
    with open_pool(args.workers) as pool:
        if not args.quiet:
            sys.stderr.write(f"{experiment.name}: {len(experiment.scenarios)} prior points x "
                             f"{experiment.replications} replications on "
                             f"{pool.description}\n")
        result = calibrate(experiment, out, pool.executor, pool.capacity,
                           args.accept or DEFAULT_ACCEPT, progress=not args.quiet)
    print(f"accepted {len(result.posterior)} of {len(result.outcomes)} prior points "
          f"(closest {args.accept or DEFAULT_ACCEPT:.0%} by normalised squared error)")
    print(result.summary.to_string(float_format=lambda v: f"{v:.4g}"))
    print("targets: " + "; ".join(f"{t.outcome} = {t.value:g} (scale {t.scale:g})"
                                  for t in TARGETS))
    print(f"results in {out}/")
    return 0 if result.complete else 1


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from .sensitivity import run_pipeline

    _check_out(args.out)
    run_pipeline(args.out, quick=args.quick, workers=args.workers)
    print(f"results in {args.out}/")
    return 0
