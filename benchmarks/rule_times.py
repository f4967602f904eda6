"""Where a simulated year goes, rule by rule, inside the compiled kernel.

``python -m benchmarks.rule_times [REPLICATIONS] [YEAR]`` (defaults 200 and 12) runs the
baseline's replications to the start of YEAR (0-based), keeps that state and the next
year's random numbers, then times each rule of ``kernel.step_rules`` alone, in a compiled
loop over the replications, on a fresh copy of the state each time (thread CPU, minimum of
five rounds, in microseconds per replication-year), beside the whole year. "minus none" is
the rule's own time: the loop, the year's numbers and an empty ledger cost the "none" row.
Rules that read the citizens' means get 1 for them, except ``council_means`` itself, so a
rule's time is its own, on a realistic state; the whole year is ``step_rules`` as it runs.

The loop compiles every rule once (about four minutes on this machine's 2 cores); nothing
is cached. Read it with ``benchmarks/profile_notes.md`` (session 7: the table it gave).
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

from mutualsim.jit import borrowed
from mutualsim.kernel import (
    Recorder,
    apply_exits,
    charge_lot_overheads,
    context,
    council_means,
    decide_incubation,
    drift_quality,
    grow_income,
    initial_state,
    learn,
    new_ledger,
    prepare,
    propose,
    record,
    run_tenders,
    run_years,
    settle_accounts,
    step_rules,
    stranded_costs,
    update_citizens,
    update_economy,
)
from mutualsim.params import Scenario
from mutualsim.rng import generators, split_year
from mutualsim.state import PROPOSED

RULES = ("none", "update_economy", "update_citizens", "council_means", "propose", "prepare",
         "decide_incubation", "stranded_costs", "run_tenders", "grow_income",
         "settle_accounts", "charge_lot_overheads", "learn", "drift_quality", "apply_exits",
         "record", "whole year (step_rules)")
WHOLE = len(RULES) - 1
ROUNDS = 5


@numba.njit(nogil=True, error_model="numpy")
def _one_rule(which, st0, k, u, z, keys, t, panel):  # pragma: no cover - compiled
    st = borrowed(st0)
    year = k.start_year + t
    for r in range(u.shape[0]):
        d = split_year(u[r], z[r], keys[r], k.C, k.M, k.B, k.L)
        led = new_ledger()
        if which == WHOLE:
            step_rules(st, r, k, d, t, panel)
            continue
        if which == 1:
            update_economy(st, r, k, d, t)
        elif which == 2:
            update_citizens(st, r, k, d)
        if which == 3:
            engagement, support = council_means(st, r, k)
        else:
            engagement, support = np.ones(k.C), np.ones(k.C)
        if which == 4:
            propose(st, r, k, d, year, engagement, led)
        elif which == 5:
            prepare(st, r, k, d, year, st.stage[r] == PROPOSED, led)
        elif which == 6:
            decide_incubation(st, r, k, d, year, led)
        elif which == 7:
            stranded_costs(st, r, k, year, led)
        elif which == 8:
            run_tenders(st, r, k, d, year, support, engagement, led)
        elif which == 9:
            grow_income(st, r, k, d, support, led)
        elif which == 10:
            settle_accounts(st, r, k, d, year, support, engagement, led)
        elif which == 11:
            charge_lot_overheads(st, r, k, led)
        elif which == 12:
            learn(st, r, k, d, year)
        elif which == 13:
            drift_quality(st, r, k, engagement)
        elif which == 14:
            apply_exits(st, r, k, d, year, led)
        elif which == 15:
            record(st, r, k, led, t, panel)


def rule_times(replications: int = 200, year: int = 12) -> dict[str, float]:
    """Microseconds per replication-year of each rule (see the module docstring)."""
    sc = Scenario()
    k = context(sc)
    gens = generators(0, np.arange(replications))
    st = initial_state(k, gens)
    rec = Recorder(replications, sc.years)
    arrays = st.arrays()
    for r in range(replications):
        run_years(gens[r], arrays, r, k, 0, year, rec.panel)
    # the next year's numbers, drawn as run_years would draw them
    u = np.stack([g.random(k.C + 1) for g in gens])
    z = np.stack([g.standard_normal(k.C * k.K) for g in gens])
    keys = np.stack([g.bit_generator.random_raw(k.M) for g in gens])
    snapshot = st.take(slice(None))
    best = {name: float("inf") for name in RULES}
    for _ in range(ROUNDS):
        for which, name in enumerate(RULES):
            fresh = snapshot.take(slice(None)).arrays()
            start = time.thread_time()
            _one_rule(which, fresh, k, u, z, keys, year, rec.panel)
            best[name] = min(best[name], (time.thread_time() - start) / replications * 1e6)
    return best


def main(argv: list[str]) -> None:
    replications = int(argv[0]) if argv else 200
    year = int(argv[1]) if len(argv) > 1 else 12
    start = time.perf_counter()
    times = rule_times(replications, year)
    print(f"{replications} baseline replications at year {year} "
          f"({time.perf_counter() - start:.0f} s with compiling); thread CPU, min of "
          f"{ROUNDS}, us per replication-year")
    none = times["none"]
    for name, us in times.items():
        print(f"{name:26s} {us:8.2f}   minus none {us - none:7.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
