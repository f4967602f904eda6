"""The hazard-shape check and exits during protection, on hand-made histories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mutualsim.evidence.validation import (
    exits_during_protection,
    hazard_markdown,
    hazard_shape,
)
from mutualsim.schema import ENUMERATIONS


def histories(rows: list[tuple[int | None, bool, str | None]]) -> pd.DataFrame:
    """(duration, censored, cause) per mutual; duration None = never spun out."""
    cause = pd.Categorical([c for _, _, c in rows], categories=ENUMERATIONS["exit_cause"])
    return pd.DataFrame({
        "replication": 0, "mutual_id": range(len(rows)),
        "spinout_year": [None if d is None else 2011 for d, _, _ in rows],
        "duration_years": pd.array([d for d, _, _ in rows], dtype="Int64"),
        "censored": [c for _, c, _ in rows], "exit_cause": cause,
    })


def test_hazard_is_exits_over_at_risk_by_year():
    # 10 mutuals: 2 exit in year 1, 1 in year 3, 7 trade to year 4 (censored).
    h = histories([(1, False, "insolvency")] * 2 + [(3, False, "wind_down")]
                  + [(4, True, None)] * 7 + [(None, False, None)])   # + a proposal only
    shape = hazard_shape(h, years=5)
    assert shape["time"] == [1, 2, 3, 4, 5]
    assert shape["at_risk"] == [10, 8, 8, 7, 0]
    assert shape["exits"] == [2, 0, 1, 0, 0]
    assert shape["hazard"][:4] == pytest.approx([0.2, 0.0, 0.125, 0.0])
    assert math.isnan(shape["hazard"][4])              # nobody at risk: no hazard
    assert shape["years_at_risk"] == 4
    # median of (0.2, 0, 0.125, 0) is 0.0625; max 0.2 -> ratio 3.2
    assert shape["max_median_ratio"] == pytest.approx(0.2 / 0.0625)
    assert shape["max_year"] == 1


def test_a_comb_has_an_infinite_ratio_and_a_flat_hazard_a_ratio_of_one():
    comb = histories([(4, False, "insolvency")] * 3 + [(9, True, None)] * 7)
    assert hazard_shape(comb, years=9)["max_median_ratio"] == math.inf
    # Flat: one exit a year out of 10, 9, 8, ... at risk gives h(t) = 1/(11 - t):
    # not constant, so build exactly-constant halves instead: 8 -> 4 -> 2 -> 1 at risk.
    flat = histories([(1, False, "takeover")] * 4 + [(2, False, "takeover")] * 2
                     + [(3, False, "takeover")] + [(3, True, None)])
    shape = hazard_shape(flat, years=3)
    assert shape["hazard"] == pytest.approx([0.5, 0.5, 0.5])
    assert shape["max_median_ratio"] == pytest.approx(1.0)
    none = histories([(5, True, None)] * 3)
    assert math.isnan(hazard_shape(none, years=5)["max_median_ratio"])


def test_exits_during_protection_by_cause():
    h = histories([(1, False, "insolvency"), (2, False, "insolvency"),
                   (3, False, "wind_down"), (4, False, "takeover"),   # after protection
                   (6, True, None), (6, True, None), (None, False, None)])
    out = exits_during_protection(h, protection_years=3)
    assert out["spun_out"] == 6 and out["exits"] == 3
    assert out["by_cause"] == {c: {"insolvency": 2, "wind_down": 1}.get(c, 0)
                               for c in ENUMERATIONS["exit_cause"]}
    assert out["share_by_cause"]["insolvency"] == pytest.approx(2 / 3)
    # KM S(3): 6 at risk, exits at 1, 2, 3 -> (5/6)(4/5)(3/4) = 0.5
    assert out["survival"] == pytest.approx(0.5)
    empty = exits_during_protection(histories([(5, True, None)]), 3)
    assert empty["exits"] == 0 and np.isnan(empty["share_by_cause"]["insolvency"])


def test_hazard_markdown_lists_every_year_and_the_ratio():
    h = histories([(1, False, "insolvency")] * 2 + [(3, True, None)] * 8)
    text = hazard_markdown(hazard_shape(h, years=4))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "year" not in line]
    assert len(rows) == 4
    assert rows[0] == "| 1 | 10 | 2 | 0.2000 |" and rows[3] == "| 4 | 0 | 0 | - |"
    assert "max/median = inf" in text


def test_after_tender_loss_counts_losers_and_the_share_still_trading():
    from mutualsim.evidence.validation import after_tender_loss
    h = histories([(4, False, "wind_down"), (9, True, None), (9, True, None),
                   (9, True, None), (None, False, None)])
    h["tenders"] = [1, 1, 2, 0, 0]
    h["tender_wins"] = [0, 0, 2, 0, 0]
    out = after_tender_loss(h)
    assert out["lost_a_tender"] == 2 and out["still_trading_share"] == pytest.approx(0.5)
    h["tender_wins"] = h["tenders"]
    assert np.isnan(after_tender_loss(h)["still_trading_share"])
