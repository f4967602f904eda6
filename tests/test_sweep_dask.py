"""The same sweep through Dask (a scheduler address, and --cluster local) as through processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mutualsim.cli import main

distributed = pytest.importorskip("distributed")

EXPERIMENT = """name = "tiny"
replications = 12
seed = 3
block_size = 4
[base_overrides]
councils = 8
years = 8
[design]
kind = "grid"
[factors]
protection_years = [0, 5]
"""


def result_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.mark.slow  # starting Dask worker processes takes several seconds
def test_dask_scheduler_and_local_cluster_give_the_same_bytes(tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    assert main(["sweep", str(path), "--out", str(tmp_path / "procs"), "--workers", "2",
                 "--quiet"]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["sweep", str(path), "--out", str(tmp_path / "dask"), "--scheduler",
                     cluster.scheduler_address, "--quiet"]) == 0
    markers = [json.loads(p.read_text()) for p in (tmp_path / "dask").rglob("*.done.json")]
    assert len({m["worker"] for m in markers}) == 2, "both Dask workers computed tasks"
    assert main(["sweep", str(path), "--out", str(tmp_path / "local"), "--cluster", "local",
                 "--workers", "2", "--quiet"]) == 0
    procs = result_files(tmp_path / "procs")
    assert len(procs) == 1 + 2 * 3 * 3
    assert result_files(tmp_path / "dask") == procs
    assert result_files(tmp_path / "local") == procs
    logs = (tmp_path / "dask" / "log.jsonl").read_text()
    assert "Dask scheduler tcp://" in logs
    assert "6 tasks finished" in capsys.readouterr().out


@pytest.mark.slow  # the Dask client retries until its 10 s timeout
def test_unreachable_scheduler_is_one_line_and_nothing_written(tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "out"
    # a closed port on this machine: refused at once (the client retries until its timeout)
    assert main(["sweep", str(path), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to the Dask scheduler" in err
    assert not out.exists()
