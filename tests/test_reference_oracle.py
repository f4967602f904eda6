"""The vectorised kernel against the one-object-per-agent reference model (tests/reference).

Both consume the same random numbers, so every replication must give the same histories and
panel: integers, categories and strings exactly, floats to 1e-9 relative (sums over agents
may be added in a different order, so the last bits may differ). Frames are compared as the
Arrow tables of the data contract (``mutualsim.schema``), never by pandas dtype.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mutualsim import Scenario, simulate
from mutualsim.schema import to_table
from mutualsim.simulate import run_block

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the reference lives in tests/, not in the package
    sys.path.insert(0, str(ROOT))

from tests.reference import (  # noqa: E402
    ReferenceMarket,
    histories_frame,
    panel_frame,
    run_models,
    run_reference,
)

RTOL, ATOL = 1e-9, 1e-12
SMALL = Scenario(councils=12, years=20)
SCENARIOS = {
    "baseline": SMALL,
    "no_protection": SMALL.replace(protection_years=0),
    "protection_15": SMALL.replace(protection_years=15),
    "teckal_incubation": SMALL.replace(incubation_years=2),
    "cooperative": SMALL.replace(commissioning_style="cooperative"),
    "austerity_shock": SMALL.replace(austerity_rate=0.06, shock_prob=0.2),
    "lots_3": SMALL.replace(lots=3),
    "mentoring": SMALL.replace(mentoring_clauses=True),
    # Contracts as they are let: wide terms, frequent extensions and break clauses, local
    # SMEs and consortia bidding for lots (every path of run_tenders).
    "contracts": SMALL.replace(lots=3, protection_years_spread=2, contract_years_spread=3,
                               extension_prob=0.6, max_extensions=2, break_threshold=0.6,
                               break_clause_prob=0.3, local_capacity=0.4, lot_overhead=0.05),
    # Hard finances: every shock large, short business support, a slow back office and
    # assets that secure credit, so every exit cause and branch of the accounts is taken.
    "finance_shocks": SMALL.replace(cost_position_sd=0.1, pay_drift_sd=0.03,
                                    pension_shock_prob=0.5, volume_shock_sd=0.15,
                                    recession_trading_cut=0.6, trading_start=0.15,
                                    dowry=0.02, business_support_years=1,
                                    overhead_adjust_years=3, overhead_fixed_share=0.2,
                                    asset_transfer=0.5, mentoring_clauses=True,
                                    mentoring_years=2, lots=2),
    # Councils as a population: many unsupportive councils (Right to Challenge), strong
    # deterrence after failures nearby, a long programme, imposed weights and risk stance.
    "councils": SMALL.replace(unsupportive_council_share=0.5, failure_deterrence=1.0,
                              neighbour_deterrence_share=1.0, failure_deterrence_years=5,
                              programme_end_year=2020, lot_split_share=0.5, lots_split=2,
                              price_weight=0.9, risk_aversion=0.2, austerity_rate_sd=0.03,
                              stranded_years=10),
    # Paths the others rarely take: incubation straight into competition, no asset lock.
    "edge": SMALL.replace(incubation_years=1, protection_years=0, asset_lock=False, lots=2,
                          recession_start=False, takeback_threshold=0.6),
}
RUNS = ((0, (0, 1, 2)), (20240601, (7, 1000)))


def assert_frames_match(ref: pd.DataFrame, kernel: pd.DataFrame, what: str) -> None:
    """Same columns and rows under the code's schema; floats to RTOL/ATOL, the rest exactly.

    Both frames go through :func:`mutualsim.schema.to_table` (which refuses a column of the
    wrong kind), so the comparison holds whichever pandas string dtype is in force.
    """
    kind = "histories" if "mutual_id" in kernel.columns else "panel"
    assert list(ref.columns) == list(kernel.columns), what
    assert len(ref) == len(kernel), f"{what}: {len(ref)} rows vs {len(kernel)}"
    a_table, b_table = to_table(ref, kind), to_table(kernel, kind)
    for field in b_table.schema:
        a, b = a_table.column(field.name), b_table.column(field.name)
        if pa.types.is_floating(field.type):
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=RTOL, atol=ATOL,
                                       equal_nan=True, err_msg=f"{what}.{field.name}")
        else:
            assert a.equals(b), f"{what}.{field.name}: {a.to_pylist()[:20]} vs " \
                                f"{b.to_pylist()[:20]}"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_reference_matches_kernel(name: str) -> None:
    scenario = SCENARIOS[name]
    for seed, replications in RUNS:
        ref_histories, ref_panel = run_reference(scenario, seed, replications)
        kernel = simulate(scenario, replications, seed=seed)
        assert len(kernel.histories) > 0
        assert_frames_match(ref_histories, kernel.histories, f"{name}/{seed} histories")
        assert_frames_match(ref_panel, kernel.panel, f"{name}/{seed} panel")


def test_reference_matches_kernel_with_a_council_file() -> None:
    """A council file's services in the slots (values, cost ratios, candidates, staff
    interest, contract ends) and its one-council style: the same in both."""
    from mutualsim.council import council_from_mapping

    council = council_from_mapping({
        "scenario": {"commissioning_style": "strategic", "support_level": 0.5,
                     "years": 20, "programme_end_year": 2025},
        "service": [
            {"name": "a", "annual_value_gbp": 2e6, "candidate": True, "staff_interest": 3.0},
            {"name": "b", "annual_value_gbp": 5e5, "candidate": True,
             "in_house_cost_ratio": 1.2, "contract_end": 2016},
            {"name": "c", "annual_value_gbp": 9e6, "candidate": False},
            {"name": "d", "annual_value_gbp": 1e6, "candidate": True, "staff_interest": 0.0,
             "in_house_cost_gbp": 9e5},
        ]}, "oracle.toml")
    sc, services = council.scenario, council.services
    for seed, replications in ((0, range(12)), (99, (3, 500))):
        ref_histories, ref_panel = run_reference(sc, seed, replications, services=services)
        kernel = simulate(sc, replications, seed=seed, services=services)
        assert len(kernel.histories) > 0
        assert_frames_match(ref_histories, kernel.histories, f"council/{seed} histories")
        assert_frames_match(ref_panel, kernel.panel, f"council/{seed} panel")


def test_reference_firms_match_kernel() -> None:
    """Private firms' contracts and revenue (not in the outputs) agree too."""
    scenario = SCENARIOS["lots_3"].replace(protection_years=0)
    models = run_models(scenario, 3, range(3))
    state = run_block(scenario, 3, np.arange(3)).state
    contracts = [[f.contracts for f in m.bidders_in_order] for m in models]
    revenue = [[f.revenue for f in m.bidders_in_order] for m in models]
    assert np.asarray(contracts).sum() > 0
    np.testing.assert_array_equal(contracts, state.firm_contracts)
    np.testing.assert_allclose(revenue, state.firm_revenue, rtol=RTOL, atol=ATOL)


def test_reference_contract_losses_match_kernel() -> None:
    """The year each mutual lost its core contract at a tender (kept for the council
    report, not in the outputs) agrees too, with break clauses and split lots."""
    scenario = SCENARIOS["contracts"]
    models = run_models(scenario, 4, range(4))
    state = run_block(scenario, 4, np.arange(4)).state
    lost = np.full(state.contract_lost_year.shape, -1)
    for row, model in enumerate(models):
        for s in model.ever_proposed():
            lost[row, s.index] = s.contract_lost_year
    assert (lost >= 0).sum() >= 5  # enough losses to compare
    np.testing.assert_array_equal(lost, state.contract_lost_year)


def test_agent_order_does_not_matter() -> None:
    """Another shuffle of the agents in every phase gives the same replication."""
    scenario = SCENARIOS["lots_3"]
    first = run_models(scenario, 5, [2])
    other = ReferenceMarket(scenario, seed=5, replication=2)
    other.random.seed(987654321)  # the AgentSets shuffle with this generator
    while other.running:
        other.step()
    in_order = run_models(scenario, 5, [2], shuffle=False)
    for models in ([other], in_order):
        assert_frames_match(histories_frame(models), histories_frame(first), "histories")
        assert_frames_match(panel_frame(models), panel_frame(first), "panel")


def test_reference_runs_under_batch_run() -> None:
    """``mesa.batch_run`` drives the reference model; its last row equals the panel's."""
    import mesa

    scenario = SMALL.replace(years=5)
    rows = mesa.batch_run(ReferenceMarket, parameters={
        "scenario": scenario, "replication": [0, 1], "protection_years": [0, 3]},
        rng=[4], max_steps=scenario.years, display_progress=False)
    assert len(rows) == 4
    for row in rows:
        kernel = simulate(scenario.replace(protection_years=row["protection_years"]),
                          [row["replication"]], seed=4).panel.iloc[-1]
        assert row["year"] == scenario.end_year
        for name in ("mutuals_trading", "council_spend", "total_reserves"):
            assert row[name] == pytest.approx(kernel[name], rel=RTOL, abs=ATOL)


def test_reference_shuffles_with_its_own_generator() -> None:
    """Mesa's generator only orders agents; it must not be the replication's stream."""
    model = ReferenceMarket(SMALL, seed=0, replication=0)
    assert isinstance(model.random, random.Random)
    assert model._gen is not model.rng
