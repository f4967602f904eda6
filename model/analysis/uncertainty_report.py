"""Tables and words for a posterior-predictive comparison (``compare --uncertainty posterior``).

The headline table gives, per policy value, S(5/10/15) and RMST as posterior median with a
90% interval across posterior draws, the paired difference to the reference with its 90%
interval and P(better), and the single-parameter Kaplan-Meier interval beside it; a
paragraph says in words why the posterior interval is wider.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from .compare import HORIZONS, ORIGIN_LABELS, TAU, axis_label
from .uncertainty import PosteriorComparison

__all__ = ["display_table", "explanation", "html_section", "markdown"]


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:+.1f} pts"


def _yrs(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def _signed(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.2f}"


def _prob(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def _band(mid: float, lo: float, hi: float, fmt) -> str:
    if math.isnan(lo) and math.isnan(hi):
        return fmt(mid)
    return f"{fmt(mid)} ({fmt(lo)} to {fmt(hi)})"


def display_table(pc: PosteriorComparison) -> pd.DataFrame:
    """The posterior table formatted for people: one string column per measure."""
    table = pc.table()
    level = f"{pc.level:.0%}"
    r = f"rmst{TAU}"
    rows = []
    for i, row in table.iterrows():
        out = {axis_label(pc.factor): row["label"],
               "Survival from": ORIGIN_LABELS[row["origin"]]}
        for t in HORIZONS:
            out[f"S({t}) median ({level})"] = _band(row[f"S{t}"], row[f"S{t}_low"],
                                                   row[f"S{t}_high"], _pct)
        out[f"RMST {TAU} median ({level})"] = _band(row[r], row[f"{r}_low"],
                                                    row[f"{r}_high"], _yrs)
        if i == 0:
            out["ΔS(10) paired"] = out["P(better) S(10)"] = "reference"
            out[f"ΔRMST {TAU} paired"] = out[f"P(better) RMST {TAU}"] = "reference"
        else:
            out["ΔS(10) paired"] = _band(row["dS10"], row["dS10_low"], row["dS10_high"],
                                         _pts)
            out["P(better) S(10)"] = _prob(row["p_better_S10"])
            out[f"ΔRMST {TAU} paired"] = _band(row[f"d{r}"], row[f"d{r}_low"],
                                               row[f"d{r}_high"], _signed)
            out[f"P(better) RMST {TAU}"] = _prob(row[f"p_better_{r}"])
        out["S(10) one parameter set, KM 95% CI"] = _band(
            row["single_S10"], row["single_S10_low"], row["single_S10_high"], _pct)
        rows.append(out)
    return pd.DataFrame(rows)


def explanation(pc: PosteriorComparison) -> str:
    """Why the posterior interval is wider than the single-parameter KM interval, in words
    and with this run's figures (the reference row's S(10))."""
    row = pc.table().iloc[0]
    post = row["S10_high"] - row["S10_low"]
    km = row["single_S10_high"] - row["single_S10_low"]
    missing = int(pc.table()[[f"{m}_missing" for m in ("S5", "S10", "S15", f"rmst{TAU}")]]
                  .to_numpy().sum())
    label = pc.posterior_label or pc.posterior
    text = (
        f"Uncertainty: each policy ran over the same {pc.n_draws} parameter sets drawn from "
        f"the calibrated posterior ({label}) x {pc.replications} replications each, with the "
        "same random numbers for every policy (same draw, same replication streams). "
        f"Median and {pc.level:.0%} interval: quantiles across draws of each draw's "
        "Kaplan-Meier estimate, so they carry both parameter uncertainty (what the "
        "calibration leaves unknown) and stochastic uncertainty (the luck of the simulated "
        "replications). Differences are computed draw by draw against the first row (paired), "
        "and P(better) is the share of draws in which the policy beats the reference. "
        f"For the reference, the S(10) interval is {100 * post:.1f} points wide against "
        f"{100 * km:.1f} points for the single-parameter KM 95% CI (the scenario as given, "
        f"without a posterior draw, {pc.replications} replications): the KM interval only "
        "measures the luck of the replications at one parameter set, and shrinks towards "
        "zero as replications grow, while the posterior interval also carries the "
        "spread of survival across parameter sets the published figures cannot tell apart, "
        "which no number of replications removes. Read the paired differences and "
        "P(better) for the policy "
        "effect: parameter uncertainty shared by both policies cancels in them.")
    unfinished = int(pc.meta.get("unfinished_draw_runs", 0))
    if missing:
        text += (f" {missing} draw estimates were undefined (no spin-out, beyond "
                 "follow-up" + (f", or one of the {unfinished} draw runs whose sweep tasks "
                                "have not finished" if unfinished else "")
                 + ") and are left out of the quantiles, not filled in.")
    return text


def markdown(pc: PosteriorComparison) -> str:
    """The display table as GitHub Markdown, followed by :func:`explanation`."""
    frame = display_table(pc)
    lines = ["| " + " | ".join(frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    lines += ["", explanation(pc)]
    return "\n".join(lines) + "\n"


def html_section(pc: PosteriorComparison) -> str:
    """An HTML block (heading, table, explanation) for report.html."""
    table = display_table(pc).to_html(index=False, escape=True, border=0)
    return (f"<h2>Posterior-predictive summary (headline)</h2>{table}"
            f"<p class='note'>{html.escape(explanation(pc))} The figures and the summary "
            "table below are of the single-parameter run (the scenario as given).</p>")
