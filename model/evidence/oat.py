"""One-at-a-time (OAT) sensitivity of S(10): every numeric parameter -10% and +10%.

Why OAT next to Morris and Sobol: issue 13 asks for a table a reader can check line by line
("a +/-10% one-at-a-time sensitivity table of S(10) for every parameter, published; any
parameter moving S(10) by more than 10 points is a named policy lever or justified in
ODD.md"). Morris answers "what could change the answer over wide ranges"; this answers
"how fragile is the calibrated baseline to a small error in each number".

Rules (one row per parameter, :func:`oat_plan`):

* real numbers: the default x 0.9 and x 1.1, clipped to the allowed range; a zero default
  moves by 10% of the allowed range instead (x 0.9 of zero is zero);
* whole numbers: the same, rounded; where rounding leaves the default unchanged the value
  moves by one step (e.g. 3 -> 2 and 4), so every whole-number row is a real change;
* switches (booleans): flipped (one run, shown in the ``low`` column);
* choice parameters (presets) and unset overrides (default None): skipped, with a note;
* run set-up (``start_year``, ``years``, ``councils``): skipped, with a note (they set
  the size and dates of the run, not a behaviour);
* a side whose clipped value equals the default (the default is at a bound) is not run.

All points run with the same seed and replications 0..R-1 (common random numbers), so the
change from the baseline is not blurred by independent simulation noise. Every model run
goes through the sweep layer (``--workers``, Dask, progress bar, resume after a kill); the
result folder is published whole. A missing S(10) (no mutual followed 10 years) is never
filled in: the row says so.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import Scenario
from .publish import check_target, publish, sweeps_root
from .sweeps import check_stage, point_outcomes, points_experiment, run_stage

OUTCOME = "S10"
FRACTION = 0.1
FLAG_POINTS = 10.0
RUN_SKIPPED = ("start_year", "years", "councils")
COMMAND = "sensitivity"  # the CLI command (--oat); the run key starts with "oat-"


@dataclass(frozen=True)
class OatSettings:
    """Size of one OAT run (``quick``: a toy size for tests and a setup check)."""

    base: dict[str, Any]
    replications: int = 200
    seed: int = 2026
    fraction: float = FRACTION
    flag_points: float = FLAG_POINTS
    outcome: str = OUTCOME
    parameters: tuple[str, ...] | None = None  # a subset to vary (default: every one)

    @classmethod
    def quick(cls) -> OatSettings:
        return cls({"councils": 12, "years": 20}, replications=4)

    @property
    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return "oat-" + hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return (f"OAT {self.key}: +-{self.fraction:.0%}, {self.replications} replications, "
                f"seed {self.seed}, base {self.base or 'default'}")


@dataclass(frozen=True)
class Change:
    """One OAT run: parameter ``name`` set to ``value`` (``side`` low, high or flip)."""

    name: str
    side: str
    value: Any
    how: str


def _moved(name: str, default: Any, factor: float, lo: float | None, hi: float | None,
           whole: bool, span: float) -> tuple[Any, str]:
    """The default moved by ``factor`` (0.9 or 1.1), clipped; ``how`` says what was done."""
    up = factor > 1
    if default == 0:
        raw, how = (span if up else -span), "zero default: +-10% of the allowed range"
    else:
        raw, how = default * factor, f"x{factor:g}"
    if whole:
        value = int(math.floor(raw + 0.5))  # half up (round() would go to even)
        if value == default:
            value = default + (1 if up else -1)
            how = "rounding left it unchanged: one step"
        else:
            how += ", rounded"
    else:
        value = float(raw)
    if lo is not None and value < lo:
        value, how = (int(lo) if whole else float(lo)), how + ", clipped to the minimum"
    if hi is not None and value > hi:
        value, how = (int(hi) if whole else float(hi)), how + ", clipped to the maximum"
    return value, how


def oat_plan(base: Scenario | None = None, fraction: float = FRACTION,
             only: tuple[str, ...] | None = None) -> tuple[list[Change], dict[str, str]]:
    """The OAT runs for every numeric parameter of ``base``, and the skipped ones with why.

    Returns ``(changes, skipped)``: changes in field order (low before high); ``skipped``
    maps a parameter to the reason it has no run (choice, unset override, run set-up, or
    both sides at a bound). ``only`` restricts the plan to those parameters.
    """
    if not 0 < fraction < 1:
        raise InputError(f"must be in (0, 1), got {fraction}", source="OAT fraction")
    base = base or Scenario()
    names = [f.name for f in fields(Scenario)]
    if only is not None:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise InputError(f"{unknown[0]!r} is not a scenario parameter",
                             source="OAT parameters")
    changes: list[Change] = []
    skipped: dict[str, str] = {}
    for f in fields(Scenario):
        name, default, meta = f.name, getattr(base, f.name), f.metadata
        if only is not None and name not in only:
            continue
        if name in RUN_SKIPPED:
            skipped[name] = "run set-up (size or dates of the run), not a behaviour"
            continue
        if meta.get("choices"):
            skipped[name] = f"choice parameter ({', '.join(meta['choices'])}): no +-10%"
            continue
        if default is None:
            skipped[name] = "unset override (default None: the preset decides)"
            continue
        if isinstance(default, bool):
            changes.append(Change(name, "flip", not default, "switch flipped"))
            continue
        if not isinstance(default, int | float):
            skipped[name] = f"not numeric ({type(default).__name__})"
            continue
        lo, hi = meta["lo"], meta["hi"]
        whole = isinstance(default, int)
        span = fraction * (hi - lo) if lo is not None and hi is not None else fraction
        rows = []
        for side, factor in (("low", 1 - fraction), ("high", 1 + fraction)):
            value, how = _moved(name, default, factor, lo, hi, whole, span)
            if value != default:
                rows.append(Change(name, side, value, how))
        if rows:
            changes.extend(rows)
        else:
            skipped[name] = "at a bound on both sides: no change possible"
    return changes, skipped


def oat_points(base: Scenario, changes: list[Change]) -> list[dict[str, Any]]:
    """Design points: the baseline first, then one per change; every point sets every
    changed field (the others at the base value), as ``points_experiment`` needs."""
    names = list(dict.fromkeys(c.name for c in changes))
    start = {n: getattr(base, n) for n in names}
    return [dict(start)] + [{**start, c.name: c.value} for c in changes]


def oat_table(base: Scenario, changes: list[Change], values: np.ndarray | list[float],
              flag_points: float = FLAG_POINTS) -> tuple[pd.DataFrame, float]:
    """The OAT table from the outcome at each point (``values[0]`` the baseline).

    One row per parameter: default, low and high values, the outcome there, its change
    from the baseline in points (x 100), ``effect_points`` = the larger absolute change,
    ``flag`` = effect above ``flag_points``; sorted by effect (largest first; rows with a
    missing outcome last). Returns ``(table, baseline)``.
    """
    values = np.asarray(values, float)
    if len(values) != len(changes) + 1:
        raise ValueError(f"need {len(changes) + 1} outcome values, got {len(values)}")
    baseline = float(values[0])
    rows: dict[str, dict[str, Any]] = {}
    for change, v in zip(changes, values[1:], strict=True):
        row = rows.setdefault(change.name, {
            "parameter": change.name, "section": Scenario.__dataclass_fields__[
                change.name].metadata["section"],
            "default": getattr(base, change.name), "low": None, "high": None,
            "S_low": math.nan, "S_high": math.nan, "how": []})
        col = "low" if change.side in ("low", "flip") else "high"
        row[col] = change.value
        row[f"S_{col}"] = float(v)
        row["how"].append(f"{change.side}: {change.how}")
    frame = pd.DataFrame(list(rows.values()))
    frame["how"] = frame["how"].map("; ".join)
    frame["change_low_points"] = 100 * (frame["S_low"] - baseline)
    frame["change_high_points"] = 100 * (frame["S_high"] - baseline)
    both = frame[["change_low_points", "change_high_points"]].abs()
    frame["effect_points"] = both.max(axis=1, skipna=True)
    frame["flag"] = frame["effect_points"] > flag_points
    frame = frame.sort_values("effect_points", ascending=False, kind="stable",
                              na_position="last").reset_index(drop=True)
    return frame, baseline


def _show(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.4g}"


def _points(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:+.1f}"


def oat_markdown(table: pd.DataFrame, baseline: float, skipped: dict[str, str],
                 settings: OatSettings) -> str:
    """The table as Markdown for docs/SENSITIVITY.md (flagged rows in bold)."""
    out = settings.outcome
    lines = [
        f"Baseline {out} = {baseline:.3f} ({settings.replications} replications, seed "
        f"{settings.seed}, common random numbers; base {settings.base or 'default'}). "
        f"Each parameter -{settings.fraction:.0%} and +{settings.fraction:.0%} "
        f"(whole numbers rounded, at least one step; switches flipped; clipped to the "
        f"allowed range; '-': not possible at the bound). Changes in points (x 100). "
        f"**Flagged**: moves {out} by more than "
        f"{settings.flag_points:g} points.",
        "",
        f"| rank | parameter | default | -10% value | +10% value | {out} at -10% | "
        f"{out} at +10% | change -10% (points) | change +10% (points) | flag |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in table.iterrows():
        name = f"**`{r['parameter']}`**" if r["flag"] else f"`{r['parameter']}`"
        lines.append(
            f"| {i + 1} | {name} | {_show(r['default'])} | {_show(r['low'])} | "
            f"{_show(r['high'])} | {_show(r['S_low'])} | {_show(r['S_high'])} | "
            f"{_points(r['change_low_points'])} | {_points(r['change_high_points'])} | "
            f"{'**> ' + format(settings.flag_points, 'g') + '**' if r['flag'] else ''} |")
    flagged = table.loc[table["flag"], "parameter"].tolist()
    lines += ["", f"Flagged ({len(flagged)}): "
              + (", ".join(f"`{n}`" for n in flagged) if flagged else "none") + "."]
    missing = table.loc[table["S_low"].isna() & table["S_high"].isna(), "parameter"]
    if len(missing):
        lines.append(f"No {out} (missing, not filled in): "
                     + ", ".join(f"`{n}`" for n in missing) + ".")
    if skipped:
        lines += ["", "Not varied:", ""]
        lines += [f"* `{n}`: {why}" for n, why in skipped.items()]
    return "\n".join(lines) + "\n"


class OatIncomplete(Exception):
    """The OAT sweep did not finish (failed or unrun tasks); re-running resumes it."""


def run_oat(out: Path, settings: OatSettings | None = None, workers: int | None = None, *,
            scheduler: str | None = None, cluster: str | None = None,
            progress: bool = False, force: bool = False,
            size_check: bool = True) -> dict[str, Any]:
    """Run (or resume) the OAT sweep and publish ``oat_<outcome>.csv``, ``.md``,
    ``oat.json`` and ``manifest.json`` to ``out`` (whole, at the end).

    The model runs are a resumable sweep in ``<out>.sweeps/<settings key>/oat``. Raises
    InputError before any work for an ``out`` that may not be replaced or a size that does
    not fit the machine; :class:`OatIncomplete` if tasks failed.
    """
    from ..sweep.executors import open_pool
    from .extras import require
    s = settings or OatSettings({})
    out = Path(out)
    if scheduler is not None or cluster is not None:
        require("distributed", "--scheduler" if scheduler is not None else "--cluster local")
    check_target(out, COMMAND, s.key, force)
    base = Scenario().replace(**s.base)
    changes, skipped = oat_plan(base, s.fraction, s.parameters)
    points = oat_points(base, changes)
    experiment = points_experiment("sensitivity_oat", s.base, points, s.seed,
                                   s.replications, f"OAT +-{s.fraction:.0%} of every "
                                   "numeric parameter")
    root = sweeps_root(out, s.key) / "oat"
    check_stage(experiment, root)
    if size_check:
        from ..guard import check_estimate, estimate_sweep
        check_estimate(estimate_sweep([p.scenario for p in experiment.scenarios],
                                      experiment.replications, experiment.block_size,
                                      workers or 1),
                       f"OAT ({len(points):,} points x {s.replications:,} replications)",
                       out=out, source="sensitivity --oat")
    with open_pool(workers, scheduler, cluster, tasks=len(experiment.scenarios)) as pool:
        if progress:
            sys.stderr.write(f"{s.label}: {len(points)} points on {pool.description}; "
                             f"resumable in {root}/\n")
        report = run_stage(experiment, root, pool.executor, pool.capacity, progress,
                           pool.description)
    if not report.ok:  # pragma: no cover (a task failure is tested in the sweep layer)
        raise OatIncomplete(f"OAT: {len(report.failed)} tasks failed and {report.not_run} "
                            f"were not run (details in {root}/tasks/); run the same command "
                            "again to retry")
    frame = point_outcomes(root, experiment).sort_values("design_index")
    table, baseline = oat_table(base, changes, frame[s.outcome].to_numpy(float),
                                s.flag_points)
    markdown = oat_markdown(table, baseline, skipped, s)
    info = {"label": s.label, "settings": asdict(s), "sweeps": str(root),
            "points": len(points), "baseline": baseline,
            "flagged": table.loc[table["flag"], "parameter"].tolist(), "skipped": skipped}
    with publish(out, COMMAND, s.key, info, force) as work:
        table.to_csv(work / f"oat_{s.outcome}.csv", index=False, float_format="%.5g")
        (work / f"oat_{s.outcome}.md").write_text(markdown, encoding="utf-8")
        (work / "oat.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return {"table": table, "baseline": baseline, "markdown": markdown, "skipped": skipped,
            "sweeps": root, "info": info}
