"""The ``mutualsim`` command line.

Bad input of any kind ends with one line on stderr naming the file, key or argument and
what is allowed, exit status 2, and no output written.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import InputError
from .guard import OVERRIDE_FLAG

DEFAULT_REPLICATIONS = 1000
# Write errors that mean "the disk cannot take it" wherever they arise: one line, status 2.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS})

# Modules that add subcommands: each has ``register(subparsers)``; absent ones are skipped.
COMMAND_MODULES = (
    "mutualsim.sweep.cli",       # sweep
    "mutualsim.analysis.cli",    # compare, plot
    "mutualsim.app.cli",         # app
    "mutualsim.evidence.cli",    # calibrate, sensitivity
    "mutualsim.evidence.robust_cli",  # robust
)


class _Parser(argparse.ArgumentParser):
    """argparse, but bad arguments give one line and status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mutualsim",
        description="Agent-based simulation of whether public service mutuals survive after "
                    "they spin out of their councils.",
        epilog="Scenarios are TOML files (see scenarios/ and docs/ODD.md for every key).")
    parser.add_argument("--version", action="version", version=f"mutualsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run", help="simulate one scenario and write histories, panel and manifest",
        description="Simulate a scenario for many replications. Writes histories.parquet "
                    "(one row per mutual ever proposed), panel.parquet (one row per "
                    "replication and year) and manifest.json (scenario, seed, version) into "
                    "--out, all at once or not at all, and prints a summary.")
    run.add_argument("scenario", nargs="?", default=None,
                     help="scenario TOML file (default: the embedded baseline, the same as "
                          "scenarios/baseline.toml)")
    run.add_argument("--replications", "-n", type=positive_int, default=DEFAULT_REPLICATIONS,
                     help=f"number of replications (default {DEFAULT_REPLICATIONS})")
    run.add_argument("--seed", type=seed_int, default=0,
                     help="experiment seed; replication i uses the stream (seed, i) "
                          "(default 0)")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: out/<scenario name>)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_safety_options(run)
    run.set_defaults(func=cmd_run)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is not None and name.startswith(err.name):
                continue
            raise
        module.register(sub)
    return parser


def _scenario_and_name(path: str | None):
    from .params import Scenario, load_scenario
    if path is None:
        return Scenario(), "baseline", None
    return load_scenario(path), Path(path).stem, str(path)


def add_safety_options(parser: argparse.ArgumentParser, force: bool = True) -> None:
    """``--force`` (replace a non-result folder) and ``--no-size-check``, for every command
    that writes a results folder."""
    if force:
        parser.add_argument("--force", action="store_true",
                            help="replace --out even if it holds something other than a "
                                 "previous result of this command (never the command's own "
                                 "inputs, never the current folder or one above it)")
    parser.add_argument(OVERRIDE_FLAG, dest="no_size_check", action="store_true",
                        help="run even if the estimated memory, disk or time does not fit "
                             "this machine, and use more workers than cores")


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .blocks import DEFAULT_BLOCK, simulate_blocks
    from .guard import check_estimate, estimate_run
    from .kernel import context
    from .kernel import load as load_kernel
    from .outdir import check_out

    scenario, name, source = _scenario_and_name(args.scenario)
    out = args.out if args.out is not None else Path("out") / name
    check_out(out, "run", inputs=[source], force=args.force)
    check_estimate(estimate_run(scenario, args.replications, DEFAULT_BLOCK, streaming=True),
                   f"{args.replications:,} replications of {name}", out=out,
                   override=args.no_size_check, source=f"run -n {args.replications}")
    start = time.perf_counter()
    # The compiled kernel is loaded (or compiled, saying so, before any progress bar is
    # drawn), then the first block starts and the tables' libraries (pyarrow, which loads
    # pandas: about half a second) are imported while it runs. Blocks then stream to disk:
    # memory holds a few blocks (blocks.simulate_blocks) however many replications run.
    load_kernel(context(scenario))
    bar = None if args.quiet else tqdm(total=args.replications * scenario.years,
                                       unit="rep-yr", desc="simulating", dynamic_ncols=True)
    blocks = simulate_blocks(scenario, args.replications, args.seed,
                             on_year=bar.update if bar else None)
    from .io import ParquetStream, atomic_directory, write_json_atomic
    from .simulate import RunSummary
    from .tables import histories_table, panel_table
    from .versions import library_versions

    summary = RunSummary(scenario, args.seed)
    try:
        with atomic_directory(out, command="run", force=args.force) as work:
            with ParquetStream(work / "histories.parquet", "histories") as histories, \
                    ParquetStream(work / "panel.parquet", "panel") as panel:
                for block in blocks:
                    histories.write(histories_table(block, scenario))
                    panel.write(panel_table(block, scenario))
                    summary.add_block(block)
            elapsed = time.perf_counter() - start
            write_json_atomic(work / "manifest.json", {
                "scenario_name": name, "scenario_file": source,
                "scenario": scenario.to_dict(), "seed": args.seed,
                "replications": args.replications, "block_size": DEFAULT_BLOCK,
                "mutualsim_version": __version__, "versions": library_versions(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "elapsed_seconds": round(elapsed, 3),
            })
    finally:
        if bar is not None:
            bar.close()
    print(f"{name}: {summary.text()}")
    print(f"wrote {out}/ (histories.parquet, panel.parquet, manifest.json) in {elapsed:.1f} s")
    return 0


def _ignore_file_size_signal() -> None:
    """Let a write past ``ulimit -f`` fail with EFBIG (one line) instead of killing us."""
    import signal
    if hasattr(signal, "SIGXFSZ"):
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        except ValueError:  # pragma: no cover - not the main thread
            pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _ignore_file_size_signal()
    try:
        return args.func(args)
    except InputError as err:
        sys.stderr.write(f"mutualsim {args.command}: error: {err}\n")
        return 2
    except OSError as err:
        if err.errno not in _DISK_FULL:
            raise
        where = f" {err.filename}" if err.filename else ""
        sys.stderr.write(f"mutualsim {args.command}: error: cannot write{where}: "
                         f"{err.strerror or err}; free some space or raise the limit, then "
                         "run the same command again\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing was written\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
