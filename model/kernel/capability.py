"""Capability and culture change; quality, social value and producer capture
(ODD 'Capability', DESIGN §3.6 and §3.9).

Spun-out services start with thin business capability (seed 000 §4.3: 'new skills we don't
currently have ... financial management and business capabilities'). Each year a share of the
gap to full capability closes through learning, faster in a Teckal incubator, under
competition, with the council's business support while it is paid for (the first
``business_support_years`` after spin-out, and during incubation), and with mentoring where
the seeds put it: seed 000 §6 has councils that 'need economies of scale with large
contracts' build 'capacity transfer or "mentoring" agreements' into them, 'where the provider
commits to supporting business capacity building in a fledgling mutual'. So mentoring reaches
a mutual in its first ``mentoring_years`` only when mentoring clauses are on and its council
has let a contract to a large provider. Capability lowers unit cost and lifts
quality and trading growth. Quality and social value move towards targets set by capability
and citizens' engagement, but drift towards provider interests where governance lacks
citizens ('producer capture', seed 000 §4.1).
"""

from __future__ import annotations

import numpy as np

from ..jit import kernel_inline
from ..rng import SLOT_CAPABILITY, Draws, slot_normal
from ..state import COMPETING, INCUBATING, STRATEGIC, Arrays
from .context import Context, business_support, is_active
from .finance import business_support_acts


@kernel_inline
def learning_rate(k: Context, stage: int, support: float, mentored: bool) -> float:
    """Share of the gap to full capability closed in a year (probability-free rate, /yr):
    base learning, business support ``support`` in [0, 1] (the council's, 0 when it does
    not act), incubation, competition and mentoring (``mentored``)."""
    return (k.learning_rate
            + k.support_effect * support
            + k.incubation_learning * (1.0 if stage == INCUBATING else 0.0)
            + k.competition_learning * (1.0 if stage == COMPETING else 0.0)
            + k.mentoring_effect * (1.0 if mentored else 0.0))


@kernel_inline
def learn(st: Arrays, r: int, k: Context, d: Draws, year: int) -> None:
    """Every active slot of row ``r`` closes part of its capability gap, with noise
    (``capability_noise`` x the slot's yearly normal SLOT_CAPABILITY,
    :func:`rng.slot_normal`); capability stays in [0, 1].
    Business support acts as :func:`finance.business_support_acts`; mentoring reaches a
    trading mutual in its first ``mentoring_years`` when ``mentoring_clauses`` is on and
    its council has a contract held by a private provider (``private_value`` > 0 in one
    of its slots). Changes ``capability``. No ledger entries. ODD 'Capability'."""
    provider = np.zeros(k.C, dtype=np.bool_)
    for m in range(k.M):
        if st.private_value[r, m] > 0:
            provider[m // k.S] = True
    for m in range(k.M):
        stage = st.stage[r, m]
        if not is_active(stage):
            continue
        c = m // k.S
        independent = stage != INCUBATING
        years = year - st.spinout_year[r, m]
        supported = business_support_acts(k, independent, year, st.spinout_year[r, m])
        support = (business_support(st.council_propensity[r, c], st.council_support[r, c])
                   if supported else 0.0)
        mentored = (k.mentoring_clauses and independent and years < k.mentoring_years
                    and provider[c])
        cap = st.capability[r, m]
        new = (cap + (1.0 - cap) * learning_rate(k, stage, support, mentored)
               + k.capability_noise * slot_normal(d, m, SLOT_CAPABILITY))
        st.capability[r, m] = min(max(new, 0.0), 1.0)


@kernel_inline
def drift_quality(st: Arrays, r: int, k: Context, engagement: np.ndarray) -> None:
    """Quality and social value of every active slot move a share ``adjust_rate`` towards
    targets set by capability, governance and citizens' ``engagement`` (C,), less producer
    capture where citizens have little governance. Quality target: ``quality_initial`` +
    ``quality_capability_effect`` x (capability - ``quality_capability_pivot``) +
    ``quality_engagement_effect`` x engagement; social-value target: the origin's social
    value + ``social_value_governance_effect`` x governance x engagement. Both stay in
    [0, 1]. Changes ``quality``, ``social_value``. No ledger entries. ODD 'Capability'."""
    for m in range(k.M):
        if not is_active(st.stage[r, m]):
            continue
        e = engagement[m // k.S]
        governance = st.governance[r, m]
        base_sv = k.social_value_strategic if st.origin[r, m] == STRATEGIC else \
            k.social_value_reactive
        q_target = min(max(k.quality_initial
                           + k.quality_capability_effect
                           * (st.capability[r, m] - k.quality_capability_pivot)
                           + k.quality_engagement_effect * e, 0.0), 1.0)
        sv_target = min(max(base_sv + k.social_value_governance_effect * governance * e,
                            0.0), 1.0)
        capture = k.capture_rate * (1.0 - governance)
        q, sv = st.quality[r, m], st.social_value[r, m]
        st.quality[r, m] = min(max(q + k.adjust_rate * (q_target - q) - capture, 0.0), 1.0)
        st.social_value[r, m] = min(max(sv + k.adjust_rate * (sv_target - sv) - capture,
                                        0.0), 1.0)
