"""``mutualsim compare`` and ``mutualsim plot``: figures, tables and a hand-out report.

All checks (scenario file, factor, values, output folder) happen before any simulation,
so bad input ends with one line, status 2 and nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..cli import (
    DEFAULT_REPLICATIONS,
    _scenario_and_name,
    add_safety_options,
    positive_int,
    seed_int,
)
from .factors import FACTOR_ALIASES

DEFAULT_VALUES = "0,3,5,7,15"
IN_OUT = "<out>/handout.html"  # --handout without a file name: inside the --out folder
HANDOUT_MAX = 6  # mutualsim.analysis.handout.MAX_GROUPS (not imported: keeps --help quick)
HANDOUT_NAME = "handout.html"
MAX_VALUES = 1000  # more arms than a figure can show; each is a full simulation
# mutualsim.analysis.uncertainty (not imported: keeps --help quick)
UNCERTAINTIES = ("posterior", "none")
DEFAULT_DRAWS = 40
DEFAULT_DRAW_REPLICATIONS = 50


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` and ``plot`` subcommands."""
    aliases = ", ".join(f"{k} ({v})" for k, v in FACTOR_ALIASES.items())
    compare = subparsers.add_parser(
        "compare", help="compare survival across values of one policy lever",
        description="Simulate a scenario once per value of one factor, all with the same "
                    "seed (common random numbers), and write survival curves, exit hazards, "
                    "exit causes, parent-council income share, S(5/10/15) against the "
                    "factor (PNG and SVG), a table (CSV and Markdown) and a self-contained "
                    "report.html into --out. Prints the table. See docs/ANALYSIS.md.")
    compare.add_argument("scenario", nargs="?", default=None,
                         help="base scenario TOML file (default: the embedded baseline)")
    compare.add_argument("--factor", default="protection",
                         help=f"the lever to vary: {aliases}, or any scenario parameter name "
                              "from docs/ODD.md (default: protection)")
    compare.add_argument("--values", default=None,
                         help="comma-separated values of the factor; the first is the "
                              "reference for differences, e.g. 0,3,5,7,15 (years), "
                              "cost_led,strategic,cooperative, or false,true "
                              f"(default: {DEFAULT_VALUES} for protection, otherwise required)")
    compare.add_argument("--uncertainty", choices=UNCERTAINTIES, default="posterior",
                         help="'posterior' (default): run every value over --draws parameter "
                              "sets drawn from the calibrated posterior (--posterior), the "
                              "same draws and random numbers for every value, and report "
                              "S(t) and RMST as posterior median and 90%% interval, paired "
                              "differences and P(better), beside the single-parameter "
                              "Kaplan-Meier interval; costs about 2x 'none' at the defaults. "
                              "'none': one parameter set (the scenario), Kaplan-Meier "
                              "intervals only, as before")
    compare.add_argument("--draws", type=positive_int, default=None,
                         help=f"posterior draws (default {DEFAULT_DRAWS}; only with "
                              "--uncertainty posterior)")
    compare.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                         help="posterior CSV (Scenario parameter columns and 'weight'; "
                              "default: the shipped one; only with --uncertainty posterior)")
    compare.add_argument("--replications", "-n", type=positive_int, default=None,
                         help=f"replications per value (default {DEFAULT_REPLICATIONS}); with "
                              "--uncertainty posterior, per draw and value (default "
                              f"{DEFAULT_DRAW_REPLICATIONS})")
    compare.add_argument("--seed", type=seed_int, default=0,
                         help="experiment seed shared by every value (default 0)")
    compare.add_argument("--out", type=Path, default=None,
                         help="output folder, replaced whole when done if it holds a "
                              "previous compare result (default: out/compare-<factor>)")
    compare.add_argument("--origin", choices=("spinout", "incubation"), default=None,
                         help="where survival time starts: 'spinout', or 'incubation' (the "
                              "start of Teckal incubation for an incubated service, else "
                              "spin-out; a service taken back at the end of incubation "
                              "counts as a failure, so incubation years are not immortal "
                              "time). Default: incubation for --factor incubation, "
                              "spinout otherwise; the table's 'Survival from' column says "
                              "which was used")
    compare.add_argument("--handout", nargs="?", const=IN_OUT, default=None, metavar="FILE",
                         help="also write a two-page print-ready handout (HTML: print it or "
                              "save it as PDF from a browser): into the --out folder as "
                              "handout.html, or to FILE (a new .html file, or a previous "
                              f"handout, which is replaced); at most {HANDOUT_MAX} values")
    compare.add_argument("--council", default=None, metavar="FILE",
                         help="your own council: a council TOML file (its services and "
                              "style, docs/WORKSHOP.md) or the name of a shipped one "
                              "(example_council). Reports per service the chance it is run "
                              "by its mutual after 5/10/15 years and the council's expected "
                              "step-in cost and spend; with --values, once per value of "
                              "--factor (default out folder: out/council-<name>). One "
                              "parameter set (posterior draws are not yet available here)")
    compare.add_argument("--quiet", action="store_true", help="no progress bars")
    add_safety_options(compare)
    compare.set_defaults(func=cmd_compare)

    plot = subparsers.add_parser(
        "plot", help="figures, tables and report.html from a finished sweep folder",
        description="Read a folder written by 'mutualsim sweep' and write the same figures, "
                    "tables and report.html as 'compare', one group per scenario, labelled "
                    "by the factors the sweep varied. The first scenario is the reference.")
    plot.add_argument("dir", type=Path, metavar="DIR", help="sweep results folder")
    plot.add_argument("--out", type=Path, default=None,
                      help="output folder, replaced whole when done (default: DIR-plots, "
                           "beside the sweep folder)")
    add_safety_options(plot)
    plot.set_defaults(func=cmd_plot)


def _values(factor: str, text: str | None) -> tuple:
    from ..errors import InputError
    from .compare import parse_values
    if text is None:
        if factor != "protection_years":
            raise InputError(f"give --values for factor {factor!r}", source="--values")
        text = DEFAULT_VALUES
    return parse_values(factor, text)


def _handout_path(given: str | None, out: Path, n_values: int, force: bool) -> Path | None:
    """Where ``--handout`` writes, checked before any work (None without ``--handout``)."""
    from ..errors import InputError
    from .handout import MAX_GROUPS, check_handout_path
    if given is None:
        return None
    if n_values > MAX_GROUPS:
        raise InputError(f"a handout shows at most {MAX_GROUPS} values on two pages, got "
                         f"{n_values}; compare fewer values", source="--handout")
    if given == IN_OUT:
        return out / HANDOUT_NAME
    path = Path(given)
    real, folder = path.resolve(), out.resolve()
    if real == folder or folder in real.parents:
        raise InputError(f"is inside the --out folder {out}, which is replaced whole; give "
                         "--handout without a file name to put handout.html there",
                         source=f"--handout {given}")
    return check_handout_path(path, force=force)


def _write_separate_handout(comparison, handout: Path | None,
                            args: argparse.Namespace) -> None:
    """Write the handout to its own file when ``--handout FILE`` named one (with a bare
    ``--handout`` it is already in the --out folder)."""
    if handout is not None and args.handout != IN_OUT:
        from .handout import write_handout
        write_handout(comparison, handout, force=args.force)
        print(f"handout: {handout}")


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the comparison, write the outputs, print the Markdown table."""
    if args.council is not None:
        return cmd_compare_council(args)
    from ..guard import check_count, check_estimate, estimate_run
    from ..io import check_out
    from ..simulate import DEFAULT_BLOCK
    from .compare import compare, resolve_factor
    from .report import markdown_table, write_report

    factor = resolve_factor(args.factor)
    values = _values(factor, args.values)
    if args.uncertainty == "posterior":
        return _compare_posterior(args, factor, values)
    for given, flag in ((args.draws, "--draws"), (args.posterior, "--posterior")):
        if given is not None:
            from ..errors import InputError
            raise InputError("applies only with --uncertainty posterior", source=flag)
    if args.replications is None:
        args.replications = DEFAULT_REPLICATIONS
    check_count(len(values), MAX_VALUES, "values", "--values", override=args.no_size_check,
                why="each is a full simulation and a curve in every figure")
    scenario, name, source = _scenario_and_name(args.scenario)
    arms = [scenario.replace(**{factor: v}) for v in values]  # whole-scenario rules too
    alias = next((k for k, v in FACTOR_ALIASES.items() if v == factor), factor)
    out = args.out if args.out is not None else Path("out") / f"compare-{alias}"
    check_out(out, "compare", inputs=[source], force=args.force)
    handout = _handout_path(args.handout, out, len(values), force=args.force)
    biggest = max(arms, key=lambda s: s.councils * s.services_per_council)
    check_estimate(estimate_run(biggest, args.replications, DEFAULT_BLOCK, arms=len(arms)),
                   f"{len(arms)} values x {args.replications:,} replications", out=out,
                   override=args.no_size_check, source=f"compare -n {args.replications}")
    start = time.perf_counter()
    comparison = compare(scenario, factor, values, args.replications, args.seed,
                         progress=not args.quiet, origin=args.origin)
    comparison.meta["details"] = {"Scenario": name}
    extra = {}
    if args.handout == IN_OUT:
        from .handout import render_handout
        extra[HANDOUT_NAME] = render_handout(comparison)
    files = write_report(comparison, out, command="compare", force=args.force,
                         manifest={"scenario_name": name, "scenario_file": source,
                                   "factor": factor, "values": list(values),
                                   "replications": args.replications, "seed": args.seed,
                                   "origin": comparison.origin},
                         extra=extra)
    _write_separate_handout(comparison, handout, args)
    elapsed = time.perf_counter() - start
    sys.stdout.write(markdown_table(comparison))
    print(f"\n{name}: {len(values)} values x {args.replications} replications, seed "
          f"{args.seed}; wrote {out}/ ({len(files)} files) in {elapsed:.1f} s")
    return 0


def _compare_posterior(args: argparse.Namespace, factor: str, values: tuple) -> int:
    """``compare --uncertainty posterior``: every check first, then the draws."""
    from ..evidence.posterior import load_posterior
    from ..guard import check_count, check_estimate, estimate_run
    from ..io import check_out
    from ..simulate import DEFAULT_BLOCK
    from .report import write_report
    from .uncertainty import compare_posterior

    draws = args.draws if args.draws is not None else DEFAULT_DRAWS
    reps = args.replications if args.replications is not None else DEFAULT_DRAW_REPLICATIONS
    check_count(len(values), MAX_VALUES, "values", "--values", override=args.no_size_check,
                why="each is a full simulation and a curve in every figure")
    scenario, name, source = _scenario_and_name(args.scenario)
    posterior = load_posterior(args.posterior)
    rows = sorted(set(posterior.draw(draws, args.seed).tolist()))
    arms = [posterior.scenario(scenario, r).replace(**{factor: v})
            for r in rows for v in values]  # every scenario checked before any work
    arms += [scenario.replace(**{factor: v}) for v in values]
    alias = next((k for k, v in FACTOR_ALIASES.items() if v == factor), factor)
    out = args.out if args.out is not None else Path("out") / f"compare-{alias}"
    inputs = [source] + ([args.posterior] if args.posterior is not None else [])
    check_out(out, "compare", inputs=inputs, force=args.force)
    handout = _handout_path(args.handout, out, len(values), force=args.force)
    biggest = max(arms, key=lambda s: s.councils * s.services_per_council)
    check_estimate(estimate_run(biggest, reps, DEFAULT_BLOCK,
                                arms=len(values) * (draws + 1)),
                   f"{len(values)} values x ({draws} draws + 1) x {reps:,} replications",
                   out=out, override=args.no_size_check,
                   source=f"compare --draws {draws} -n {reps}")
    start = time.perf_counter()
    pc = compare_posterior(scenario, factor, values, reps, args.seed, draws=draws,
                           posterior=posterior, progress=not args.quiet, origin=args.origin)
    comparison, extra, table_md = posterior_outputs(pc, {"Scenario": name})
    if args.handout == IN_OUT:
        from .handout import render_handout
        extra[HANDOUT_NAME] = render_handout(comparison)
    files = write_report(comparison, out, command="compare", force=args.force,
                         manifest={"scenario_name": name, "scenario_file": source,
                                   "factor": factor, "values": list(values),
                                   "replications": reps, "seed": args.seed,
                                   "origin": comparison.origin, "uncertainty": "posterior",
                                   "draws": draws, "posterior": pc.posterior,
                                   "posterior_label": pc.posterior_label},
                         extra=extra)
    _write_separate_handout(comparison, handout, args)
    elapsed = time.perf_counter() - start
    sys.stdout.write(table_md)
    print(f"\n{name}: {len(values)} values x {draws} posterior draws x {reps} replications "
          f"(+ {reps} single-parameter), seed {args.seed}; wrote {out}/ ({len(files)} files) "
          f"in {elapsed:.1f} s")
    return 0


def posterior_outputs(pc, details: dict) -> tuple:
    """What ``compare`` and ``plot`` write for a posterior comparison ``pc``: the
    single-parameter Comparison (its figures) carrying the posterior section, the extra
    files (``posterior_table.md/.csv``, ``draws.csv``) and the Markdown table to print."""
    from .uncertainty_report import html_section, markdown
    comparison = pc.single
    comparison.meta["details"] = {**comparison.meta.get("details", {}), **details,
                                  "Uncertainty": "posterior",
                                  "Posterior": pc.posterior_label or pc.posterior,
                                  "Posterior draws": pc.n_draws,
                                  "Replications per draw": pc.replications}
    comparison.meta["posterior_html"] = html_section(pc)
    table_md = markdown(pc)
    extra = {"posterior_table.md": table_md,
             "posterior_table.csv": pc.table().to_csv(index=False),
             "draws.csv": pc.draws.to_csv(index=False)}
    return comparison, extra, table_md


def cmd_compare_council(args: argparse.Namespace) -> int:
    """``compare --council FILE``: the council's own services (checked before any work),
    services.csv, council.csv and summary.txt in --out, the summary printed."""
    from ..council import load_council
    from ..errors import InputError
    from ..guard import check_estimate, estimate_run
    from ..io import check_out
    from ..outdir import atomic_directory
    from ..simulate import DEFAULT_BLOCK
    from .compare import resolve_factor
    from .council import run_council

    if args.scenario is not None:
        raise InputError("give a scenario file or --council, not both (a council file "
                         "holds its own [scenario] section)", source=args.scenario)
    # Posterior draws are not yet available for a council file: one parameter set.
    for flag, given in (("--handout", args.handout), ("--origin", args.origin),
                        ("--draws", args.draws), ("--posterior", args.posterior)):
        if given is not None:
            raise InputError("not available with --council", source=flag)
    if args.replications is None:
        args.replications = DEFAULT_REPLICATIONS
    council = load_council(args.council)
    factor, values = None, ()
    if args.values is not None:
        factor = resolve_factor(args.factor)
        if factor in ("councils", "services_per_council"):
            raise InputError(f"{factor!r} is set by the council file", source="--factor")
        values = _values(factor, args.values)
        for v in values:  # every arm must be a valid scenario, before any work
            council.scenario.replace(**{factor: v})
    stem = Path(council.path).stem
    out = args.out if args.out is not None else Path("out") / f"council-{stem}"
    check_out(out, "compare", inputs=[council.path], force=args.force)
    arms = max(len(values), 1) * 2  # each arm also runs the all in-house counterfactual
    check_estimate(estimate_run(council.scenario, args.replications, DEFAULT_BLOCK,
                                arms=arms),
                   f"{arms} runs x {args.replications:,} replications", out=out,
                   override=args.no_size_check, source=f"compare -n {args.replications}")
    start = time.perf_counter()
    result = run_council(council, args.replications, args.seed, factor=factor,
                         values=values)
    text = result.text()
    with atomic_directory(out, "compare", manifest={
            "council_file": str(council.path), "council": council.name,
            "factor": factor, "values": list(values), "replications": args.replications,
            "seed": args.seed}, force=args.force) as work:
        result.services_table().to_csv(work / "services.csv", index=False)
        result.council_table().to_csv(work / "council.csv", index=False)
        (work / "summary.txt").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    print(f"\nwrote {out}/ (services.csv, council.csv, summary.txt) in "
          f"{time.perf_counter() - start:.1f} s")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Summarise a sweep folder and write the report."""
    from ..io import check_out
    from .from_sweep import comparison_from_sweep
    from .posterior_sweep import is_posterior_sweep, posterior_from_sweep
    from .report import markdown_table, write_report

    out = args.out if args.out is not None else args.dir.with_name(args.dir.name + "-plots")
    check_out(out, "plot", inputs=[args.dir], force=args.force)
    start = time.perf_counter()
    if is_posterior_sweep(args.dir):  # [uncertainty] kind = "posterior": the headline
        pc = posterior_from_sweep(args.dir)
        comparison, extra, table = posterior_outputs(pc, {})
        files = write_report(comparison, out, command="plot", force=args.force,
                             manifest={"sweep": str(args.dir), "uncertainty": "posterior",
                                       "draws": pc.n_draws, "posterior": pc.posterior,
                                       "posterior_label": pc.posterior_label},
                             extra=extra)
        sys.stdout.write(table)
        unfinished = pc.meta.get("unfinished_draw_runs", 0)
        if unfinished:
            print(f"\n{unfinished} draw runs have not finished and are counted as missing "
                  "(not filled in); run the sweep again to finish them")
        print(f"\nwrote {out}/ ({len(files)} files) in {time.perf_counter() - start:.1f} s")
        return 0
    comparison = comparison_from_sweep(args.dir)
    files = write_report(comparison, out, command="plot", force=args.force,
                         manifest={"sweep": str(args.dir)})
    sys.stdout.write(markdown_table(comparison))
    print(f"\nwrote {out}/ ({len(files)} files) in {time.perf_counter() - start:.1f} s")
    return 0
