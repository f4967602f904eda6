"""``python -m benchmarks [--quick] [--only issue12|uncertainty|page] [--skip ROWS] [--small]
[--out BENCHMARKS.md]``: run the benchmarks of issues 6, 12, 14 and 15, print the tables
and write the Markdown report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .common import Plan, Section


def sections(skip: frozenset[str] = frozenset(), small: bool = False
             ) -> list[tuple[str, Callable[[Plan, dict], Section | list[Section]]]]:
    # Imported here so ``--help`` stays fast. Order matters: later sections reuse the
    # kernel runs of the throughput section.
    from .bound import bound
    from .issue12 import issue12
    from .page_latency import page_latency
    from .profiling import profile
    from .survival import survival
    from .sweeps import memory_and_workers
    from .throughput import by_councils, by_replications
    from .uncertainty import uncertainty
    from .versus_reference import kernel_vs_reference
    from .workshop import workshop
    return [("throughput vs replications", by_replications),
            ("kernel vs reference", kernel_vs_reference),
            ("throughput vs councils", by_councils),
            ("memory-bandwidth bound", bound),
            ("survival estimators", survival),
            ("workshop comparison", workshop),
            ("sweep memory and workers", memory_and_workers),
            ("profile", profile),
            ("posterior-predictive compare", uncertainty),
            ("workshop page latency", page_latency),
            ("issue 12 targets", lambda plan, shared: issue12(plan, shared, skip, small))]


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of a few seconds with tiny sizes (what CI runs)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the Markdown report here (e.g. BENCHMARKS.md)")
    parser.add_argument("--only", choices=["issue12", "uncertainty", "page"], default=None,
                        help="run only the issue-12 target table, only the issue-14 "
                             "row (posterior-predictive compare beside compare "
                             "--uncertainty none), or only issue 15's page latency")
    parser.add_argument("--skip", default="",
                        help="comma-separated issue-12 rows to skip: "
                             "reference,bandwidth,compare,run,workers,startup,compile,rss")
    parser.add_argument("--small", action="store_true",
                        help="shrink the slow issue-12 rows (sweep 4,000 replications, RSS of "
                             "run -n 10,000) to check they work; figures are not the issue's")
    args = parser.parse_args(argv)
    from .issue12 import ROWS
    skip = frozenset(filter(None, (x.strip() for x in args.skip.split(","))))
    if skip - set(ROWS):
        parser.error(f"--skip: unknown rows {sorted(skip - set(ROWS))}; "
                     f"allowed: {','.join(ROWS)}")

    from .machine import describe
    from .report import console, markdown

    plan = Plan.make(args.quick)
    shared: dict = {}
    done: list[Section] = []
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load_start = _load()
    t0 = time.perf_counter()
    chosen = sections(skip, args.small)
    if args.only == "issue12":
        chosen = chosen[-1:]
    elif args.only == "uncertainty":
        chosen = [c for c in chosen if c[0] == "posterior-predictive compare"]
    elif args.only == "page":
        chosen = [c for c in chosen if c[0] == "workshop page latency"]
    for name, run in chosen:
        t = time.perf_counter()
        print(f"[{time.perf_counter() - t0:6.1f} s] {name} ...", file=sys.stderr, flush=True)
        result = run(plan, shared)
        done += result if isinstance(result, list) else [result]
        print(f"           done in {time.perf_counter() - t:.1f} s", file=sys.stderr,
              flush=True)
    elapsed = time.perf_counter() - t0
    sys.stdout.write(console(done))
    if args.out is not None:
        command = "python -m benchmarks" + (" --quick" if args.quick else "") + \
            (f" --only {args.only}" if args.only else "") + \
            (f" --skip {','.join(sorted(skip))}" if skip else "") + \
            (" --small" if args.small else "") + f" --out {args.out}"
        machine = {**describe(), "load average (1 min) at start / end":
                   f"{load_start} / {_load()} (other processes share the cores)"}
        args.out.write_text(markdown(done, machine, command, started, elapsed, args.quick),
                            encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
