"""One definition of S(t) and one histories -> counts adapter, used by every report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mutualsim.params import Scenario
from mutualsim.simulate import Results, simulate
from mutualsim.state import CAUSE_NAMES
from mutualsim.survival import (
    SurvivalCounts,
    kaplan_meier,
    survival_at,
    survival_difference,
    survival_estimates_at,
)

TIMES = (5, 10, 15)


def histories(durations, censored, causes=None, start_year=2010) -> pd.DataFrame:
    """A hand-built histories table: one spun-out mutual per duration, plus one proposal
    that never spun out (which every report must leave out)."""
    n = len(durations)
    causes = causes if causes is not None else [
        None if c else "insolvency" for c in censored]
    return pd.DataFrame({
        "replication": np.zeros(n + 1, dtype=np.int64),
        "mutual_id": np.arange(n + 1, dtype=np.int64),
        "council_id": np.arange(n + 1, dtype=np.int64),
        "origin": pd.Categorical(["reactive"] * (n + 1), ["reactive", "strategic"]),
        "proposal_year": np.full(n + 1, start_year, dtype=np.int64),
        "spinout_year": pd.array([start_year + 1] * n + [None], dtype="Int64"),
        "exit_cause": pd.array([*causes, None], dtype="string"),
        "censored": np.array([*censored, False]),
        "duration_years": pd.array([*durations, None], dtype="Int64"),
    })


def nan_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


# ------------------------------------------------------------------- the definition
def test_all_exits_give_zero_beyond_the_last_duration():
    counts = SurvivalCounts.from_durations([1, 2, 2, 3], [1, 1, 1, 1])
    assert survival_at(counts, (0, 1, 2, 3, 5, 10, 15)) == {
        0: 1.0, 1: 0.75, 2: 0.25, 3: 0.0, 5: 0.0, 10: 0.0, 15: 0.0}


def test_unknown_once_follow_up_ends_with_mutuals_still_at_risk():
    counts = SurvivalCounts.from_durations([1, 2, 2, 3], [1, 1, 0, 0])
    s = survival_at(counts, (2, 3, 4, 15))
    # a mutual censored at 3 is known to have traded 3 years: S(3) is known, S(4) is not
    assert s[2] == pytest.approx(0.75 * 2 / 3) and s[3] == s[2]
    assert math.isnan(s[4]) and math.isnan(s[15])


def test_padding_the_counts_changes_nothing():
    for events in ([1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]):
        bare = SurvivalCounts.from_durations([1, 2, 2, 3], events)
        padded = SurvivalCounts.from_durations([1, 2, 2, 3], events, max_time=15)
        assert nan_equal(survival_at(bare, range(17)), survival_at(padded, range(17)))


def test_matches_kaplan_meier_wherever_followed():
    rng = np.random.default_rng(11)
    d, e = rng.integers(0, 12, 400), rng.integers(0, 2, 400)
    counts = SurvivalCounts.from_durations(d, e)
    km = kaplan_meier(counts=counts)
    s = survival_at(counts, km["time"])
    assert [s[t] for t in km["time"]] == km["survival"].tolist()
    est = survival_estimates_at(counts, km["time"])
    np.testing.assert_array_equal([est[t].ci_low for t in km["time"]], km["ci_low"])
    np.testing.assert_array_equal([est[t].ci_high for t in km["time"]], km["ci_high"])
    assert [est[t].estimate for t in km["time"]] == km["survival"].tolist()


def test_estimates_follow_the_same_rule():
    counts = SurvivalCounts.from_durations([1, 2, 2, 3], [1, 1, 0, 0], max_time=15)
    est = survival_estimates_at(counts, (3, 4))
    assert est[3].estimate == survival_at(counts, [3])[3]
    assert all(math.isnan(v) for v in (est[4].estimate, est[4].ci_low, est[4].ci_high))
    gone = survival_estimates_at(SurvivalCounts.from_durations([1, 2]), [10])[10]
    assert gone.estimate == 0.0 and gone.se == 0.0


def test_no_histories_and_bad_times():
    empty = SurvivalCounts(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert all(math.isnan(v) for v in survival_at(empty, TIMES).values())
    assert math.isnan(survival_estimates_at(empty, [5])[5].estimate)
    counts = SurvivalCounts.from_durations([1, 2])
    with pytest.raises(ValueError, match="times must be >= 0"):
        survival_at(counts, [-1])
    with pytest.raises(ValueError, match="whole numbers"):
        survival_at(counts, [2.5])


def test_effect_sizes_use_the_same_rule():
    followed = SurvivalCounts.from_durations([1, 2, 2, 3], [1, 1, 0, 0], max_time=15)
    gone = SurvivalCounts.from_durations([1, 2, 2, 3], max_time=15)
    assert survival_difference(gone, followed, 3).estimate == pytest.approx(-0.5)
    assert survival_difference(gone, gone, 15).estimate == 0.0
    with pytest.raises(ValueError, match="beyond follow-up"):
        survival_difference(gone, followed, 4)


# ---------------------------------------------------------------------- the adapter
def test_from_histories_leaves_out_proposals_and_reads_causes():
    h = histories([1, 2, 2, 3, 3], [False, False, True, False, True],
                  ["takeover", "insolvency", None, "wind_down", None])
    counts = SurvivalCounts.from_histories(h, max_time=5)
    # one row of events per cause the model knows (state.CAUSE_NAMES), used or not
    expected = SurvivalCounts.from_durations([1, 2, 2, 3, 3], causes=[3, 1, 0, 2, 0],
                                             max_time=5, n_causes=len(CAUSE_NAMES) - 1)
    assert counts == expected
    no_causes = SurvivalCounts.from_histories(h.drop(columns="exit_cause"))
    assert no_causes.events_by_cause is None
    assert np.array_equal(no_causes.events, expected.events[:4])
    # a categorical (dictionary) exit_cause, as Parquet may bring back, reads the same
    cat = h.assign(exit_cause=pd.Categorical(h["exit_cause"].astype(object)))
    assert SurvivalCounts.from_histories(cat, max_time=5) == expected


def test_from_histories_rejects_what_it_cannot_read():
    h = histories([1, 2], [False, True])
    with pytest.raises(ValueError, match="censored"):
        SurvivalCounts.from_histories(h.drop(columns="censored"))
    with pytest.raises(ValueError, match="'bankrupt' for an exit"):
        SurvivalCounts.from_histories(h.assign(exit_cause=["bankrupt", None, None]))
    with pytest.raises(ValueError, match="exit_cause"):
        SurvivalCounts.from_histories(h.assign(exit_cause=[None, None, None]))


# ------------------------------------------------- every report: issue 10 reproducers
def hand_results(durations, censored, years=15) -> Results:
    scenario = Scenario(councils=8, years=years)
    template = simulate(Scenario(councils=2, years=years), 1, seed=0)
    return Results(scenario=scenario, seed=0, histories=histories(durations, censored),
                   panel=template.panel)


def test_all_exits_are_zero_in_results_sweep_summary_and_run_model(tmp_path, monkeypatch):
    from mutualsim.evidence.outcomes import outcomes_from
    from mutualsim.sweep.results import Sweep

    res = hand_results([1, 2, 2, 3], [False] * 4)
    assert res.survival_at(TIMES) == {5: 0.0, 10: 0.0, 15: 0.0}
    assert "5 / 10 / 15 years: 0.0% / 0.0% / 0.0%" in res.summary()
    out = outcomes_from(res.histories, res.panel, res.scenario)
    assert (out["S5"], out["S10"], out["S15"]) == (0.0, 0.0, 0.0)

    sweep = object.__new__(Sweep)  # the summary's own arithmetic, on hand-made counts
    monkeypatch.setattr(Sweep, "scenarios", pd.DataFrame({"scenario_id": ["a"]}))
    monkeypatch.setattr(Sweep, "factors", ())
    monkeypatch.setattr(Sweep, "_tasks", [])
    monkeypatch.setattr(Sweep, "_done", [])
    monkeypatch.setattr(Sweep, "counts", lambda self, sid: res.counts())
    row = sweep.summary().iloc[0]
    assert (row["S(5)"], row["S(10)"], row["S(15)"]) == (0.0, 0.0, 0.0)


def test_censored_mutuals_make_s15_unknown_everywhere():
    from mutualsim.evidence.outcomes import outcomes_from

    res = hand_results([1, 2, 2, 14], [False, False, False, True])
    s = res.survival_at(TIMES)
    assert s[5] == s[10] == 0.25 and math.isnan(s[15])
    assert "25.0% / 25.0% / n/a" in res.summary()
    out = outcomes_from(res.histories, res.panel, res.scenario)
    assert out["S10"] == 0.25 and math.isnan(out["S15"])


@pytest.fixture(scope="module")
def fifteen_years():
    """The issue's reproducer: years = 15, councils = 20, 40 replications, seed 0."""
    return Scenario(years=15, councils=20)


def test_run_compare_and_page_agree_on_a_15_year_scenario(fifteen_years):
    from mutualsim.analysis.compare import compare
    from mutualsim.app.results import format_estimate

    sc = fifteen_years
    res = simulate(sc, 40, seed=0)
    # The earliest spin-out is in the second year (a proposal takes a year), so no mutual
    # can have been followed for 15 years: S(15) is unknown, not S(14) carried forward.
    assert res.spun_out["duration_years"].max() == 14
    run_s = res.survival_at(TIMES)
    assert math.isnan(run_s[15]) and 0 < run_s[10] < run_s[5] < 1
    assert res.summary().splitlines()[1].endswith(" / n/a")

    c = compare(sc, "protection", (sc.protection_years,), replications=40, seed=0)
    row = c.table().iloc[0]
    assert row["S5"] == run_s[5] and row["S10"] == run_s[10]
    assert math.isnan(row["S15"]) and math.isnan(row["S15_low"])
    from mutualsim.analysis.report import display_table
    shown = display_table(c).iloc[0]
    assert shown["S(15)"] == "n/a"  # what `mutualsim compare` prints, as `run` does
    assert shown["S(10)"].startswith(f"{100 * run_s[10]:.1f}%")
    page = c.groups[0].survival_at(15)  # the page reads the same Group method
    assert format_estimate(page) == "n/a"
    assert c.groups[0].survival_at(10).estimate == run_s[10]
