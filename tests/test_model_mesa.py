"""The Mesa face of the model: agents as views, DataCollector, run_for, batch_run."""

from __future__ import annotations

import mesa
import pytest

from mutualsim import Citizen, Council, Mutual, MutualMarket, PrivateBidder, Scenario
from mutualsim.errors import InputError

SC = Scenario(councils=6, years=10)


def test_agents_are_views_onto_the_kernel_state():
    model = MutualMarket(scenario=SC, seed=2)
    assert len(model.agents_by_type[Council]) == 6
    assert len(model.agents_by_type[PrivateBidder]) == SC.private_bidders
    assert len(model.agents_by_type[Citizen]) == 6 * SC.citizens_per_council
    model.run_for(6)
    assert model.year == SC.start_year + 6
    mutuals = model.agents_by_type[Mutual]
    assert len(mutuals) == int((model.state.proposal_year[0] >= 0).sum()) > 0
    m = mutuals[0]
    model.state.reserves[0, m.index] = 123.0     # a change of state is seen by the agent
    assert m.reserves == 123.0
    assert m.stage in ("proposed", "incubating", "protected", "competing", "exited",
                       "abandoned", "taken_back")
    council = model.agents_by_type[Council][m.council_id]
    assert m in council.mutuals


def test_runs_to_the_horizon_and_stops():
    model = MutualMarket(scenario=SC, seed=1)
    model.run_for(SC.years + 3)
    assert model.year_index == SC.years and not model.running
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == SC.years and df["year"].iloc[-1] == SC.end_year


def test_keyword_overrides_and_bad_names():
    model = MutualMarket(protection_years=7, councils=4, years=5, rng=3)
    assert model.params.protection_years == 7 and model.seed == 3
    with pytest.raises(InputError, match="protection_yrs"):
        MutualMarket(protection_yrs=7)


def test_mesa_batch_run_over_two_values_and_two_seeds():
    results = mesa.batch_run(MutualMarket,
                             parameters={"protection_years": [3, 7], "councils": 8, "years": 8},
                             rng=[1, 2], max_steps=8, display_progress=False,
                             data_collection_period=-1)
    runs = {(r["protection_years"], r["seed"]) for r in results}
    assert runs == {(3, 1), (3, 2), (7, 1), (7, 2)}
    assert all("mutuals_trading" in r and "council_spend" in r for r in results)
