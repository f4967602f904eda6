"""A two-page, print-ready HTML handout of a comparison, for a workshop to take away.

Page 1: what was compared, the survival curves with the numbers at risk under them, and
the results in plain words ("7 in 10 still trading after 10 years"). Page 2: what drives the
difference (riskiest year, exits by cause, dependence on the parent council, computed from
the same comparison) and what the model leaves out (docs/ODD.md section 5, docs/VALIDATION.md
"Known limits"). One self-contained file (figures inlined as PNG), sized for A4 or US
Letter: print it from a browser, or "Save as PDF".

A handout is recognised by the ``<meta name="generator">`` tag it carries
(:data:`MARK`); :func:`write_handout` replaces only such a file, atomically, and refuses any
other existing file in one line (:class:`~mutualsim.errors.InputError`).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .. import __version__
from ..errors import InputError
from ..io import write_bytes_atomic
from .compare import CAUSES, HORIZONS, Comparison, axis_label
from .figures import fig_hazard, fig_km

#: The handout's plain-words exit causes: every insolvency (structural or after a shock or
#: a lost contract) together, wound down, taken over, and (survival from the start of
#: incubation) taken back in-house.
CAUSE_GROUPS: dict[str, tuple[str, ...]] = {
    "insolvency": tuple(c for c in CAUSES if c.startswith("insolvency")),
    "wind_down": ("wind_down",), "takeover": ("takeover",), "taken_back": ("taken_back",)}
GROUP_LABELS = {"insolvency": "insolvency", "wind_down": "mutuals wound down",
                "takeover": "takeovers", "taken_back": "services taken back in-house"}
__all__ = ["CAVEATS", "MARK", "MAX_GROUPS", "check_handout_path", "drivers", "in_ten",
           "is_handout", "plain_words", "render_handout", "write_handout"]

#: Written into every handout's <head>; only a file carrying it is ever replaced.
MARK = "mutualsim-handout/1"
#: Settings a two-page handout can show legibly (rows of its tables, curves in its figure).
MAX_GROUPS = 6
#: Years at which exits are broken down by cause.
CAUSE_YEAR = 10
SECTIONS = ("What was compared", "Share still trading", "In plain words",
            "What drives the difference", "What the model leaves out")

#: What the model leaves out, in plain words, from docs/ODD.md section 5 ("Known limits and
#: assumptions to revisit") and docs/VALIDATION.md ("Known limits"). Revisit with them.
CAVEATS = (
    "It is a model of an average English council, not of yours: the results compare "
    "policies under stated assumptions; they are not forecasts.",
    "Few published figures pin it down: two national counts of spin-outs and a general "
    "survival band for co-operatives. No survival curve of council spin-outs has been "
    "published, so the shares still trading are model predictions.",
    "Mutuals close almost only in the years a contract is re-tendered. Real small "
    "organisations also fail between tenders (cash-flow shocks, losing key staff, "
    "governance crises), so real curves are smoother.",
    "Councils in one run share one policy; private firms never fail and their contracts "
    "are not re-tendered.",
    "A service is proposed for spin-out at most once, and a mutual that loses its core "
    "contract does not bid to win it back.",
    "Splitting contracts into lots has a strong effect in the model, which no published "
    "estimate confirms or limits.",
    "The model starts in 2010 with no mutuals: earlier spin-outs (e.g. in health and social "
    "care) are not represented, and there is no geography.",
)

CSS = """
@page { size: A4; margin: 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 10pt;
  line-height: 1.3; color: #111; margin: 0; background: #eee; }
.sheet { width: 182mm; height: 270mm; overflow: hidden; background: #fff;
  margin: 8mm auto; padding: 0; }
@media screen { .sheet { padding: 10mm 12mm; width: 210mm; height: 297mm;
  box-shadow: 0 0 4mm rgba(0,0,0,.25); } }
@media print { body { background: #fff; } .sheet { margin: 0; box-shadow: none; }
  .sheet + .sheet { break-before: page; } }
h1 { font-size: 16pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 3mm 0 1.5mm; border-bottom: 0.4mm solid #0072B2;
  padding-bottom: 0.5mm; }
p { margin: 1mm 0; }
.sub { color: #444; font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
td, th { border: 0.25mm solid #999; padding: 0.7mm 1.5mm; text-align: left;
  vertical-align: top; }
th { background: #e8f1f8; }
td.big { font-size: 11pt; font-weight: bold; }
th.row { width: 30%; }
img.curves { display: block; width: 100%; max-height: 112mm; object-fit: contain; }
img.hazard { display: block; width: 100%; max-height: 56mm; object-fit: contain; }
ul { margin: 1mm 0; padding-left: 5mm; }
li { margin: 0.4mm 0; }
.note { font-size: 8.5pt; color: #444; }
"""


# ------------------------------------------------------------------------------ numbers
def in_ten(share: float) -> str:
    """``0.68`` -> ``"about 7 in 10"``; ``"not known"`` when undefined."""
    if share is None or math.isnan(share):
        return "not known"
    tenths = round(share * 10)
    if tenths == 10 and share < 0.995:
        return "more than 9 in 10"
    if tenths == 0 and share > 0.005:
        return "fewer than 1 in 10"
    return f"about {tenths} in 10"


def plain_words(comparison: Comparison) -> pd.DataFrame:
    """One row per setting, one column per horizon: ``"about 7 in 10 (68%)"``."""
    rows = []
    for g in comparison.groups:
        row = {"Setting": g.label}
        for t in HORIZONS:
            s = g.survival_at(t).estimate
            row[f"After {t} years"] = ("not known (too few followed so long)" if math.isnan(s)
                                       else f"{in_ten(s)} ({s:.0%})")
        rows.append(row)
    return pd.DataFrame(rows)


def _at(frame: pd.DataFrame, column: str, t: int) -> float:
    """The value of a step function (rows by ``time``) at time ``t``; NaN before it starts."""
    rows = frame[frame["time"] <= t]
    return float(rows[column].iloc[-1]) if len(rows) else float("nan")


def drivers(comparison: Comparison) -> pd.DataFrame:
    """Per setting: riskiest year since spin-out, exits by cause per 100 by year 10, and the
    parent council's mean share of the mutuals' income in the last simulated year.

    Years with fewer than 30 mutuals at risk are left out of the riskiest year (noise).
    """
    rows = []
    for g in comparison.groups:
        h = g.hazard()
        h = h[(h["at_risk"] >= 30) & (h["time"] >= 1)]
        row: dict[str, object] = {"label": g.label}
        if len(h) and h["hazard"].max() > 0:
            peak = h.loc[h["hazard"].idxmax()]
            row |= {"peak_year": int(peak["time"]), "peak_hazard": float(peak["hazard"])}
        else:
            row |= {"peak_year": None, "peak_hazard": float("nan")}
        cif = g.incidence()
        for group, causes in CAUSE_GROUPS.items():
            row[group] = sum((_at(cif, c, CAUSE_YEAR) for c in causes if c in cif.columns),
                             0.0) if any(c in cif.columns for c in causes) else float("nan")
        row["trading"] = g.survival_at(CAUSE_YEAR).estimate
        share = (g.income_share.dropna(subset=["mean"])
                 if g.income_share is not None else pd.DataFrame())
        if len(share):
            last = share.iloc[-1]
            row |= {"income_year": int(last["year"]), "income_share": float(last["mean"])}
        else:
            row |= {"income_year": None, "income_share": float("nan")}
        rows.append(row)
    return pd.DataFrame(rows)


def _per100(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.0f}"


def _difference_sentences(table: pd.DataFrame) -> list[str]:
    """For each setting against the first: the change in mutuals trading at year 10 per 100
    spun out, and the exit cause that changes most."""
    ref = table.iloc[0]
    out = []
    for _, row in table.iloc[1:].iterrows():
        d = row["trading"] - ref["trading"]
        if math.isnan(d):
            continue
        if abs(d) < 0.005:
            out.append(f"<b>{html.escape(row['label'])}</b>: no visible difference from "
                       f"{html.escape(ref['label'])} after {CAUSE_YEAR} years.")
            continue
        changes = {c: row[c] - ref[c] for c in CAUSE_GROUPS
                   if not math.isnan(row[c] - ref[c])}
        text = (f"<b>{html.escape(row['label'])}</b>: {abs(100 * d):.0f} "
                f"{'more' if d > 0 else 'fewer'} in every 100 still trading after "
                f"{CAUSE_YEAR} years than {html.escape(ref['label'])}")
        if changes:
            cause = max(changes, key=lambda c: abs(changes[c]))
            delta = changes[cause]
            if abs(delta) >= 0.005:
                text += (f"; the biggest change is in {GROUP_LABELS[cause]} "
                         f"({abs(100 * delta):.0f} {'more' if delta > 0 else 'fewer'} in 100)")
        out.append(text + ".")
    return out


# ------------------------------------------------------------------------------ rendering
def _png(fig: Figure, dpi: int = 150) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode()


def _table(frame: pd.DataFrame, big: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = ""
    for row in frame.itertuples(index=False):
        cells = "".join(
            f"<td{' class=\"big\"' if c in big else ''}>{html.escape(str(v))}</td>"
            for c, v in zip(frame.columns, row, strict=True))
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def _compared(comparison: Comparison, compared: Mapping[str, str] | None) -> str:
    first = html.escape(comparison.groups[0].label)
    if compared:
        rows = dict(compared)
    else:
        rows = {"What changes": axis_label(comparison.factor),
                "Values": ", ".join(comparison.labels)}
        details = comparison.meta.get("details", {})
        if "Scenario" in details:
            rows["Everything else"] = f"as in the scenario '{details['Scenario']}'"
    cells = "".join(f"<tr><th class='row'>{html.escape(k)}</th><td>{html.escape(str(v))}"
                    "</td></tr>" for k, v in rows.items())
    s = comparison.scenario
    size = (f"{comparison.replications:,} simulated runs of each setting"
            + (f", {s.councils} councils over {s.years} years each" if s is not None else "")
            + f", the same random numbers for every setting (seed {comparison.seed}), so "
            "the differences come from the policy, not from luck.")
    return (f"<table>{cells}</table><p class='sub'>{html.escape(size)} Differences are "
            f"measured against the first ({first}).</p>")


def _drivers_table(table: pd.DataFrame) -> str:
    frame = pd.DataFrame({
        "Setting": table["label"],
        "Riskiest year after spin-out": [
            "none" if y is None or (isinstance(y, float) and math.isnan(y))
            else f"year {int(y)} ({h:.0%} close)"
            for y, h in zip(table["peak_year"], table["peak_hazard"], strict=True)],
        f"Of 100 spun out, by year {CAUSE_YEAR}: closed insolvent / wound down / taken over":
            [" / ".join(_per100(r[c]) for c in ("insolvency", "wind_down", "takeover"))
             + ("" if math.isnan(r["taken_back"]) or r["taken_back"] == 0
                else f" (+{_per100(r['taken_back'])} taken back)")
             for _, r in table.iterrows()],
        "Council's share of their income": [
            "n/a" if math.isnan(s) else f"{s:.0%} in {int(y)}"
            for y, s in zip(table["income_year"], table["income_share"], strict=True)],
    })
    return _table(frame)


def render_handout(comparison: Comparison, *, title: str | None = None,
                   compared: Mapping[str, str] | None = None,
                   created: str | None = None) -> str:
    """The handout as one self-contained HTML page (two printed A4 pages).

    Parameters
    ----------
    comparison : Comparison
        At most :data:`MAX_GROUPS` settings; the first is the reference.
    title : str, optional
        Heading (default: "Do spun-out mutuals survive?" and the factor compared).
    compared : mapping, optional
        Setting label -> what it means in words (default: the factor and its value).
    created : str, optional
        Date line (default: now, UTC).

    Raises
    ------
    InputError
        More settings than two pages can show.
    """
    if len(comparison.groups) > MAX_GROUPS:
        raise InputError(f"a handout shows at most {MAX_GROUPS} settings, got "
                         f"{len(comparison.groups)}; compare fewer values", source="--handout")
    title = title or f"Do spun-out mutuals survive? {axis_label(comparison.factor)}"
    created = created or time.strftime("%d %B %Y, %H:%M UTC", time.gmtime())
    km = fig_km(comparison)
    km.set_size_inches(8.0, 4.6 + 0.3 * len(comparison.groups))
    hazard = fig_hazard(comparison)
    hazard.set_size_inches(8.0, 3.6)
    table = drivers(comparison)
    sentences = "".join(f"<li>{s}</li>" for s in _difference_sentences(table))
    caveats = "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS)
    words = plain_words(comparison)
    n = sum(g.spinouts for g in comparison.groups)
    dotted = ("; dotted lines mark where a protected first contract ends"
              if comparison.factor == "protection_years" else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="{MARK}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head><body>
<section class="sheet" id="page-1">
<h1>{html.escape(title)}</h1>
<p class="sub">mutualsim {html.escape(__version__)} &middot; {html.escape(created)} &middot;
a simulation of public service mutuals spinning out of English councils</p>
<h2>What was compared</h2>
{_compared(comparison, compared)}
<h2>Share still trading</h2>
<img class="curves" alt="Share of spun-out mutuals still trading, by years since spin-out"
 src="data:image/png;base64,{_png(km)}">
<p class="note">Each line: the share of mutuals still trading, by years since they spun out
(shaded: 95% interval). Under it, the number still followed ("at risk") at each year: where
it is small, the line rests on few cases. {n:,} spin-outs in all.</p>
<h2>In plain words</h2>
{_table(words, big=tuple(c for c in words.columns if c != "Setting"))}
</section>
<section class="sheet" id="page-2">
<h2>What drives the difference</h2>
<ul>{sentences or "<li>Only one setting: nothing to compare against.</li>"}</ul>
{_drivers_table(table)}
<img class="hazard" alt="Exit risk by year since spin-out"
 src="data:image/png;base64,{_png(hazard)}">
<p class="note">Exit risk: the share of trading mutuals that close in each year after
spin-out. Peaks fall in the years contracts are re-tendered{dotted}.</p>
<h2>What the model leaves out</h2>
<ul>{caveats}</ul>
<p class="note">Sources: the model's description and limits are in docs/ODD.md and
docs/VALIDATION.md of the mutualsim repository.</p>
</section>
</body></html>
"""


# ------------------------------------------------------------------------------ writing
def is_handout(path: Path) -> bool:
    """True if ``path`` is a file this module wrote (its head carries :data:`MARK`)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return f'<meta name="generator" content="{MARK}">'.encode() in head


def check_handout_path(path: str | Path, force: bool = False,
                       flag: str = "--handout") -> Path:
    """Refuse, before any work and touching nothing, a handout file we may not write.

    Allowed: a new ``.html`` file in a folder that exists (or can be created), or a
    previous handout (replaced). Refused in one line: another existing file (unless
    ``force``), a folder, a symbolic link, a name not ending in ``.html``.
    """
    out = Path(path)
    source = f"{flag} {path}"
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError("must end in .html (the handout is a print-ready web page; print "
                         "it or save it as PDF from a browser)", source=source)
    if out.is_symlink():
        raise InputError("is a symbolic link; give the file itself", source=source)
    if out.exists():
        if out.is_dir():
            raise InputError("is a folder; give a file name, e.g. handout.html",
                             source=source)
        if not is_handout(out) and not force:
            raise InputError("exists and is not a previous mutualsim handout; mutualsim "
                             "replaces only its own handouts: give a new file name",
                             source=source)
    probe = out.parent if str(out.parent) else Path(".")
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {probe}; give a folder you can write to",
                         source=source)
    return out


def write_handout(comparison: Comparison, path: str | Path, *, force: bool = False,
                  **kwargs: object) -> Path:
    """Render and write the handout atomically (a temporary file, then a rename).

    ``path`` is checked with :func:`check_handout_path` first, and again just before the
    rename (another process may have put a file there meanwhile). ``kwargs`` go to
    :func:`render_handout`.
    """
    out = check_handout_path(path, force=force)
    text = render_handout(comparison, **kwargs)  # type: ignore[arg-type]
    created = []
    parent = out.parent
    while str(parent) and not parent.exists():
        created.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        check_handout_path(out, force=force)
        write_bytes_atomic(out, text.encode("utf-8"))
    except BaseException:
        for folder in created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    return out
