"""Invariants every year for every mutual, on full runs of several scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from mutualsim import Scenario, simulate
from mutualsim.state import COMPETING, EXITED, INCUBATING, PROTECTED, TAKEN_BACK

from conftest import run_years

ACTIVE = (INCUBATING, PROTECTED, COMPETING)
SCENARIOS = {
    "baseline": {},
    "no_protection": {"protection_years": 0},
    "teckal": {"incubation_years": 2},
    "austerity": {"austerity_rate": 0.06, "shock_prob": 0.2},
    "lots": {"lots": 3, "mentoring_clauses": True},
}


@pytest.mark.parametrize("changes", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_yearly_invariants(changes):
    sc = Scenario(councils=20, years=15, **changes)
    checked = {"accounts": 0}

    def check(before, after, t):
        # A Teckal company taken back this year closes no accounts (it was not active all
        # year); take-backs happen since councils differ in risk stance.
        was_active = np.isin(before.stage, ACTIVE) & (after.stage != TAKEN_BACK)
        # Reserves change by exactly income minus costs for every mutual active all year.
        delta = after.reserves - before.reserves
        np.testing.assert_allclose(delta[was_active],
                                   (after.income - after.costs)[was_active], rtol=0, atol=1e-12)
        checked["accounts"] += int(was_active.sum())
        # Nothing trades after its exit: exited stays exited, its books are closed.
        gone = before.stage == EXITED
        assert (after.stage[gone] == EXITED).all()
        assert (after.reserves[gone] == before.reserves[gone]).all()
        assert (after.core_volume[gone] == 0).all()
        # Exit years are this year for new exits, unchanged for old ones.
        new_exit = (after.stage == EXITED) & ~gone
        assert (after.exit_year[new_exit] == before.year).all()
        assert (after.exit_cause[after.stage == EXITED] > 0).all()
        assert (after.exit_cause[after.stage != EXITED] == 0).all()
        # A spin-out year never changes once set.
        set_before = before.spinout_year >= 0
        assert (after.spinout_year[set_before] == before.spinout_year[set_before]).all()
        assert (after.capability >= 0).all() and (after.capability <= 1).all()

    run_years(sc, R=6, seed=3, on_step=check)
    assert checked["accounts"] > 100


def test_histories_durations_and_censoring():
    sc = Scenario(councils=20, years=15)
    h = simulate(sc, 8, seed=1).histories
    spun = h[h["spinout_year"].notna()]
    assert len(spun) > 50
    assert (spun["duration_years"] >= 0).all()
    trading = spun["final_stage"].isin(["protected", "competing"])
    assert (spun["censored"] == trading).all()
    assert spun.loc[spun["censored"], "exit_cause"].isna().all()
    assert spun.loc[~spun["censored"], "exit_cause"].notna().all()
    end = sc.end_year
    cens = spun[spun["censored"]]
    assert (cens["duration_years"] == end - cens["spinout_year"] + 1).all()
    ex = spun[~spun["censored"]]
    assert (ex["duration_years"] == ex["exit_year"] - ex["spinout_year"] + 1).all()
    never = h[h["spinout_year"].isna()]
    assert never["duration_years"].isna().all() and (~never["censored"]).all()
    assert set(never["final_stage"]) <= {"proposed", "abandoned", "taken_back", "incubating"}
