"""Capability and culture change; quality, social value and producer capture
(ODD 'Capability', DESIGN §3.6 and §3.9).

Spun-out services start with thin business capability (seed 000 §4.3: 'new skills we don't
currently have ... financial management and business capabilities'). Each year a share of the
gap to full capability closes through learning, faster with council support, in a Teckal
incubator, under competition and with mentoring clauses. Capability lowers unit cost and lifts
quality and trading growth. Quality and social value move towards targets set by capability
and citizens' engagement, but drift towards provider interests where governance lacks
citizens ('producer capture', seed 000 §4.1).
"""

from __future__ import annotations

import numpy as np

from ..rng import Draws
from ..state import COMPETING, INCUBATING, PROTECTED, STRATEGIC, State
from .context import Context

CAPABILITY_NOISE = 0.02


def learn(st: State, ctx: Context, d: Draws) -> None:
    sc = ctx.sc
    r, m = np.nonzero((st.stage == PROTECTED) | (st.stage == COMPETING)
                      | (st.stage == INCUBATING))
    stage = st.stage[r, m]
    incubating = stage == INCUBATING
    rate = (sc.learning_rate + sc.support_effect * sc.support_level
            + sc.incubation_learning * incubating + sc.competition_learning * (stage == COMPETING)
            + sc.mentoring_effect * (sc.mentoring_clauses and 1.0) * ~incubating)
    cap = st.capability[r, m]
    new = cap + (1.0 - cap) * rate + CAPABILITY_NOISE * d.n["capability"][r, m]
    st.capability[r, m] = np.clip(new, 0.0, 1.0)


def drift_quality(st: State, ctx: Context, engagement: np.ndarray) -> None:
    sc = ctx.sc
    r, m = np.nonzero((st.stage == PROTECTED) | (st.stage == COMPETING)
                      | (st.stage == INCUBATING))
    e = engagement[r, m // ctx.S]
    governance = st.governance[r, m]
    base_sv = np.where(st.origin[r, m] == STRATEGIC, sc.social_value_strategic,
                       sc.social_value_reactive)
    q_target = np.clip(sc.quality_initial + 0.2 * (st.capability[r, m] - 0.3) + 0.1 * e,
                       0.0, 1.0)
    sv_target = np.clip(base_sv + 0.2 * governance * e, 0.0, 1.0)
    capture = sc.capture_rate * (1.0 - governance)
    q, sv = st.quality[r, m], st.social_value[r, m]
    st.quality[r, m] = np.clip(q + sc.adjust_rate * (q_target - q) - capture, 0.0, 1.0)
    st.social_value[r, m] = np.clip(sv + sc.adjust_rate * (sv_target - sv) - capture, 0.0, 1.0)
