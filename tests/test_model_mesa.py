"""The Mesa face of the model: agents as views, DataCollector, and Mesa 3.5's contract.

What a Mesa user tries (``rng=`` of every kind Mesa accepts, the deprecated ``seed=``, Mesa's
``scenario=``, ``agents_by_type``, step-0 data) does what ``mesa.Model`` does or fails with one
clear line.
"""

from __future__ import annotations

import warnings

import mesa
import numpy as np
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

try:  # Mesa 3.5.1 moved the class to mesa.agentset; 3.5.0 (our floor) has it in mesa.agent
    from mesa.agentset import AbstractAgentSet
except ImportError:  # pragma: no cover - depends on the Mesa version
    from mesa.agent import AbstractAgentSet

from mutualsim import (
    Citizen,
    Council,
    MarketScenario,
    Mutual,
    MutualMarket,
    PrivateBidder,
    Scenario,
)
from mutualsim.errors import InputError
from mutualsim.state import STAGE_NAMES

SC = Scenario(councils=6, years=10)
SMALL = Scenario(councils=3, years=4)
LIVE = ("proposed", "incubating", "protected", "competing")
ENDED = ("exited", "abandoned", "taken_back")
INT64_MAX = int(np.iinfo(np.int64).max)


def _trajectory(model: MutualMarket) -> dict[str, np.ndarray]:
    model.run_for(model.params.years)
    return {k: v.copy() for k, v in model.recorder.data.items()}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_agents_are_views_onto_the_kernel_state():
    model = MutualMarket(SC, rng=2)
    assert len(model.agents_by_type[Council]) == 6
    assert len(model.agents_by_type[PrivateBidder]) == SC.private_bidders
    assert len(model.agents_by_type[Citizen]) == 6 * SC.citizens_per_council
    model.run_for(6)
    assert model.year == SC.start_year + 6
    mutuals = model.agents_by_type[Mutual]
    assert len(mutuals) > 0
    m = mutuals[0]
    model.state.reserves[0, m.index] = 123.0     # a change of state is seen by the agent
    assert m.reserves == 123.0
    assert m.stage in LIVE
    council = model.agents_by_type[Council][m.council_id]
    assert m in council.mutuals


def test_ended_mutuals_leave_the_agent_sets():
    model = MutualMarket(SC, rng=2)
    model.run_for(SC.years)
    stage = model.state.stage[0]
    live_slots = {m for m in range(len(stage)) if STAGE_NAMES[stage[m]] in LIVE}
    ended_slots = {m for m in range(len(stage)) if STAGE_NAMES[stage[m]] in ENDED}
    assert ended_slots, "this seed must give some exits or abandonments"
    assert {m.index for m in model.agents_by_type[Mutual]} == live_slots
    assert {m.index for m in model.former_mutuals} == ended_slots
    assert all(m.stage in ENDED for m in model.former_mutuals)
    assert not set(model.former_mutuals) & set(model.agents)
    others = 6 + SC.private_bidders + 6 * SC.citizens_per_council
    assert len(model.agents) == others + len(live_slots)
    # The per-type frame of the last step has one row per live mutual, as in Mesa.
    frame = model.datacollector.get_agenttype_vars_dataframe(Mutual)
    last = frame.xs(float(SC.years), level="Step")
    assert len(last) == len(live_slots) and set(last["stage"]) <= set(LIVE)


def test_agents_by_type_of_a_type_with_no_agents_is_empty():
    model = MutualMarket(SMALL, rng=1)
    assert len(model.agents_by_type[Mutual]) == 0          # Mesa 3.5 would raise KeyError
    assert isinstance(model.agents_by_type[Mutual], AbstractAgentSet)
    assert list(model.agents_by_type[Mutual].select(lambda a: a.trading)) == []
    assert model.agents_by_type[Council][0].mutuals == []
    frame = model.datacollector.get_agenttype_vars_dataframe(Mutual)
    assert len(frame) == 0 and frame.empty                  # Mesa 3.5 gives 2 NaN rows
    assert list(frame.columns) == ["stage", "reserves", "capability", "parent_income_share"]
    assert list(frame.index.names) == ["Step", "AgentID"]


def test_step_zero_is_collected_at_construction():
    model = MutualMarket(SC, rng=3)
    satisfaction = float(model.state.satisfaction.mean())
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == 1
    row = df.iloc[0]
    assert row["year"] == SC.start_year - 1
    assert row["seed"] == 3 and row["replication"] == 0
    assert row["mutuals_trading"] == 0 and row["spinouts"] == 0 and row["council_spend"] == 0
    assert row["citizen_satisfaction"] == pytest.approx(satisfaction, rel=1e-12)
    assert np.isnan(row["mean_parent_income_share"])        # no mutual trades yet


def test_runs_to_the_horizon_and_stops():
    model = MutualMarket(SC, rng=1)
    model.run_for(SC.years + 3)
    assert model.year_index == SC.years and not model.running
    df = model.datacollector.get_model_vars_dataframe()
    assert len(df) == SC.years + 1
    assert df["year"].tolist() == list(range(SC.start_year - 1, SC.end_year + 1))


def test_keyword_overrides_and_bad_names():
    model = MutualMarket(protection_years=7, councils=4, years=5, rng=3)
    assert model.params.protection_years == 7 and model.seed == 3
    with pytest.raises(InputError, match="protection_yrs"):
        MutualMarket(protection_yrs=7)
    with pytest.raises(InputError, match="params"):
        MutualMarket(MarketScenario(rng=1))


# --- rng: what mesa.Model accepts ---------------------------------------------------------

ACCEPTED = {
    "int": lambda: 5,
    "numpy int": lambda: np.int64(5),
    "Generator": lambda: np.random.default_rng(7),
    "BitGenerator": lambda: np.random.PCG64(7),
    "SeedSequence": lambda: np.random.SeedSequence(5),
    "spawned SeedSequence": lambda: np.random.SeedSequence(5).spawn(4)[3],
    "list SeedSequence": lambda: np.random.SeedSequence([1, 2]),
    "sequence of ints": lambda: [1, 2],
    "None": lambda: None,
}


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_accepts_every_rng_mesa_accepts_and_records_a_reproducible_seed(kind):
    if kind != "numpy int":  # Mesa 3.5 fails on it (random.Random(np.int64)); we take it
        mesa.Model(rng=ACCEPTED[kind]())                     # Mesa accepts it too
    model = MutualMarket(SMALL, rng=ACCEPTED[kind]())
    assert isinstance(model.seed, int) and 0 <= model.seed
    again = MutualMarket(SMALL, rng=model.seed, replication=model.replication)
    assert _same(_trajectory(model), _trajectory(again))
    assert model.scenario.rng == model.seed and model.rng is not None


def test_int_and_seed_sequences_map_onto_our_streams():
    assert MutualMarket(SMALL, rng=np.random.SeedSequence(5)).seed == 5
    spawned = MutualMarket(SMALL, rng=np.random.SeedSequence(5).spawn(4)[3])
    assert (spawned.seed, spawned.replication) == (5, 3)
    assert _same(_trajectory(spawned), _trajectory(MutualMarket(SMALL, rng=5, replication=3)))
    with pytest.raises(InputError, match="replication"):
        MutualMarket(SMALL, rng=np.random.SeedSequence(5, spawn_key=(3,)), replication=2)


def test_generators_give_one_drawn_seed():
    expected = int(np.random.default_rng(7).integers(INT64_MAX))
    assert MutualMarket(SMALL, rng=np.random.default_rng(7)).seed == expected
    assert MutualMarket(SMALL, rng=np.random.PCG64(7)).seed == expected
    a = MutualMarket(SMALL, rng=[1, 2])
    b = MutualMarket(SMALL, rng=[1, 2])
    assert a.seed == b.seed == int(np.random.default_rng([1, 2]).integers(INT64_MAX))


def test_none_draws_entropy_and_records_it():
    a, b = MutualMarket(SMALL), MutualMarket(SMALL)
    assert a.seed != b.seed
    assert a.datacollector.get_model_vars_dataframe()["seed"].iloc[0] == a.seed


@pytest.mark.parametrize("bad", ["abc", 1.5, -1, [1, -2], {"a": 1}, Scenario()])
def test_bad_rng_is_one_line_naming_rng(bad):
    with pytest.raises(InputError, match="^rng: must be an int") as err:
        MutualMarket(SMALL, rng=bad)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad", [-1, 1.5, "2"])
def test_bad_replication(bad):
    with pytest.raises(InputError, match="^replication: "):
        MutualMarket(SMALL, rng=1, replication=bad)


# --- seed=: Mesa's deprecation path ------------------------------------------------------

def _warning_of(make) -> warnings.WarningMessage:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    assert len(caught) == 1, [str(w.message) for w in caught]
    return caught[0]


def test_seed_is_deprecated_as_in_mesa():
    ours = _warning_of(lambda: MutualMarket(SMALL, seed=3))
    theirs = _warning_of(lambda: mesa.Model(seed=3))
    assert ours.category is theirs.category is FutureWarning
    assert str(ours.message) == str(theirs.message)
    assert ours.filename == __file__                       # points at the caller
    with pytest.warns(FutureWarning):
        model = MutualMarket(SMALL, seed=3)
    assert model.seed == 3
    assert _same(_trajectory(model), _trajectory(MutualMarket(SMALL, rng=3)))


def test_seed_and_rng_together_is_an_error_as_in_mesa():
    with pytest.raises(ValueError):
        mesa.Model(seed=1, rng=2)
    with pytest.raises(ValueError, match="either rng or seed"):
        MutualMarket(SMALL, seed=1, rng=2)


# --- scenario=: Mesa's Scenario ----------------------------------------------------------

def test_mesa_scenario_gives_parameters_and_rng():
    mesa_sc = MarketScenario(rng=4, protection_years=7, councils=3, years=4)
    model = MutualMarket(scenario=mesa_sc)
    assert model.params == SMALL.replace(protection_years=7)
    assert model.seed == 4 and model.scenario is mesa_sc and mesa_sc.model is model
    assert _same(_trajectory(model),
                 _trajectory(MutualMarket(SMALL.replace(protection_years=7), rng=4)))
    plain = MutualMarket(scenario=MesaScenario(rng=4, protection_years=7, councils=3,
                                               years=4))
    assert plain.params == model.params and plain.seed == 4
    # the same rng twice is allowed, as in Mesa
    assert MutualMarket(scenario=MarketScenario(rng=4, years=2), rng=4).seed == 4


def test_default_scenario_is_a_market_scenario_of_the_parameters():
    model = MutualMarket(SMALL.replace(lots=2), rng=9)
    assert isinstance(model.scenario, MarketScenario)
    assert model.scenario.lots == 2 and model.scenario.councils == 3
    assert model.scenario.rng == 9


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(scenario=MesaScenario(rng=1, protection_yrs=7)), "protection_yrs"),
    (dict(scenario=MarketScenario(rng=1, protection_years=-1)), "protection_years"),
    (dict(scenario=SMALL), "params="),
    (dict(scenario={"councils": 3}), "mesa.experimental.scenarios.Scenario"),
    (dict(params=SMALL, scenario=MarketScenario(rng=1)), "not both"),
    (dict(scenario=MarketScenario(rng=1), councils=3), "not both"),
    (dict(scenario=MarketScenario(rng=1), rng=2), "scenario.rng"),
    (dict(scenario=MarketScenario(rng=1), seed=2), "either rng or seed"),
])
def test_mesa_scenario_is_never_silently_ignored(kwargs, match):
    with pytest.raises(InputError, match=match) as err:
        MutualMarket(**kwargs)
    assert "\n" not in str(err.value)


def test_mesa_refuses_a_different_rng_in_the_scenario_too():
    with pytest.raises(ValueError):
        mesa.Model(scenario=MesaScenario(rng=1), rng=2)
