"""Markdown tables of a sensitivity result (``tables.md``, pasted into docs/SENSITIVITY.md).

Written by :func:`mutualsim.evidence.sensitivity.run_pipeline` from the same frames it
publishes as CSV, so the documented tables are the command's output, not a hand copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .outcomes import OUTCOME_UNITS

MORRIS_ROWS = 20


def _num(v: float) -> str:
    """Three significant figures; 'n/a' for a missing value (never a number)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.3g}"


def morris_markdown(name: str, table: pd.DataFrame, rows: int = MORRIS_ROWS) -> str:
    """Top ``rows`` factors of one outcome by mu*, with the 95% bootstrap CI and sigma."""
    used = int(table["trajectories"].iloc[0])
    dropped = int(table["dropped_trajectories"].iloc[0])
    noise = float(table["ee_noise"].iloc[0]) if "ee_noise" in table else float("nan")
    lines = [f"**{name}** ({OUTCOME_UNITS.get(name, 'outcome units')} per factor range; "
             f"{used} trajectories used, {dropped} dropped for a missing value; noise level "
             f"of one elementary effect {_num(noise)})", "",
             "| rank | parameter | mu* (+- 95% CI) | sigma |", "|---|---|---|---|"]
    for k, (factor, row) in enumerate(table.head(rows).iterrows(), 1):
        strong = row["mu_star"] > noise if np.isfinite(noise) else False
        mu = f"{_num(row['mu_star'])} +- {_num(row['mu_star_conf'])}"
        lines.append(f"| {k} | `{factor}` | {'**' + mu + '**' if strong else mu} | "
                     f"{_num(row['sigma'])} |")
    return "\n".join(lines)


def sobol_markdown(name: str, table: pd.DataFrame) -> str:
    """S1 and ST with 95% CIs of one outcome, sorted by ST."""
    used = int(table["base_samples"].iloc[0])
    dropped = int(table["dropped_base_samples"].iloc[0])
    lines = [f"**{name}** ({used} base samples used, {dropped} dropped for a missing value)",
             "", "| parameter | S1 (+- 95% CI) | ST (+- 95% CI) |", "|---|---|---|"]
    for factor, row in table.sort_values("ST", ascending=False, kind="stable").iterrows():
        lines.append(f"| `{factor}` | {_num(row['S1'])} +- {_num(row['S1_conf'])} | "
                     f"{_num(row['ST'])} +- {_num(row['ST_conf'])} |")
    return "\n".join(lines)


def missing_markdown(missing: dict[str, Any], outcomes: tuple[str, ...]) -> str:
    """Missing values per outcome and what was dropped for them."""
    lines = ["| outcome | Morris points missing | trajectories dropped | Sobol points missing "
             "| base samples dropped |", "|---|---|---|---|---|"]
    for c in outcomes:
        lines.append(
            f"| {c} | {missing['morris_missing_points'][c]} of {missing['morris_points']} | "
            f"{missing['morris_dropped_trajectories'][c]} of "
            f"{missing['morris_trajectories']} | {missing['sobol_missing_points'][c]} of "
            f"{missing['sobol_points']} | {missing['sobol_dropped_base_samples'][c]} of "
            f"{missing['sobol_base_samples']} |")
    return "\n".join(lines)


def stability_markdown(stability: pd.DataFrame, top: int = 10) -> str:
    """Agreement of mu* rankings: two disjoint sets of r trajectories, for each r."""
    split = stability.dropna(subset=["split_spearman"])
    if split.empty:
        return "(too few trajectories for two disjoint sets)"
    rs = sorted(split["trajectories"].unique())
    lines = ["| outcome | " + " | ".join(f"r = {r}" for r in rs) + " |",
             "|---|" + "---|" * len(rs)]
    for outcome in dict.fromkeys(split["outcome"]):
        cells = {int(row.trajectories): f"{row.split_spearman:.2f} / {row.split_top:.1f}"
                 for row in split[split["outcome"] == outcome].itertuples()}
        lines.append(f"| {outcome} | " + " | ".join(cells.get(int(r), "n/a") for r in rs)
                     + " |")
    return (f"Spearman rank correlation of mu* / share of the top {top} in common, between "
            "two disjoint sets of r trajectories:\n\n" + "\n".join(lines))


def markdown(morris: dict[str, pd.DataFrame], sobol: dict[str, pd.DataFrame],
             stability: pd.DataFrame, missing: dict[str, Any],
             outcomes: tuple[str, ...]) -> str:
    """The whole ``tables.md``."""
    parts = ["## Missing values per outcome (counted, never filled in)", "",
             missing_markdown(missing, outcomes), ""]
    for c in missing["not_analysable"]["morris"]:
        parts += [f"{c}: missing in every Morris trajectory, not analysable.", ""]
    parts += ["## Morris screening: top factors per outcome", ""]
    for name, table in morris.items():
        parts += [morris_markdown(name, table), ""]
    parts += ["## Morris ranking stability", "", stability_markdown(stability), "",
              "## Sobol indices of the ten factors", ""]
    for name, table in sobol.items():
        parts += [sobol_markdown(name, table), ""]
    return "\n".join(parts)
