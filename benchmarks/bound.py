"""The memory-bandwidth limit: bytes the kernel must move per mutual-year, and this
machine's copy bandwidth, measured in the same run.

A perfectly fused kernel would still read every State array of a replication once a year
and write every array a year changes once. Stepping a few replications year by year and
counting, per year, every array's bytes as read and the bytes of the arrays that changed as
written, then dividing by the mutual-years, gives the traffic per mutual-year if every
year's state came from main memory; bandwidth / that traffic bounds the throughput.

The compiled kernel runs one replication at a time, whose state (about 100 kB at the
baseline's 450 slots) stays in the core's cache between years, so it is not bound by main
memory at all: the ratio below says how far it is from a kernel that streams the state once
a year, not how close it is to a hardware limit.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from mutualsim import Scenario
from mutualsim.kernel import Recorder, context, initial_state, step
from mutualsim.rng import Layout, generators
from mutualsim.state import COMPETING, PROTECTED, State

from .common import Plan, Section, Target, timed

TRACE_REPLICATIONS = 64


def state_traffic(scenario: Scenario, replications: int = TRACE_REPLICATIONS
                  ) -> tuple[float, float, float]:
    """(bytes read, bytes written) summed over every year, and mutual-years, per replication.
    """
    k = context(scenario)
    gens = generators(0, range(replications))
    st = initial_state(k, gens)
    rec = Recorder(replications, scenario.years)
    arrays = [f.name for f in fields(State) if isinstance(getattr(st, f.name), np.ndarray)]
    read = written = 0
    years = 0
    for t in range(scenario.years):
        before = {name: getattr(st, name).copy() for name in arrays}
        step(st, k, gens, rec, t)
        for name in arrays:
            size = getattr(st, name).nbytes
            read += size
            if not np.array_equal(before[name], getattr(st, name)):
                written += size
        years += int(np.isin(st.stage, (PROTECTED, COMPETING)).sum())
    return read / replications, written / replications, years / replications


def draw_traffic(scenario: Scenario) -> float:
    """Bytes of random numbers per replication: written once, read at least once."""
    layout = Layout.for_scenario(scenario)
    keys = getattr(layout, "n_keys", 0)  # 64-bit tender keys, one per slot
    return 2 * 8 * (layout.n_uniform + layout.n_normal + keys) * scenario.years


def copy_bandwidth(nbytes: int, repeats: int) -> float:
    """Bytes per second moved by ``np.copyto`` (read + write), pages already touched."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    t = timed(lambda: np.copyto(dst, src), max(repeats, 3))
    return 2 * src.nbytes / t.seconds


def bound(plan: Plan, shared: dict) -> Section:
    sc = plan.scenario
    read, written, my = state_traffic(sc)
    per_my = (read + written) / my
    with_draws = (read + written + draw_traffic(sc)) / my
    bw = copy_bandwidth(plan.bandwidth_bytes, plan.repeats)
    kernel = shared["kernel"][plan.ratio_replications]
    rows = []
    for label, traffic in (("State arrays only", per_my), ("State arrays + random draws",
                                                          with_draws)):
        limit = bw / traffic
        rows.append({"traffic counted": label, "bytes per mutual-year": traffic,
                     "bandwidth (GB/s)": bw / 1e9, "bound (mutual-years/s)": limit,
                     "kernel (mutual-years/s)": kernel.mutual_years_per_s,
                     "kernel / bound (%)": 100 * kernel.mutual_years_per_s / limit})
    notes = [f"Traffic counted over every year of {TRACE_REPLICATIONS} replications of the "
             f"scenario: {read / my:,.0f} B read and {written / my:,.0f} B written per "
             "mutual-year (every State array read once a year, each array the year "
             "changes written once; citizens' and firms' arrays included). The compiled "
             "kernel keeps one replication's state in cache across its years, so this is "
             "the bound of a kernel streaming the state once a year, not a hardware limit. "
             f"Bandwidth: median of `np.copyto` over {plan.bandwidth_bytes / 2**20:,.0f} MiB, "
             "counting read + write bytes. Kernel: the "
             f"{kernel.replications:,}-replication `simulate` above, end to end."]
    return Section("Memory-bandwidth bound", rows, notes,
                   [Target("kernel throughput >= 25% of the memory-bandwidth bound",
                           rows[0]["kernel / bound (%)"], 25.0, "%")])
