"""``mutualsim robust``: which policy holds up across futures (see evidence/robust.py).

All checks (the experiment file, the arguments, an ``--out`` that holds something else or
another run, a machine too small) happen before anything is written, so bad input ends
with one line, status 2 and no files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import add_safety_options, positive_int
from ..sweep.cli import add_executor_options

DEFAULT_OUT = Path("out/robust")


def register(subparsers: argparse._SubParsersAction) -> None:
    rob = subparsers.add_parser(
        "robust", help="robustness of policies across futures: regret and failure boxes",
        description="Run every policy (a design over levers such as protection_years, "
                    "incubation_years, lots, support_level) in every future (a design over "
                    "uncertainties such as austerity_rate, recession_enter_prob, "
                    "private_unit_cost) of an experiment file, on common random numbers "
                    "(the same future and replication draw the same numbers under every "
                    "policy). Reports per policy S(10), RMST over 15 years and council "
                    "spend across futures (median, 5%% and 95%%), the maximum regret "
                    "against the best policy in each future, and the futures where it "
                    "fails the file's [threshold] as a PRIM box with coverage and density. "
                    "Publishes robustness.md, robustness.csv, outcomes.csv, regret_*.csv, "
                    "summary.json, outcomes.png, regret.png, prim.png and manifest.json "
                    "into --out all at once; the model runs are a resumable sweep in "
                    "<out>.sweeps/ (run the same command again to resume). See "
                    "docs/ROBUSTNESS.md.",
        epilog="Example: mutualsim robust experiments/robustness.toml --workers 2")
    rob.add_argument("experiment", type=Path,
                     help="robustness experiment TOML ([design]/[factors] = policies, "
                          "[futures] = uncertainties, [threshold]), or the name of a shipped "
                          "one, e.g. robustness")
    rob.add_argument("--out", type=Path, default=None,
                     help=f"results folder (default {DEFAULT_OUT}/<file name>)")
    rob.add_argument("--replications", "-n", type=positive_int, default=None,
                     help="override the file's replications per (policy, future)")
    rob.add_argument("--futures", type=positive_int, default=None,
                     help="override the number of futures of an lhs [futures] design")
    add_executor_options(rob)
    rob.add_argument("--quiet", action="store_true", help="no progress bar")
    add_safety_options(rob)
    rob.set_defaults(func=cmd_robust)


def cmd_robust(args: argparse.Namespace) -> int:
    from ..guard import check_estimate, estimate_sweep
    from ..sweep import plan_tasks
    from ..sweep.executors import open_pool
    from .cli import _workers
    from .extras import require
    from .robust import Incomplete, check_robust, load_robust, run_robust

    spec = load_robust(args.experiment, args.replications, args.futures,
                       size_check=not args.no_size_check)
    path = Path(spec.source)
    out = args.out if args.out is not None else DEFAULT_OUT / path.stem
    if args.scheduler is not None or args.cluster is not None:
        require("distributed", "--scheduler" if args.scheduler else "--cluster local")
    inputs = [path, *([Path(spec.base_file)] if spec.base_file else [])]
    root = check_robust(spec, out, args.force, inputs)
    workers = _workers(args)
    exp = spec.experiment
    check_estimate(estimate_sweep([p.scenario for p in exp.scenarios], exp.replications,
                                  exp.block_size, workers or 1),
                   f"{len(spec.policies)} policies x {len(spec.futures)} futures x "
                   f"{exp.replications:,} replications", out=out,
                   override=args.no_size_check, source=f"robust {args.experiment}")
    try:
        with open_pool(workers, args.scheduler, args.cluster,
                       tasks=len(plan_tasks(exp))) as pool:
            if not args.quiet:
                sys.stderr.write(f"{spec.label}; on {pool.description}; model runs "
                                 f"resumable in {root}/\n")
            result = run_robust(spec, out, pool.executor, pool.capacity,
                                progress=not args.quiet, force=args.force,
                                description=pool.description, inputs=inputs)
    except Incomplete as err:
        print(f"{err}; nothing was published")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"interrupted; finished model runs are kept in {root}/; run the "
                         "same command again to resume (no result was published)\n")
        return 130
    print(spec.label)
    print(result["markdown"])
    left = {o: len(v) for o, v in result["left_out"].items() if v}
    print("regret: shortfall from the best policy in the same future, in the outcome's "
          "units (council spend: excess over the cheapest); maximum over futures"
          + (f"; futures left out for a missing outcome: {left}" if left else ""))
    print(f"results in {out}/ (model runs in {root}/)")
    return 0
