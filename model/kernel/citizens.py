"""Citizens in the loop (ODD 'Citizens', DESIGN §3.9).

Citizens engage more where the council co-produces; they grow satisfied with the quality of
the services they get and come to support 'their' mutuals. Engagement raises the weight
councils put on quality and social value and feeds bottom-up (strategic) proposals; support
feeds trading income and volunteering.
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import Draws
from ..state import Arrays
from .context import Context, delivers_service, is_trading, segment_mean


@kernel_inline
def service_quality(k: Context, stage: int, core_volume: float, quality: float,
                    private_value: float, budget: float) -> float:
    """Quality of a slot's service as citizens experience it, in [0, 1]: its mutual's
    ``quality``, the private provider's, or the in-house quality, which falls with the
    council's ``budget``."""
    if delivers_service(stage, core_volume):
        return quality
    if private_value > 0:
        return k.private_quality
    return k.quality_initial - k.inhouse_quality_drift * (1.0 - budget)


@kernel_inline
def update_citizens(st: Arrays, r: int, k: Context, d: Draws) -> None:
    """Engagement moves to the target set by the council's own co-production
    (``st.council_coproduction`` (R, C)), with noise; satisfaction to the mean quality of the
    council's services; support to a mix of both where the council has a trading mutual
    (else to zero).

    Shapes: ``st.engagement``, ``st.satisfaction``, ``st.citizen_support``, ``st.propensity``
    (R, C, K), all in [0, 1]; changes row ``r`` of the first three. Draws: ``d.citizen``
    (C*K,) normals. No ledger entries. ODD 'Citizens'.
    """
    a = k.citizen_adjust
    floor, w_sat = k.engagement_coproduction_floor, k.support_satisfaction_weight
    quality = np.empty(k.S)
    for c in range(k.C):
        has_mutual = False
        for s in range(k.S):
            m = c * k.S + s
            quality[s] = service_quality(k, st.stage[r, m], st.core_volume[r, m],
                                         st.quality[r, m], st.private_value[r, m],
                                         st.budget[r, c])
            has_mutual = has_mutual or is_trading(st.stage[r, m])
        q = segment_mean(quality, 0, k.S)
        coproduction = st.council_coproduction[r, c]
        for i in range(k.K):
            target_e = st.propensity[r, c, i] * (floor + (1.0 - floor) * coproduction)
            e = st.engagement[r, c, i]
            e = e + a * (target_e - e) + k.engagement_noise * d.citizen[c * k.K + i]
            e = min(max(e, 0.0), 1.0)
            st.engagement[r, c, i] = e
            s_ = st.satisfaction[r, c, i]
            s_ = s_ + a * (q - s_)
            st.satisfaction[r, c, i] = s_
            target_s = w_sat * s_ + (1.0 - w_sat) * e if has_mutual else 0.0
            st.citizen_support[r, c, i] += a * (target_s - st.citizen_support[r, c, i])


@kernel_inline
def council_means(st: Arrays, r: int, k: Context) -> tuple[np.ndarray, np.ndarray]:
    """Mean engagement and mean support of each council's citizens (``citizen_support``),
    (C,) each, in [0, 1]."""
    engagement = np.empty(k.C)
    citizen_support = np.empty(k.C)
    eng, sup = st.engagement[r].ravel(), st.citizen_support[r].ravel()   # (C*K,) each
    for c in range(k.C):
        engagement[c] = segment_mean(eng, c * k.K, k.K)
        citizen_support[c] = segment_mean(sup, c * k.K, k.K)
    return engagement, citizen_support
