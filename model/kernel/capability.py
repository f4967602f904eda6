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
    incubating = st.stage == INCUBATING
    competing = st.stage == COMPETING
    trading = competing | (st.stage == PROTECTED)
    active = trading | incubating
    rate = (sc.learning_rate + sc.support_effect * sc.support_level
            + sc.incubation_learning * incubating + sc.competition_learning * competing
            + sc.mentoring_effect * (sc.mentoring_clauses and 1.0) * trading)
    new = st.capability + (1.0 - st.capability) * rate + CAPABILITY_NOISE * d.n["capability"]
    st.capability = np.where(active, np.clip(new, 0.0, 1.0), st.capability)


def drift_quality(st: State, ctx: Context, engagement: np.ndarray) -> None:
    sc = ctx.sc
    active = (st.stage == INCUBATING) | (st.stage == PROTECTED) | (st.stage == COMPETING)
    e = ctx.per_slot(engagement)
    base_sv = np.where(st.origin == STRATEGIC, sc.social_value_strategic,
                       sc.social_value_reactive)
    q_target = np.clip(sc.quality_initial + 0.2 * (st.capability - 0.3) + 0.1 * e, 0.0, 1.0)
    sv_target = np.clip(base_sv + 0.2 * st.governance * e, 0.0, 1.0)
    capture = sc.capture_rate * (1.0 - st.governance)
    q = np.clip(st.quality + sc.adjust_rate * (q_target - st.quality) - capture, 0.0, 1.0)
    sv = np.clip(st.social_value + sc.adjust_rate * (sv_target - st.social_value) - capture,
                 0.0, 1.0)
    st.quality = np.where(active, q, st.quality)
    st.social_value = np.where(active, sv, st.social_value)
