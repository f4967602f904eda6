"""Mesa's own batch runner over MutualMarket: our DataCollector columns, our random streams.

Every row records the seed and replication it ran; a seed given in ``parameters`` is used (or
the call fails), never replaced by OS entropy; the same call gives the same rows.
"""

from __future__ import annotations

import warnings

import mesa
import pandas as pd
import pytest

from mutualsim import MutualMarket, Scenario, simulate

BASE = {"councils": 10, "years": 8}


def _batch(**kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        # iterations= (Mesa) and seed= (Mesa and us) are deprecated; still supported.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        rows = mesa.batch_run(MutualMarket, max_steps=8, display_progress=False, **kwargs)
    return pd.DataFrame(rows)


def _assert_runs_match_simulate(runs: pd.DataFrame, **fixed) -> None:
    """Each run's last row equals replication ``replication`` of ``seed`` in ``simulate``."""
    for _, run in runs.iterrows():
        values = {k: run[k] for k in fixed}
        sc = Scenario(**BASE, **{k: int(v) for k, v in values.items()})
        last = simulate(sc, replications=[int(run["replication"])],
                        seed=int(run["seed"])).panel.iloc[-1]
        for column in ("mutuals_trading", "spinouts", "total_reserves"):
            assert run[column] == last[column], (column, run[column], last[column])


def test_mesa_batch_run_over_two_values_and_two_seeds():
    frame = _batch(parameters={"protection_years": [3, 7], **BASE}, rng=[1, 2])
    for column in ("mutuals_trading", "spinouts", "exits_insolvency", "mean_parent_income_share",
                   "year", "protection_years", "seed", "replication", "Step"):
        assert column in frame.columns, column
    runs = frame.drop_duplicates("RunId")
    assert len(runs) == 4
    assert sorted(zip(runs["protection_years"], runs["seed"], strict=True)) == [
        (3, 1), (3, 2), (7, 1), (7, 2)]
    assert (runs["Step"] == 8).all() and (runs["year"] == 2017).all()
    assert (frame["replication"] == 0).all()
    # Each Mesa run is replication 0 of its seed: the same numbers as the batch simulator.
    _assert_runs_match_simulate(runs, protection_years=None)


def test_seed_in_parameters_is_used_recorded_and_repeatable():
    call = dict(parameters={**BASE, "seed": 5}, iterations=2)
    frame = _batch(**call)
    assert frame["RunId"].nunique() == 2
    assert (frame["seed"] == 5).all() and (frame["replication"] == 0).all()
    pd.testing.assert_frame_equal(frame, _batch(**call))    # the same call, the same rows
    _assert_runs_match_simulate(frame.drop_duplicates("RunId"))


def test_seed_in_parameters_with_rng_is_an_error():
    with pytest.raises(ValueError, match="either rng or seed"):
        _batch(parameters={**BASE, "seed": 5}, rng=[1, 2])


def test_replications_of_one_seed():
    frame = _batch(parameters={**BASE, "replication": range(3)}, rng=[5])
    runs = frame.drop_duplicates("RunId")
    assert sorted(runs["replication"]) == [0, 1, 2] and (runs["seed"] == 5).all()
    assert runs["mutuals_trading"].nunique() > 1 or runs["total_reserves"].nunique() > 1
    _assert_runs_match_simulate(runs)


def test_entropy_seeded_runs_record_the_seed_they_drew():
    frame = _batch(parameters=BASE, iterations=2)
    runs = frame.drop_duplicates("RunId")
    assert runs["seed"].notna().all() and runs["seed"].nunique() == 2
    _assert_runs_match_simulate(runs)


def test_every_step_from_step_zero():
    frame = _batch(parameters=BASE, rng=[3], data_collection_period=1)
    model_rows = frame.drop_duplicates("Step")
    assert model_rows["Step"].tolist() == list(range(9))
    assert model_rows["year"].tolist() == list(range(2009, 2018))
    assert (frame["seed"] == 3).all()
