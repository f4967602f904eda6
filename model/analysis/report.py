"""Tables (CSV, Markdown) and a self-contained HTML report of a comparison.

Everything for one comparison is assembled in a temporary folder and swapped in whole
(:func:`mutualsim.io.atomic_directory`), so a reader never finds half a report.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .. import __version__
from ..io import atomic_directory
from .compare import HORIZONS, ORIGIN_LABELS, TAU, Comparison, axis_label
from .figures import all_figures

__all__ = ["FOOTNOTE", "HOW_TO_READ", "markdown_table", "display_table", "render_html",
           "write_report"]

FOOTNOTE = (
    "S(t): share of spun-out mutuals still trading t years after spin-out (Kaplan-Meier, "
    "95% CI); when 'Survival from' says start of incubation, share of ventures (Teckal "
    "companies and direct spin-outs) still trading t years after incubation started, a "
    "service taken back in-house counting as a failure ('Spin-outs' then counts every "
    "venture). Median: years until half have exited ('not reached' if more than half "
    f"still trade). RMST {TAU}: average years traded out of the first {TAU}. Differences "
    "are against the first row; every row used the same random numbers (common random "
    "numbers), but the difference CIs treat rows as independent samples, so they are "
    "conservative (too wide). Log-rank: chi-square (p) against the first row; with this "
    "many mutuals even tiny differences give p near 0, so read the size of the "
    "difference, not p."
)

HOW_TO_READ = (
    "Each line or row is one version of the policy, simulated many times over the same "
    "run of luck, so the differences come from the policy. The first chart shows what "
    "share of mutuals are still trading each year after spinning out; a higher curve is "
    "better, and the shaded band is how sure we are. The exit-risk chart shows in which "
    "year mutuals tend to close: a jump just after a protected contract ends is the "
    "'cliff edge' of first open competition. The exit-cause chart splits closures into "
    "insolvency, winding down and takeover. The income chart shows how much mutuals "
    "still depend on their parent council. In the table, RMST is the average number of "
    "years a mutual trades out of the first 15, and the difference columns say how much "
    "each option gains or loses against the first one. These are model results under "
    "stated assumptions, not forecasts."
)


def _pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def _num(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def _ci(lo: float, hi: float, fmt) -> str:
    if math.isnan(lo) and math.isnan(hi):
        return ""
    return f" ({fmt(lo)} to {fmt(hi)})"


def _median(row: pd.Series) -> str:
    m = row["median"]
    text = "not reached" if math.isnan(m) else f"{m:.0f}"
    lo = "?" if math.isnan(row["median_low"]) else f"{row['median_low']:.0f}"
    hi = "not reached" if math.isnan(row["median_high"]) else f"{row['median_high']:.0f}"
    return text if math.isnan(m) and lo == "?" else f"{text} ({lo} to {hi})"


def _signed_pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:+.1f} pts"


def _signed(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.2f}"


def display_table(comparison: Comparison) -> pd.DataFrame:
    """The comparison table formatted for people: one string column per measure."""
    table = comparison.table()
    rows = []
    for i, row in table.iterrows():
        out: dict[str, Any] = {axis_label(comparison.factor): row["label"],
                               "Survival from": ORIGIN_LABELS[row["origin"]],
                               "Spin-outs": f"{int(row['spinouts']):,}"}
        for t in HORIZONS:
            out[f"S({t})"] = _pct(row[f"S{t}"]) + _ci(row[f"S{t}_low"], row[f"S{t}_high"],
                                                      _pct)
        out["Median (years)"] = _median(row)
        out[f"RMST {TAU} (years)"] = _num(row[f"rmst{TAU}"], 2) + _ci(
            row[f"rmst{TAU}_low"], row[f"rmst{TAU}_high"], lambda v: _num(v, 2))
        if i == 0:
            out["ΔS(10)"] = out[f"ΔRMST {TAU}"] = "reference"
            out["Log-rank χ² (p)"] = "reference"
        else:
            out["ΔS(10)"] = _signed_pct(row["dS10"]) + _ci(row["dS10_low"], row["dS10_high"],
                                                          _signed_pct)
            out[f"ΔRMST {TAU}"] = _signed(row[f"drmst{TAU}"]) + _ci(
                row[f"drmst{TAU}_low"], row[f"drmst{TAU}_high"], _signed)
            p = row["logrank_p"]
            out["Log-rank χ² (p)"] = ("n/a" if math.isnan(row["logrank_chisq"]) else
                                      f"{row['logrank_chisq']:.1f} "
                                      f"({'<0.001' if p < 0.001 else f'{p:.3f}'})")
        rows.append(out)
    return pd.DataFrame(rows)


def markdown_table(comparison: Comparison, footnote: bool = True) -> str:
    """The display table as GitHub Markdown, with the how-to-read footnote."""
    frame = display_table(comparison)
    lines = ["| " + " | ".join(frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(
        index=False)]
    left_out = comparison.meta.get("left_out") or []
    if left_out:
        lines += ["", f"Left out: {len(left_out)} scenario(s) with no finished task or no "
                      f"spin-out ({', '.join(map(str, left_out))})."]
    if footnote:
        lines += ["", FOOTNOTE]
    return "\n".join(lines) + "\n"


#: Resolution of the PNG figures a report writes (and embeds in report.html), dots per inch.
FIGURE_DPI = 150


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _scenario_rows(comparison: Comparison) -> str:
    if comparison.scenario is None:
        return ""
    cells = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                    for k, v in comparison.scenario.to_dict().items())
    return ("<details><summary>All scenario parameters</summary>"
            f"<table class='params'>{cells}</table></details>")


CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
line-height:1.45;color:#222}
table{border-collapse:collapse;font-size:0.92em;margin:1em 0}
td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef}
img{max-width:100%;height:auto;border:1px solid #ddd;margin:0.5em 0}
.note{font-size:0.9em;color:#444}
.params td{font-family:monospace;font-size:0.85em}
"""


def _left_out_note(comparison: Comparison) -> str:
    """How many replication-years had no mutual trading and were left out (not zero)."""
    table = comparison.income_share_table()
    dropped = int(table["replications_without_mutuals"].sum()) if len(table) else 0
    return (f"{dropped} replication-years with no mutual trading are left out, not "
            "counted as zero (per year and value: income_share.csv).")


def render_html(comparison: Comparison, figures: Mapping[str, Figure | bytes],
                table_markdown: str | None = None) -> str:
    """One self-contained page: figures as base64 PNG (a figure given as bytes is taken to
    be its PNG already rendered, and is not drawn again), tables, run details."""
    title = f"Do mutuals survive? {axis_label(comparison.factor)}"
    frame = display_table(comparison)
    table_html = frame.to_html(index=False, escape=True, border=0)
    captions = {
        "survival_curves": "Share still trading by years since spin-out (95% bands); "
                           "the table underneath gives the number still at risk.",
        "hazard": "Share of trading mutuals that exit in each year since spin-out. A "
                  "spike right after protection ends is the cliff edge of first open "
                  "competition.",
        "exit_causes": "How exits split by cause; the dashed line is all exits "
                       "(1 − share still trading).",
        "income_share": "Parent council's share of the mutuals' income, by calendar year "
                        "(mean across replications; band: 10% to 90% of replications). "
                        + _left_out_note(comparison),
        "survival_by_factor": "Share still trading after 5, 10 and 15 years against the "
                              "policy value, with 95% intervals.",
    }
    pngs = {name: fig if isinstance(fig, bytes) else _png(fig) for name, fig in figures.items()}
    imgs = "".join(
        f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode()}'/><figcaption class='note'>"
        f"{html.escape(captions.get(name, ''))}</figcaption></figure>"
        for name, png in pngs.items())
    details = {
        "Factor varied": comparison.factor,
        "Values": ", ".join(comparison.labels),
        "Replications per value": comparison.replications,
        "Seed": comparison.seed,
        "mutualsim version": __version__,
        "Created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    } | comparison.meta.get("details", {})
    detail_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                          for k, v in details.items() if v is not None)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>How to read this</h2><p>{html.escape(HOW_TO_READ)}</p>
{comparison.meta.get("posterior_html", "")}
<h2>Summary table</h2>{table_html}<p class="note">{html.escape(FOOTNOTE)}</p>
<h2>Figures</h2>{imgs}
<h2>Run details</h2><table>{detail_rows}</table>{_scenario_rows(comparison)}
</body></html>
"""


def write_report(comparison: Comparison, out: Path, *, command: str = "compare",
                 manifest: dict | None = None, force: bool = False,
                 extra: dict[str, str] | None = None) -> list[str]:
    """Write figures (PNG, SVG), tables (CSV, MD), report.html and manifest.json into
    ``out`` atomically; ``out`` may only be new, empty or a previous result of ``command``
    (see :func:`mutualsim.io.check_out`) unless ``force``. ``extra`` maps further file
    names to their text (e.g. ``handout.html``), written with the rest.

    Returns
    -------
    list of str
        File names written, in order.
    """
    figures = all_figures(comparison)
    table_md = markdown_table(comparison)
    names = []
    pngs: dict[str, bytes] = {}
    with atomic_directory(Path(out), command=command, manifest=manifest, force=force) as work:
        for name, fig in figures.items():
            # Drawn once as PNG: the file and report.html's embedded image are the same bytes.
            pngs[name] = _png(fig, dpi=FIGURE_DPI)
            (work / f"{name}.png").write_bytes(pngs[name])
            # The layout just solved for the PNG is kept (positions are figure fractions,
            # the same at any resolution), so the SVG is drawn without solving it again.
            fig.set_layout_engine("none")
            fig.savefig(work / f"{name}.svg")
            names += [f"{name}.png", f"{name}.svg"]
        comparison.table().to_csv(work / "table.csv", index=False)
        comparison.survival_at_table().to_csv(work / "survival_at.csv", index=False)
        comparison.income_share_table().to_csv(work / "income_share.csv", index=False)
        (work / "table.md").write_text(table_md, encoding="utf-8")
        (work / "report.html").write_text(render_html(comparison, pngs, table_md),
                                          encoding="utf-8")
        names += ["table.csv", "survival_at.csv", "income_share.csv", "table.md",
                  "report.html"]
        for name, text in (extra or {}).items():
            (work / name).write_text(text, encoding="utf-8")
            names.append(name)
    return [*names, "manifest.json"]
