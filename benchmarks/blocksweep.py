"""Fallback sweep for the memory and worker benchmarks, used while ``mutualsim sweep`` is
missing: ``simulate`` in blocks written to Parquet at once, so nothing accumulates.

``python -m benchmarks.blocksweep --replications N --workers W --block B --out DIR
--scenario JSON`` (JSON: scenario field overrides).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mutualsim import Scenario, simulate

SEED = 0


def run_one_block(task: tuple[dict, int, int, str]) -> int:
    """Simulate replications [start, stop) and write histories and panel; return mutual-years."""
    overrides, start, stop, out = task
    results = simulate(Scenario(**overrides), range(start, stop), seed=SEED)
    stem = Path(out) / f"block-{start:09d}"
    results.histories.to_parquet(f"{stem}-histories.parquet", index=False)
    results.panel.to_parquet(f"{stem}-panel.parquet", index=False)
    return int(results.panel["mutuals_trading"].sum())


def sweep(overrides: dict, replications: int, workers: int, block: int, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(overrides, s, min(s + block, replications), str(out))
             for s in range(0, replications, block)]
    if workers == 1:
        return sum(map(run_one_block, tasks))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(run_one_block, tasks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scenario", default="{}")
    args = parser.parse_args()
    total = sweep(json.loads(args.scenario), args.replications, args.workers, args.block,
                  args.out)
    print(json.dumps({"mutual_years": total}))


if __name__ == "__main__":
    main()
