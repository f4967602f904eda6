"""Citizens in the loop (ODD 'Citizens', DESIGN §3.9).

Citizens engage more where the council co-produces; they grow satisfied with the quality of
the services they get and come to support 'their' mutuals. Engagement raises the weight
councils put on quality and social value and feeds bottom-up (strategic) proposals; support
feeds trading income and volunteering.
"""

from __future__ import annotations

import numpy as np

from ..rng import Draws
from ..state import COMPETING, INCUBATING, PROTECTED, State
from .context import Context

ENGAGEMENT_NOISE = 0.05
INHOUSE_QUALITY_DRIFT = 0.1  # in-house quality falls with the budget (assumption)


def service_quality(st: State, ctx: Context) -> np.ndarray:
    """Quality of each slot's service as citizens experience it (R, M)."""
    sc = ctx.sc
    delivering = (st.stage == PROTECTED) | (st.stage == COMPETING) | (st.stage == INCUBATING)
    mutual = delivering & (st.core_volume > 0)
    private = st.private_value > 0
    inhouse_q = sc.quality_initial - INHOUSE_QUALITY_DRIFT * (1.0 - ctx.per_slot(st.budget))
    return np.where(mutual, st.quality, np.where(private, sc.private_quality, inhouse_q))


def update_citizens(st: State, ctx: Context, d: Draws) -> None:
    a = ctx.sc.citizen_adjust
    q = service_quality(st, ctx).reshape(-1, ctx.C, ctx.S).mean(axis=2)[:, :, None]
    target_e = st.propensity * (0.4 + 0.6 * ctx.coproduction)
    st.engagement = np.clip(st.engagement + a * (target_e - st.engagement)
                            + ENGAGEMENT_NOISE * d.n["citizen"], 0.0, 1.0)
    st.satisfaction = st.satisfaction + a * (q - st.satisfaction)
    trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
    has_mutual = trading.reshape(-1, ctx.C, ctx.S).any(axis=2)[:, :, None]
    target_s = np.where(has_mutual, 0.5 * st.satisfaction + 0.5 * st.engagement, 0.0)
    st.support = st.support + a * (target_s - st.support)


def council_means(st: State) -> tuple[np.ndarray, np.ndarray]:
    """Mean engagement and support of each council's citizens, (R, C) each."""
    return st.engagement.mean(axis=2), st.support.mean(axis=2)
