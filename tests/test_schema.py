"""The data contract: every Parquet file of a kind carries the code's one schema.

These tests hold under any supported pandas (2.x object strings or 3.x ``str``) and
pyarrow: they compare Arrow schemas and values, never pandas dtypes by name.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from mutualsim import Scenario, simulate
from mutualsim.cli import main
from mutualsim.schema import (
    ENUM_TYPE,
    ENUMERATIONS,
    PANEL_COUNTS,
    empty_table,
    library_versions,
    schema,
    to_frame,
    to_table,
)
from mutualsim.sweep import SweepStore, load_experiment, open_sweep, run_sweep

TINY = Scenario(councils=1, years=3, services_per_council=1, strategic_prob=0.0,
                unsupportive_council_share=0.0, spinout_propensity_sdlog=0.0)

# The reproducer: two grid points, four replications of one block each, so most
# tasks have no mutual at all (an empty histories table that used to infer `null` types).
REPRODUCER = """name = "empty_tasks"
replications = 4
seed = 1
block_size = 1
[base_overrides]
councils = 1
years = 3
services_per_council = 1
# Only reactive proposals, and every council backs them alike, so reactive_prob 0.9
# proposes the one service and 0.0 never does.
strategic_prob = 0.0
unsupportive_council_share = 0.0
spinout_propensity_sdlog = 0.0
[design]
kind = "grid"
[factors]
reactive_prob = [0.0, 0.9]
"""


def sweep(tmp_path: Path, text: str = REPRODUCER) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(text)
    out = tmp_path / "sweep"
    with ThreadPoolExecutor(2) as pool:
        run_sweep(load_experiment(path), SweepStore(out), pool, capacity=2, progress=False)
    return out


def test_reproducer_histories_with_empty_tasks(tmp_path: Path) -> None:
    out = sweep(tmp_path)
    opened = open_sweep(out)
    expected = sum(len(simulate(TINY.replace(reactive_prob=rate), [i], seed=1).histories)
                   for rate in (0.0, 0.9) for i in range(4))
    histories = opened.histories()
    # At most one proposal per task (one service); some tasks have none (the point of the
    # reproducer: fewer rows than the 8 tasks). The count follows the random stream.
    assert len(histories) == expected and 0 < expected < 8
    table = opened.dataset("histories").to_table()
    assert table.num_rows == expected
    assert table.schema.remove_metadata().equals(schema("histories", scenario_id=True))
    # Joined with the scenario table on scenario_id, in pyarrow alone.
    scenarios = pq.read_table(out / "scenarios.parquet")
    joined = table.join(scenarios, "scenario_id")
    assert joined.num_rows == expected
    assert set(pc.unique(joined["reactive_prob"]).to_pylist()) <= {0.0, 0.9}


def test_every_written_file_has_the_code_schema(tmp_path: Path) -> None:
    out = sweep(tmp_path)
    files = sorted((out / "tasks").rglob("*.parquet"))
    assert len(files) == 2 * 4 * 3
    empty = 0
    for path in files:
        kind = path.name.split(".")[1]
        table = pq.read_table(path)
        assert table.schema.remove_metadata().equals(schema(kind, scenario_id=True)), path
        assert b"pandas" not in (table.schema.metadata or {}), path
        empty += table.num_rows == 0
    assert empty > 0  # the reproducer really has empty tasks


def test_run_writes_the_code_schema(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("councils = 3\nyears = 6\n")
    assert main(["run", str(scenario), "-n", "3", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    for kind in ("histories", "panel"):
        table = pq.read_table(tmp_path / "out" / f"{kind}.parquet")
        assert table.schema.remove_metadata().equals(schema(kind)), kind
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["versions"]) >= {"python", "numpy", "pandas", "pyarrow", "mesa"}
    assert manifest["versions"] == library_versions()


def test_empty_tables_keep_the_schema() -> None:
    for kind in ("histories", "panel", "counts"):
        table = empty_table(kind, scenario_id=True)
        assert table.num_rows == 0
        frame = to_frame(table)
        assert len(frame) == 0 and list(frame.columns) == table.schema.names
        assert to_table(frame, kind, scenario_id=True).schema.equals(table.schema)


def test_simulate_frames_round_trip_through_the_schema() -> None:
    results = simulate(Scenario(councils=6, years=12), 4, seed=2)
    for kind, frame in (("histories", results.histories), ("panel", results.panel)):
        table = to_table(frame, kind)
        back = to_frame(table)
        pd.testing.assert_frame_equal(back, frame, check_exact=True)
        for field in table.schema:
            if field.name in ENUMERATIONS:
                assert field.type == ENUM_TYPE
                assert table.column(field.name).chunk(0).dictionary.to_pylist() == list(
                    ENUMERATIONS[field.name])
        if kind == "panel":
            for name in PANEL_COUNTS:
                assert table.schema.field(name).type == pa.int64(), name
            assert table.schema.field("recession").type == pa.bool_()


@pytest.mark.parametrize(("kind", "column", "value", "message"), [
    ("histories", "exit_cause", "bankrupt", "not one of"),
    ("histories", "tenders", 1.5, "whole numbers"),
    ("histories", "replication", None, "missing values"),
])
def test_to_table_refuses_data_outside_the_contract(kind, column, value, message) -> None:
    frame = simulate(Scenario(councils=3, years=8), 1, seed=0).histories.head(1).copy()
    frame[column] = pd.Series([value], dtype=object)
    with pytest.raises(ValueError, match=message):
        to_table(frame, kind)


def test_files_depend_only_on_data(tmp_path: Path) -> None:
    """Same data, whichever pandas dtype carries the strings: the same bytes."""
    frame = simulate(Scenario(councils=4, years=8), 2, seed=5).histories
    as_objects = frame.astype({name: object for name in ENUMERATIONS if name in frame})
    one, two = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(to_table(frame, "histories"), one, compression="zstd")
    pq.write_table(to_table(as_objects, "histories"), two, compression="zstd")
    assert one.read_bytes() == two.read_bytes()
    assert np.array_equal(pq.read_table(one)["mutual_id"].to_numpy(), frame["mutual_id"])


def test_run_streams_blocks_and_matches_simulate(tmp_path: Path, capsys) -> None:
    """`run` writes block by block (several row groups) the same rows `simulate` gives."""
    from mutualsim.simulate import DEFAULT_BLOCK
    scenario = tmp_path / "s.toml"
    scenario.write_text("councils = 2\nyears = 5\nservices_per_council = 2\n")
    n = 2 * DEFAULT_BLOCK + 3
    assert main(["run", str(scenario), "-n", str(n), "--seed", "4", "--out",
                 str(tmp_path / "out"), "--quiet"]) == 0
    expected = simulate(Scenario(councils=2, years=5, services_per_council=2), n, seed=4)
    for kind, frame in (("histories", expected.histories), ("panel", expected.panel)):
        path = tmp_path / "out" / f"{kind}.parquet"
        assert pq.ParquetFile(path).metadata.num_row_groups == 3, kind
        pd.testing.assert_frame_equal(to_frame(pq.read_table(path)), frame, check_exact=True)
    printed = capsys.readouterr().out
    assert expected.summary() in printed


@pytest.mark.parametrize("scenario", [Scenario(councils=20, incubation_years=3),
                                      Scenario(councils=20, protection_years=0, years=12)],
                         ids=["incubation", "short"])
def test_block_tables_write_the_bytes_of_the_frames(scenario) -> None:
    """``run`` builds its Arrow tables from a block's arrays (mutualsim.tables); the
    Parquet bytes are those of the frames every other command converts with to_table."""
    import io

    from mutualsim.schema import schema, to_table, write_options
    from mutualsim.simulate import histories_frame, panel_frame, run_block
    from mutualsim.tables import histories_table, panel_table

    def parquet(table: pa.Table, kind: str) -> bytes:
        out = io.BytesIO()
        with pq.ParquetWriter(out, schema(kind), **write_options(schema(kind))) as writer:
            writer.write_table(table)
        return out.getvalue()

    block = run_block(scenario, 3, np.arange(6))
    for kind, direct, frame in (("histories", histories_table, histories_frame),
                                ("panel", panel_table, panel_frame)):
        table = direct(block, scenario)
        assert table.schema.equals(schema(kind))
        assert parquet(table, kind) == parquet(to_table(frame(block, scenario), kind), kind)
    # the masks are exercised: proposals that never spun out, mutuals still trading
    histories = histories_table(block, scenario)
    assert 0 < histories["spinout_year"].null_count < len(histories)
    assert 0 < histories["exit_year"].null_count < len(histories)


@pytest.mark.parametrize("scenario", [Scenario(councils=20, incubation_years=3),
                                      Scenario(councils=20, protection_years=0, years=12)],
                         ids=["incubation", "short"])
def test_sweep_task_files_are_the_bytes_of_the_frames(scenario) -> None:
    """A sweep task's files come from the block's arrays (mutualsim.tables, block_counts):
    byte for byte the files of the frames (histories_frame, panel_frame, counts from the
    histories) with the scenario_id column first, converted by to_table."""
    from mutualsim.simulate import histories_frame, panel_frame, run_block
    from mutualsim.survival import SurvivalCounts
    from mutualsim.sweep.tasks import Task, TaskInput, parquet_bytes, run_task

    task = Task("s007", 4, 10)
    out = run_task(TaskInput(task, scenario, 3))
    assert out.error is None, out.traceback
    block = run_block(scenario, 3, np.arange(4, 10))
    histories = histories_frame(block, scenario)
    frames = {"histories": histories, "panel": panel_frame(block, scenario),
              "counts": SurvivalCounts.from_histories(histories,
                                                      max_time=scenario.years).to_frame()}
    for kind, frame in frames.items():
        frame.insert(0, "scenario_id", task.scenario_id)
        expected = parquet_bytes(to_table(frame, kind, scenario_id=True))
        assert out.files[kind] == expected, kind
        assert pq.read_table(pa.BufferReader(out.files[kind])).num_rows == len(frame) > 0


def test_run_summary_of_blocks_equals_the_summary_of_the_frames() -> None:
    from mutualsim.simulate import RunSummary, histories_frame, panel_frame, simulate_blocks
    sc = Scenario(councils=20, years=16)
    by_block, by_frame = RunSummary(sc, 5), RunSummary(sc, 5)
    for block in simulate_blocks(sc, 9, seed=5, block_size=4):
        by_block.add_block(block)
        by_frame.add(histories_frame(block, sc), panel_frame(block, sc))
    assert by_block.text() == by_frame.text()
    assert by_block.counts == by_frame.counts and by_block.proposals == by_frame.proposals
