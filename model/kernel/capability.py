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

from ..jit import kernel_inline, kernel_jit
from ..rng import Draws
from ..state import COMPETING, INCUBATING, STRATEGIC, Arrays
from .context import Context, is_active

CAPABILITY_NOISE = 0.02  # sd of yearly capability noise (assumption)


@kernel_inline
def learning_rate(k: Context, stage: int) -> float:
    """Share of the gap to full capability closed in a year (probability-free rate, /yr):
    base learning, council support, incubation, competition and mentoring clauses."""
    incubating = stage == INCUBATING
    mentoring = k.mentoring_effect * (1.0 if k.mentoring_clauses else 0.0)
    return (k.learning_rate + k.support_effect * k.support_level
            + k.incubation_learning * (1.0 if incubating else 0.0)
            + k.competition_learning * (1.0 if stage == COMPETING else 0.0)
            + mentoring * (0.0 if incubating else 1.0))


@kernel_jit
def learn(st: Arrays, r: int, k: Context, d: Draws) -> None:
    """Every active slot of row ``r`` closes part of its capability gap, with noise (normal
    ``d.capability[m]``); capability stays in [0, 1]. Changes ``capability``.
    No ledger entries. ODD 'Capability'."""
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        cap = st.capability[r, m]
        new = cap + (1.0 - cap) * learning_rate(k, stage) + CAPABILITY_NOISE * d.capability[m]
        st.capability[r, m] = min(max(new, 0.0), 1.0)


@kernel_jit
def drift_quality(st: Arrays, r: int, k: Context, engagement: np.ndarray) -> None:
    """Quality and social value of every active slot move a share ``adjust_rate`` towards
    targets set by capability, governance and citizens' ``engagement`` (C,), less producer
    capture where citizens have little governance. Both stay in [0, 1]. Changes
    ``quality``, ``social_value``. No ledger entries. ODD 'Capability'."""
    for m in range(k.M):
        if not is_active(st.stage[r, m]):
            continue
        e = engagement[m // k.S]
        governance = st.governance[r, m]
        base_sv = k.social_value_strategic if st.origin[r, m] == STRATEGIC else \
            k.social_value_reactive
        q_target = min(max(k.quality_initial + 0.2 * (st.capability[r, m] - 0.3) + 0.1 * e,
                           0.0), 1.0)
        sv_target = min(max(base_sv + 0.2 * governance * e, 0.0), 1.0)
        capture = k.capture_rate * (1.0 - governance)
        q, sv = st.quality[r, m], st.social_value[r, m]
        st.quality[r, m] = min(max(q + k.adjust_rate * (q_target - q) - capture, 0.0), 1.0)
        st.social_value[r, m] = min(max(sv + k.adjust_rate * (sv_target - sv) - capture,
                                        0.0), 1.0)
