"""The memory-bandwidth limit: bytes the kernel must move per mutual-year, and this
machine's copy bandwidth, measured in the same run.

A perfectly fused kernel would still read every State array a step touches once and write
every array it changes once. Tracing which fields one step reads and writes (through a proxy
State) and dividing those bytes by the mutual-years of the step gives a lower bound on the
traffic per mutual-year; bandwidth / that traffic is an upper bound on throughput.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from mutualsim import Scenario
from mutualsim.kernel import Context, Recorder, initial_state, step
from mutualsim.rng import Layout, draw_year, generators
from mutualsim.state import COMPETING, PROTECTED, State

from .common import Plan, Section, Target, timed

TRACE_REPLICATIONS = 64


class TracedState:
    """Passes attribute access through to a State and remembers field names used."""

    def __init__(self, st: State) -> None:
        object.__setattr__(self, "_st", st)
        object.__setattr__(self, "reads", set())
        object.__setattr__(self, "writes", set())

    def __getattr__(self, name: str):
        self.reads.add(name)
        return getattr(self._st, name)

    def __setattr__(self, name: str, value) -> None:
        self.writes.add(name)
        setattr(self._st, name, value)


def state_traffic(scenario: Scenario, replications: int = TRACE_REPLICATIONS
                  ) -> tuple[float, float, int]:
    """(bytes read, bytes written) summed over every year, and mutual-years, per replication.
    """
    ctx, layout = Context.for_scenario(scenario), Layout.for_scenario(scenario)
    gens = generators(0, range(replications))
    st = initial_state(ctx, gens)
    rec = Recorder(replications, scenario.years)
    arrays = [f.name for f in fields(State) if isinstance(getattr(st, f.name), np.ndarray)]
    read = written = 0
    years = 0
    for t in range(scenario.years):
        before = {name: getattr(st, name).copy() for name in arrays}
        traced = TracedState(st)
        step(traced, ctx, draw_year(gens, layout), rec, t)  # type: ignore[arg-type]
        for name in arrays:
            size = getattr(st, name).nbytes
            if name in traced.reads or name in traced.writes:
                read += size
            changed = not np.array_equal(before[name], getattr(st, name))
            if name in traced.writes or changed:
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
    notes = [f"Traffic traced over every year of {TRACE_REPLICATIONS} replications of the "
             f"scenario: {read / my:,.0f} B read and {written / my:,.0f} B written per "
             "mutual-year (each State array a step reads counted once, each array it "
             "assigns or changes written once; citizens' and firms' arrays included). "
             f"Bandwidth: median of `np.copyto` over {plan.bandwidth_bytes / 2**20:,.0f} MiB, "
             "counting read + write bytes. Kernel: the "
             f"{kernel.replications:,}-replication `simulate` above, end to end."]
    return Section("Memory-bandwidth bound", rows, notes,
                   [Target("kernel throughput >= 25% of the memory-bandwidth bound",
                           rows[0]["kernel / bound (%)"], 25.0, "%")])
