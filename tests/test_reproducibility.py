"""Replication i of seed s is the same alone, in any batch, and inside MutualMarket."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualsim import MutualMarket, Scenario, simulate

SC = Scenario(councils=15, years=12, incubation_years=2)


def _one(results, i):
    h = results.histories[results.histories["replication"] == i].reset_index(drop=True)
    p = results.panel[results.panel["replication"] == i].reset_index(drop=True)
    return h, p


def test_alone_equals_batches_of_any_size_composition_and_threads():
    alone_h, alone_p = _one(simulate(SC, [4], seed=11, threads=1), 4)
    assert len(alone_h) > 0
    for reps, block, threads in (([0, 1, 2, 3, 4, 5], 256, 1), (range(10), 3, 2),
                                 ([9, 4, 7], 1, 3), (range(8), 8, 4)):
        h, p = _one(simulate(SC, reps, seed=11, block_size=block, threads=threads), 4)
        pd.testing.assert_frame_equal(h, alone_h, check_exact=True)
        pd.testing.assert_frame_equal(p, alone_p, check_exact=True)


def test_whole_runs_do_not_depend_on_threads():
    one = simulate(SC, range(12), seed=3, block_size=5, threads=1)
    many = simulate(SC, range(12), seed=3, block_size=5, threads=3)
    pd.testing.assert_frame_equal(one.histories, many.histories, check_exact=True)
    pd.testing.assert_frame_equal(one.panel, many.panel, check_exact=True)


def test_mutual_market_follows_the_same_trajectory():
    _, panel = _one(simulate(SC, [2, 3], seed=5), 3)
    model = MutualMarket(SC, rng=5, replication=3)
    model.run_for(SC.years)
    for name, values in model.recorder.data.items():
        np.testing.assert_array_equal(values[0], panel[name].to_numpy(), err_msg=name)
    collected = model.datacollector.get_model_vars_dataframe().iloc[1:]  # after step 0
    np.testing.assert_array_equal(collected["mutuals_trading"].to_numpy(),
                                  panel["mutuals_trading"].to_numpy())


def test_different_seeds_and_replications_differ():
    a = simulate(SC, [0], seed=1).panel["mutuals_trading"].to_numpy()
    b = simulate(SC, [0], seed=2).panel["mutuals_trading"].to_numpy()
    c = simulate(SC, [1], seed=1).panel["mutuals_trading"].to_numpy()
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_common_random_numbers_pair_scenarios():
    """Two scenarios with the same seed share the draws: identical until policy bites."""
    a = simulate(SC.replace(protection_years=3), [0, 1], seed=4).panel
    b = simulate(SC.replace(protection_years=7), [0, 1], seed=4).panel
    first = a["year"] == SC.start_year
    pd.testing.assert_series_equal(a.loc[first, "proposals"], b.loc[first, "proposals"])


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_replication_counts(bad):
    with pytest.raises(ValueError, match="replications"):
        simulate(SC, bad)


def test_blocks_one_at_a_time_add_up_to_simulate():
    from mutualsim.simulate import histories_frame, panel_frame, simulate_blocks
    blocks = list(simulate_blocks(SC, 7, seed=2, block_size=3, threads=2))
    assert [len(b.replications) for b in blocks] == [3, 3, 1]
    whole = simulate(SC, 7, seed=2)
    h = pd.concat([histories_frame(b, SC) for b in blocks], ignore_index=True)
    p = pd.concat([panel_frame(b, SC) for b in blocks], ignore_index=True)
    pd.testing.assert_frame_equal(h, whole.histories, check_exact=True)
    pd.testing.assert_frame_equal(p, whole.panel, check_exact=True)


def test_worker_threads_run_each_replication_once_and_report_each():
    from mutualsim.kernel import _run_threads

    seen, finished = [], []
    _run_threads(seen.append, 50, 3, lambda: finished.append(1))
    assert sorted(seen) == list(range(50))
    assert len(finished) == 50


def test_an_error_in_a_worker_thread_stops_the_run_and_is_raised():
    from mutualsim.kernel import _run_threads

    started = []

    def one(r: int) -> None:
        started.append(r)
        if r == 5:
            raise ValueError("replication 5 failed")

    with pytest.raises(ValueError, match="replication 5 failed"):
        _run_threads(one, 1000, 2, lambda: None)
    # the other worker stops after its current replication: far fewer than 1,000 started
    assert 5 in started and len(started) < 100


def test_progress_hears_of_every_replication_year_on_threads():
    from mutualsim.simulate import simulate_blocks
    heard = []
    list(simulate_blocks(SC, 7, seed=2, block_size=4, threads=2, on_year=heard.append))
    assert sum(heard) == 7 * SC.years


def test_blocks_match_run_block_one_by_one():
    """The prepare-ahead pipeline gives each block what a lone run_block gives it."""
    from mutualsim.simulate import histories_frame, run_block, simulate_blocks
    blocks = list(simulate_blocks(SC, 5, seed=4, block_size=2, threads=2))
    for block, start in zip(blocks, (0, 2, 4), strict=True):
        alone = run_block(SC, 4, np.arange(start, min(start + 2, 5)))
        pd.testing.assert_frame_equal(histories_frame(block, SC), histories_frame(alone, SC),
                                      check_exact=True)
        for name, values in alone.panel.items():
            np.testing.assert_array_equal(block.panel[name], values, err_msg=name)


def test_a_light_panel_records_its_columns_as_the_full_one_and_changes_nothing():
    """compare and the page record only the light panel: its columns hold the full
    panel's values bit for bit, every year of every replication (years with no mutual
    trading, NaN means, included), and the final state is the same."""
    from dataclasses import fields

    from mutualsim.kernel.record import COLUMNS, LIGHT_COLUMNS
    from mutualsim.simulate import run_block
    idx = np.arange(24)
    full = run_block(SC, 7, idx, threads=2)
    light = run_block(SC, 7, idx, threads=2, light=True)
    assert sorted(full.panel) == sorted(COLUMNS)
    assert list(light.panel) == list(LIGHT_COLUMNS) == ["mutuals_trading",
                                                         "mean_parent_income_share"]
    for name in LIGHT_COLUMNS:
        np.testing.assert_array_equal(light.panel[name], full.panel[name], err_msg=name)
    assert np.isnan(full.panel["mean_parent_income_share"]).any()   # no mutual yet: NaN
    assert (full.panel["mutuals_trading"] > 0).any()
    for f in fields(full.state):
        np.testing.assert_array_equal(getattr(light.state, f.name),
                                      getattr(full.state, f.name), err_msg=f.name)


def test_the_next_block_is_prepared_while_this_one_runs(monkeypatch):
    """Block 1's initial state is made while block 0 is in the kernel: block 0's run waits
    (up to 30 s) for block 1's preparation to start, so a pipeline that prepared only after
    a block ended would fail here."""
    import threading

    from mutualsim import blocks as blocks_module
    started = {i: threading.Event() for i in range(3)}
    real_prepare, real_run = blocks_module.prepare_block, blocks_module.run_prepared

    def prepare(scenario, seed, replications, services=None, light=False):
        started[int(replications[0]) // 2].set()
        return real_prepare(scenario, seed, replications, services, light)

    def run(block, on_year=None, *, threads=1):
        following = int(block.replications[0]) // 2 + 1
        if following in started:
            assert started[following].wait(30), f"block {following} was not being prepared"
        return real_run(block, on_year, threads=threads)

    monkeypatch.setattr(blocks_module, "prepare_block", prepare)
    monkeypatch.setattr(blocks_module, "run_prepared", run)
    got = list(blocks_module.simulate_blocks(SC, 5, seed=4, block_size=2, threads=1))
    assert [len(b.replications) for b in got] == [2, 2, 1]
