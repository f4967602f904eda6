"""Mesa's own batch runner over MutualMarket: our DataCollector columns, our random streams."""

from __future__ import annotations

import mesa
import pandas as pd

from mutualsim import MutualMarket, Scenario, simulate


def test_mesa_batch_run_over_two_values_and_two_seeds():
    rows = mesa.batch_run(MutualMarket,
                          parameters={"protection_years": [3, 7], "councils": 10, "years": 8},
                          rng=[1, 2], max_steps=8, display_progress=False)
    frame = pd.DataFrame(rows)
    for column in ("mutuals_trading", "spinouts", "exits_insolvency", "mean_parent_income_share",
                   "year", "protection_years", "seed", "Step"):
        assert column in frame.columns, column
    runs = frame.drop_duplicates("RunId")
    assert len(runs) == 4
    assert sorted(zip(runs["protection_years"], runs["seed"], strict=True)) == [
        (3, 1), (3, 2), (7, 1), (7, 2)]
    assert (runs["Step"] == 8).all() and (runs["year"] == 2017).all()
    # Each Mesa run is replication 0 of its seed: the same numbers as the batch simulator.
    for _, run in runs.iterrows():
        sc = Scenario(councils=10, years=8, protection_years=int(run["protection_years"]))
        last = simulate(sc, replications=[0], seed=int(run["seed"])).panel.iloc[-1]
        for column in ("mutuals_trading", "spinouts", "total_reserves"):
            assert run[column] == last[column], (column, run[column], last[column])
