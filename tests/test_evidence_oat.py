"""One-at-a-time sensitivity: the plan's values, the table's rows and flags, the command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.evidence.oat import (
    Change,
    OatSettings,
    oat_markdown,
    oat_plan,
    oat_points,
    oat_table,
    run_oat,
)
from mutualsim.evidence.outcomes import run_model
from mutualsim.params import Scenario


def by_side(changes):
    return {(c.name, c.side): c for c in changes}


def test_plan_moves_every_numeric_parameter_ten_percent_within_its_range():
    base = Scenario()
    changes, skipped = oat_plan(base)
    fields = Scenario.__dataclass_fields__
    for c in changes:
        default, meta = getattr(base, c.name), fields[c.name].metadata
        assert c.value != default
        if c.side == "flip":
            assert isinstance(default, bool) and c.value is (not default)
            continue
        assert meta["lo"] is None or c.value >= meta["lo"]
        assert meta["hi"] is None or c.value <= meta["hi"]
        if isinstance(default, int):
            assert isinstance(c.value, int)
        elif default != 0 and "clipped" not in c.how:
            assert c.value == pytest.approx(default * (0.9 if c.side == "low" else 1.1))
    varied = {c.name for c in changes}
    # Every field is either varied or skipped with a reason, never silently left out.
    assert varied | set(skipped) == set(fields)
    assert "choice parameter" in skipped["commissioning_style"]
    assert "unset override" in skipped["price_weight"]
    assert set(skipped) >= {"start_year", "years", "councils"}


def test_whole_numbers_round_half_up_and_move_at_least_one_step():
    base = Scenario().replace(protection_years=3, contract_years=5, lots=1,
                              incubation_years=0)
    plan = by_side(oat_plan(base)[0])
    # 3 x 0.9 = 2.7 and 3 x 1.1 = 3.3 both round back to 3: one step each way.
    assert plan["protection_years", "low"].value == 2
    assert plan["protection_years", "high"].value == 4
    assert "one step" in plan["protection_years", "high"].how
    # 5 x 0.9 = 4.5 -> 5 (half up) = default -> one step to 4; 5 x 1.1 = 5.5 -> 6.
    assert plan["contract_years", "low"].value == 4
    assert plan["contract_years", "high"].value == 6
    assert "rounded" in plan["contract_years", "high"].how
    # At the lower bound (lots >= 1): no low run; zero default moves up by one step.
    assert ("lots", "low") not in plan and plan["lots", "high"].value == 2
    assert ("incubation_years", "low") not in plan
    assert plan["incubation_years", "high"].value == 1


def test_reals_clip_to_the_range_and_switches_flip():
    base = Scenario().replace(support_level=0.95, mentoring_clauses=False)
    plan = by_side(oat_plan(base)[0])
    assert plan["support_level", "high"].value == 1.0
    assert "clipped to the maximum" in plan["support_level", "high"].how
    assert plan["support_level", "low"].value == pytest.approx(0.855)
    assert plan["mentoring_clauses", "flip"].value is True
    at_top = by_side(oat_plan(Scenario().replace(support_level=1.0))[0])
    assert ("support_level", "high") not in at_top      # nothing to run at the bound
    with pytest.raises(InputError, match="not a scenario parameter"):
        oat_plan(base, only=("no_such_thing",))


def test_points_hold_the_baseline_then_one_change_each():
    base = Scenario()
    changes = [Change("lots", "high", 2, "x"), Change("efficiency_max", "low", 0.18, "x")]
    points = oat_points(base, changes)
    assert points[0] == {"lots": base.lots, "efficiency_max": base.efficiency_max}
    assert points[1] == {"lots": 2, "efficiency_max": base.efficiency_max}
    assert points[2] == {"lots": base.lots, "efficiency_max": 0.18}


def test_table_rows_changes_in_points_flags_and_order():
    base = Scenario()
    changes = [Change("efficiency_max", "low", 0.18, "x0.9"),
               Change("efficiency_max", "high", 0.22, "x1.1"),
               Change("lots", "high", 2, "one step"),
               Change("mentoring_clauses", "flip", True, "switch flipped"),
               Change("learning_rate", "low", 0.06, "x0.9"),
               Change("learning_rate", "high", 0.08, "x1.1")]
    values = [0.60, 0.55, 0.62, 0.75, 0.601, np.nan, np.nan]
    table, baseline = oat_table(base, changes, values, flag_points=10)
    assert baseline == 0.60
    assert list(table["parameter"]) == ["lots", "efficiency_max", "mentoring_clauses",
                                        "learning_rate"]
    row = table.set_index("parameter")
    assert row.loc["efficiency_max", "change_low_points"] == pytest.approx(-5.0)
    assert row.loc["efficiency_max", "change_high_points"] == pytest.approx(2.0)
    assert row.loc["efficiency_max", "effect_points"] == pytest.approx(5.0)
    assert row.loc["lots", "effect_points"] == pytest.approx(15.0)
    assert row.loc["lots", "low"] is None and math.isnan(row.loc["lots", "S_low"])
    assert row.loc["mentoring_clauses", "low"] is True     # a flip sits in the low column
    assert list(table["flag"]) == [True, False, False, False]
    assert math.isnan(row.loc["learning_rate", "effect_points"])   # missing, not filled
    md = oat_markdown(table, baseline, {"councils": "run set-up"}, OatSettings({}))
    assert "| 1 | **`lots`** | 1 | - | 2 | - | 0.75 | n/a | +15.0 | **> 10** |" in md
    assert "Flagged (1): `lots`." in md
    assert "No S10 (missing, not filled in): `learning_rate`." in md
    assert "* `councils`: run set-up" in md
    with pytest.raises(ValueError):
        oat_table(base, changes, values[:-1])


TINY = OatSettings({"councils": 8, "years": 14}, replications=3, seed=3,
                   parameters=("protection_years", "efficiency_max", "mentoring_clauses"))


def test_run_oat_at_toy_size_uses_common_random_numbers_and_resumes(tmp_path):
    out = tmp_path / "oat"
    result = run_oat(out, TINY, workers=1)
    table = result["table"]
    assert sorted(table["parameter"]) == ["efficiency_max", "mentoring_clauses",
                                          "protection_years"]
    # The baseline is the model itself at the same seed and replications.
    expected = run_model(seed=3, replications=3, councils=8, years=14)["S10"]
    assert result["baseline"] == pytest.approx(expected)
    row = table.set_index("parameter").loc["protection_years"]
    assert row["S_high"] == pytest.approx(run_model(
        seed=3, replications=3, councils=8, years=14, protection_years=4)["S10"])
    files = {p.name for p in out.iterdir()}
    assert {"oat_S10.csv", "oat_S10.md", "oat.json", "manifest.json"} <= files
    info = json.loads((out / "oat.json").read_text())
    assert info["points"] == 1 + 2 + 2 + 1
    again = run_oat(out, TINY, workers=1)      # a re-run only redoes the table
    assert again["markdown"] == result["markdown"]


def test_oat_command_and_its_bad_input(tmp_path, capsys):
    assert main(["sensitivity", "--replications", "3", "--out", str(tmp_path / "x")]) == 2
    assert "--replications applies only with --oat" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep")
    assert main(["sensitivity", "--oat", "--quick", "--out", str(stranger), "--quiet"]) == 2
    assert (stranger / "notes.txt").read_text() == "keep"
