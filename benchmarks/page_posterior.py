"""The workshop page's cost of a changed setting, one parameter set against the calibrated
posterior, at the page's default size (150 councils, 100 replications, 30 years).

Each timed call computes one new arm (the other comes from the page's cache), as a room's
change of one lever does: ``compute`` (one parameter set, 100 replications) and
``compute_posterior`` (20 posterior draws x 10 replications, plus the 10-replication
single-parameter run). Run: ``python3 -m benchmarks.page_posterior``.
"""

from __future__ import annotations

import statistics
import time

from mutualsim.app.results import compute, compute_posterior
from mutualsim.app.settings import Settings


def main() -> None:
    compute(Settings(councils=10, replications=10, seed=99))  # load the compiled kernel
    compute_posterior(Settings(councils=10, replications=10, seed=99, uncertainty="posterior"))
    times: dict[str, list[float]] = {"one parameter set": [], "calibrated posterior": []}
    for seed in (1, 2, 3):
        for protection in (3, 7):  # 3: a new baseline arm; 7: a new chosen arm
            for label, fn, kind in (("one parameter set", compute, "none"),
                                    ("calibrated posterior", compute_posterior, "posterior")):
                start = time.perf_counter()
                fn(Settings(seed=seed, protection_years=protection, uncertainty=kind))
                times[label].append(time.perf_counter() - start)
    for label, seconds in times.items():
        print(f"{label}: median {statistics.median(seconds):.2f} s per changed setting "
              f"({', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
