"""A frozen baseline: key outputs of the baseline at a fixed seed, committed in
``tests/data/frozen_baseline.json``, so any change of results is a deliberate, reviewed
change (STYLE.md point 8, after covasim's ``baseline.json``).

Counts must match exactly, money and shares to 1e-12 relative. After a deliberate change of
the model, regenerate the file and review its diff::

    python3 tests/test_frozen_baseline.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from mutualsim import Scenario, simulate
from mutualsim.state import CAUSE_NAMES

FILE = Path(__file__).with_name("data") / "frozen_baseline.json"
REPLICATIONS, SEED = 50, 0
RTOL = 1e-12


def key_outputs(histories: pd.DataFrame, panel: pd.DataFrame) -> dict:
    """Counts (ints) and totals (floats) that summarise a run."""
    spun = histories[histories["spinout_year"].notna()]
    by_year = panel.groupby("year")
    counts = {
        "proposals": len(histories),
        "strategic_proposals": int((histories["origin"] == "strategic").sum()),
        "spinouts": len(spun),
        "still_trading": int(spun["censored"].sum()),
        "tenders": int(histories["tenders"].sum()),
        "tender_wins": int(histories["tender_wins"].sum()),
        "duration_years": int(spun["duration_years"].sum()),
        "spinout_year": int(spun["spinout_year"].sum()),
    }
    for cause in CAUSE_NAMES[1:]:
        counts[f"exits_{cause}"] = int((histories["exit_cause"] == cause).sum())
    stages = histories["final_stage"].astype(str)  # stages that occur (not empty categories)
    for stage, n in stages.value_counts().sort_index().items():
        counts[f"final_{stage}"] = int(n)
    counts["mutuals_trading_by_year"] = [int(v) for v in by_year["mutuals_trading"].sum()]
    totals = {name: float(histories[name].sum()) for name in
              ("reserves", "capability", "social_value", "baseline_value")}
    totals["parent_income_share"] = float(spun["parent_income_share"].sum())
    for name in ("council_spend", "core_income", "trading_income", "external_income",
                 "grant_income", "step_in_cost", "assets_preserved", "citizen_engagement",
                 "citizen_satisfaction", "mean_budget", "social_value"):
        totals[f"panel_{name}"] = float(panel[name].sum())
    totals["total_reserves_by_year"] = [float(v) for v in by_year["total_reserves"].sum()]
    return {"scenario": "baseline", "replications": REPLICATIONS, "seed": SEED,
            "counts": counts, "totals": totals}


def run() -> dict:
    res = simulate(Scenario(), REPLICATIONS, seed=SEED)
    return key_outputs(res.histories, res.panel)


def test_baseline_key_outputs_are_frozen() -> None:
    frozen = json.loads(FILE.read_text(encoding="utf-8"))
    now = run()
    assert (now["replications"], now["seed"]) == (frozen["replications"], frozen["seed"])
    assert now["counts"] == frozen["counts"]
    assert now["totals"].keys() == frozen["totals"].keys()
    for name, value in frozen["totals"].items():
        np.testing.assert_allclose(now["totals"][name], value, rtol=RTOL, atol=0, err_msg=name)


def test_the_frozen_file_is_sensitive() -> None:
    """Another seed gives other key outputs: the comparison above can fail."""
    frozen = json.loads(FILE.read_text(encoding="utf-8"))
    other = simulate(Scenario(councils=30, years=10), 5, seed=SEED + 1)
    assert key_outputs(other.histories, other.panel)["counts"] != frozen["counts"]


if __name__ == "__main__":
    if "--write" not in sys.argv[1:]:
        sys.exit(__doc__)
    FILE.parent.mkdir(exist_ok=True)
    FILE.write_text(json.dumps(run(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FILE}")
