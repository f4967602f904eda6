"""The kernel: every rule of the model, vectorised over replications.

One call of :func:`step` advances every replication of a batch by one year. The order of the
sub-models is the ODD 'Process overview and scheduling':

1. economy      council budgets (austerity, shocks) and recession
2. citizens     engagement, satisfaction, support
3. pipeline     new proposals; preparation, abandonment; Teckal decisions; spin-outs
4. tendering    contract rounds for core contracts that expire this year
5. finance      income streams grow; accounts settle (reserves += income - costs)
6. capability   learning; quality and social value; producer capture
7. exits        insolvency, wind-down, takeover; step-in costs; asset lock
8. record       the year's panel row
"""

from __future__ import annotations

from ..rng import Draws
from ..state import PROPOSED, State
from .capability import drift_quality, learn
from .citizens import council_means, update_citizens
from .context import Context, Ledger
from .economy import update_economy
from .exits import apply_exits
from .finance import grow_income, settle_accounts
from .pipeline import decide_incubation, prepare, propose
from .record import Recorder
from .setup import initial_state
from .tendering import run_tenders

__all__ = ["Context", "Recorder", "initial_state", "step"]


def step(st: State, ctx: Context, d: Draws, rec: Recorder, year_index: int) -> None:
    """Advance every replication in ``st`` by one year, in place, and record the year."""
    led = Ledger(R=st.shape[0], M=st.shape[1])
    update_economy(st, ctx, d, year_index)
    update_citizens(st, ctx, d)
    engagement, support = council_means(st)

    preparing = st.stage == PROPOSED
    spun_before = st.spinout_year >= 0
    propose(st, ctx, d, engagement, led)
    prepare(st, ctx, d, led, preparing)
    decide_incubation(st, ctx, led)
    led.add("spinouts", ((st.spinout_year >= 0) & ~spun_before).sum(axis=1))

    run_tenders(st, ctx, d, support, engagement, led)
    grow_income(st, ctx, d, support)
    settle_accounts(st, ctx, d, support, engagement, led)
    learn(st, ctx, d)
    drift_quality(st, ctx, engagement)
    apply_exits(st, ctx, d, led)
    rec.record(year_index, st, ctx, led)
    st.year += 1
