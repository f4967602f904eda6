"""The kernel against the reference model (tests/reference) on the same replications.

The reference runs one Mesa model per replication, one Python object per agent, so its
throughput does not depend on how many replications there are; it is measured on a few and
compared with the kernel both on those same replications and at the 1,000-replication point.
"""

from __future__ import annotations

from mutualsim import simulate
from tests.reference import panel_frame, run_models

from .common import Plan, Section, Target, agent_years, mutual_years, timed


def kernel_vs_reference(plan: Plan, shared: dict) -> Section:
    sc, n = plan.scenario, plan.reference_replications
    ref = timed(lambda: run_models(sc, 0, range(n)), plan.repeats)
    plain = timed(lambda: run_models(sc, 0, range(n), shuffle=False), plan.repeats)
    ref_panel = panel_frame(ref.result)
    ref_my, ref_ay = mutual_years(ref_panel), agent_years(ref_panel, sc)
    same = timed(lambda: simulate(sc, n, seed=0), plan.repeats)
    same_my = mutual_years(same.result.panel)
    same_ay = agent_years(same.result.panel, sc)
    big = shared["kernel"][plan.ratio_replications]
    ref_rate = ref_my / ref.seconds
    shared["reference_rate"] = ref_rate

    def row(name: str, reps: int, t, my: int, ay: int) -> dict:
        return {"implementation": name, "replications": reps, "repeats": t.n,
                "seconds": t.seconds, "mutual-years": my, "mutual-years/s": my / t.seconds,
                "agent-years/s": ay / t.seconds,
                "x reference (shuffle_do)": my / t.seconds / ref_rate}

    rows = [row("reference: Mesa, object per agent, shuffle_do", n, ref, ref_my, ref_ay),
            row("reference with AgentSet.do (no shuffling)", n, plain, ref_my, ref_ay),
            row("kernel, same replications", n, same, same_my, same_ay),
            row("kernel", big.replications, big.timing, big.mutual_years, big.agent_years)]
    plain_rate = ref_my / plain.seconds
    notes = [f"Same scenario ({sc.councils} councils, {sc.years} years) and seed; the first "
             f"{n} replications are identical in both (the oracle test checks it: here "
             f"{ref_my:,} vs {same_my:,} mutual-years). The reference's rate is per model "
             "and does not change with the number of replications, so the ratio at "
             f"{big.replications:,} replications divides the kernel's rate there by it. The "
             "target is taken against the reference as a Mesa user writes it (`shuffle_do`, "
             "random activation); against the `do` variant the kernel is "
             f"{big.mutual_years_per_s / plain_rate:.1f}x."]
    target = Target(f"kernel >= 100x reference per mutual-year at {big.replications:,} "
                    "replications", big.mutual_years_per_s / ref_rate, 100.0, "x")
    return Section("Kernel vs reference implementation", rows, notes, [target])
