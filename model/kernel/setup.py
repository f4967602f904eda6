"""Initialisation (ODD 'Initialisation', 'Councils'): the state at the start of the first
year.

Each replication draws its heterogeneity (service values, capability at proposal, firm
attributes, citizens' propensity, then each council's policy) from its own generator, in a
fixed order whose size depends only on the scenario's dimensions, before any yearly draw.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..params import STYLE_PRESETS
from ..state import COUNCIL_STYLES, NONE, State
from .context import Context

if TYPE_CHECKING:
    from ..council import Services

# Per-council draws at set-up (after the citizens'): uniforms (C, 3) and normals (C, 5).
U_STYLE, U_LOTS, U_SUPPORTIVE = range(3)
Z_COPRODUCTION, Z_RISK, Z_SUPPORT, Z_AUSTERITY, Z_PROPENSITY = range(5)
WEIGHTS = ("price_weight", "quality_weight", "social_weight", "financial_weight")


def council_policies(k: Context, u: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
    """Each council's own policy from its set-up numbers ``u`` (R, C, 3) uniforms and ``z``
    (R, C, 5) normals: the arrays ``council_*`` of :class:`~mutualsim.state.State`.

    Style: imposed by ``commissioning_style`` unless 'mixed', else cost-led below
    ``cost_led_share``, co-operative below that plus ``cooperative_share``, else strategic.
    Weights, co-production and risk aversion: the scenario's value when set (imposed on
    every council), else the style's preset, co-production and risk aversion spread by
    ``council_policy_sd`` when the style is 'mixed'. Support ~ N(support_level,
    support_level_sd), austerity ~ N(austerity_rate, austerity_rate_sd), both clipped; the
    propensity is 0 (does not support spin-outs) with probability
    ``unsupportive_council_share``, else log-normal with mean 1. Lots: ``lots`` when 2 or
    more, else ``lots_split`` with probability ``lot_split_share``, else 1.
    Sources: seed 000 §4.1-4.2 (councils differ); austerity spread in docs/ODD.md.
    """
    mixed = k.commissioning_style_mixed
    style = np.full(u.shape[:2], k.commissioning_style_index, dtype=np.int8)
    if mixed:
        style = np.where(u[..., U_STYLE] < k.cost_led_share, 0,
                         np.where(u[..., U_STYLE] < k.cost_led_share + k.cooperative_share, 2,
                                  1)).astype(np.int8)

    def preset(name: str) -> np.ndarray:
        return np.array([STYLE_PRESETS[s][name] for s in COUNCIL_STYLES])[style]

    def level(name: str, zi: int) -> np.ndarray:
        value = getattr(k, name + "_set")
        if not math.isnan(value):
            return np.full(style.shape, value)
        spread = k.council_policy_sd if mixed else 0.0
        return np.clip(preset(name) + spread * z[..., zi], 0.0, 1.0)

    w = [np.full(style.shape, getattr(k, n + "_set")) if not math.isnan(getattr(k, n + "_set"))
         else preset(n) for n in WEIGHTS]
    w_sum = w[0] + w[1] + w[2] + w[3]
    sd = k.spinout_propensity_sdlog
    propensity = np.where(u[..., U_SUPPORTIVE] < k.unsupportive_council_share, 0.0,
                          np.exp(sd * z[..., Z_PROPENSITY] - 0.5 * sd * sd))
    if k.lots >= 2:
        lots = np.full(style.shape, k.lots, dtype=np.int16)
    else:
        lots = np.where(u[..., U_LOTS] < k.lot_split_share, k.lots_split, 1).astype(np.int16)
    return dict(
        council_style=style,
        council_w_price=w[0] / w_sum, council_w_quality=w[1] / w_sum,
        council_w_social=w[2] / w_sum, council_w_financial=w[3] / w_sum,
        council_coproduction=level("coproduction", Z_COPRODUCTION),
        council_risk_aversion=level("risk_aversion", Z_RISK),
        council_support=np.clip(k.support_level + k.support_level_sd * z[..., Z_SUPPORT],
                                0.0, 1.0),
        council_austerity=np.maximum(k.austerity_rate + k.austerity_rate_sd
                                     * z[..., Z_AUSTERITY], 0.0),
        council_propensity=propensity,
        council_lots=lots,
    )


def initial_state(k: Context, gens: list[np.random.Generator],
                  services: Services | None = None) -> State:
    """The state of ``len(gens)`` replications at the start of the first year.

    Each generator draws, in this order, normals for the service values v0 (M,), the
    capability at proposal (M,), the firms' cost, quality, social value and financial
    standing (4, B), the citizens' propensity (C, K), each slot's cost position (M,), then
    uniforms (C, 3) and normals (C, 5) for each council's policy (:func:`council_policies`).
    v0 is lognormal around ``contract_value`` (GBP m/yr); drawn shares are kept in
    [score_min, score_max]; the cost position (the unit-cost factor a mutual starts with,
    ``cost_position_sd``) in [``cost_position_min``, ``cost_position_max``]; the back-office
    overhead starts at ``backoffice_overhead`` x v0. Every slot is a candidate open from
    the first year with staff interest 1.

    ``services`` (a council file's services, :class:`mutualsim.council.Services`, one per
    slot of a one-council scenario) then replaces, after the same draws, each slot's v0
    (its published annual value), its cost position (its in-house cost ratio, where given),
    its staff interest and the first year it may be proposed. ODD 'Initialisation',
    'Your own council'.
    """
    R, C, M, B, K = len(gens), k.C, k.M, k.B, k.K
    if services is not None and (C != 1 or len(services) != M):
        raise ValueError(f"a council file's {len(services)} services need a one-council "
                         f"scenario with as many slots; got {C} councils, {M} slots")
    z_v0, z_cap = np.empty((R, M)), np.empty((R, M))
    z_firm, z_cit = np.empty((R, 4, B)), np.empty((R, C, K))
    z_cost = np.empty((R, M))
    u_council, z_council = np.empty((R, C, 3)), np.empty((R, C, 5))
    for i, g in enumerate(gens):
        g.standard_normal(out=z_v0[i])
        g.standard_normal(out=z_cap[i])
        g.standard_normal(out=z_firm[i])
        g.standard_normal(out=z_cit[i])
        g.standard_normal(out=z_cost[i])
        g.random(out=u_council[i])
        g.standard_normal(out=z_council[i])

    def clip01(x: np.ndarray) -> np.ndarray:
        return np.clip(x, k.score_min, k.score_max)

    ck = np.ones((R, C, K))
    v0 = k.contract_value * np.exp(k.contract_value_sdlog * z_v0)
    cost_position = np.clip(1.0 + k.cost_position_sd * z_cost, k.cost_position_min,
                            k.cost_position_max)
    staff_interest = np.ones((R, M))
    open_year = np.full((R, M), -1, dtype=np.int16)
    if services is not None:
        v0[:] = services.value_m
        given = ~np.isnan(services.cost_ratio)
        cost_position[:, given] = services.cost_ratio[given]
        staff_interest[:] = services.staff_interest
        open_year[:] = services.open_year
    return State(
        year=k.start_year,
        recession=np.full(R, k.recession_start),
        budget=np.ones((R, C)),
        **council_policies(k, u_council, z_council),
        propensity=clip01(k.citizen_propensity + k.citizen_propensity_sd * z_cit),
        engagement=k.engagement_initial * ck,
        satisfaction=k.quality_initial * ck,
        citizen_support=k.citizen_support_initial * ck,
        firm_cost=np.clip(1.0 + k.firm_sd * z_firm[:, 0], k.firm_cost_min, k.firm_cost_max),
        firm_quality=clip01(k.private_quality + k.firm_sd * z_firm[:, 1]),
        firm_social=clip01(k.private_social_value + k.firm_sd * z_firm[:, 2]),
        firm_financial=clip01(k.private_financial + k.firm_sd * z_firm[:, 3]),
        firm_contracts=np.zeros((R, B), dtype=np.int32),
        firm_revenue=np.zeros((R, B)),
        v0=v0,
        staff_interest=staff_interest,
        open_year=open_year,
        cap0=z_cap,
        stage=np.full((R, M), NONE, dtype=np.int8),
        origin=np.full((R, M), -1, dtype=np.int8),
        proposal_year=np.full((R, M), -1, dtype=np.int16),
        spinout_year=np.full((R, M), -1, dtype=np.int16),
        exit_year=np.full((R, M), -1, dtype=np.int16),
        exit_cause=np.zeros((R, M), dtype=np.int8),
        incubation_outcome=np.zeros((R, M), dtype=np.int8),
        teckal_end=np.full((R, M), -1, dtype=np.int16),
        next_tender=np.full((R, M), -1, dtype=np.int16),
        contract_lost_year=np.full((R, M), -1, dtype=np.int16),
        lots_held=np.zeros((R, M), dtype=np.int8),
        extensions=np.zeros((R, M), dtype=np.int8),
        core_volume=np.zeros((R, M)),
        core_price=np.zeros((R, M)),
        private_value=np.zeros((R, M)),
        reserves=np.zeros((R, M)),
        assets=np.zeros((R, M)),
        capability=np.zeros((R, M)),
        quality=np.zeros((R, M)),
        social_value=np.zeros((R, M)),
        governance=np.zeros((R, M)),
        trading_income=np.zeros((R, M)),
        external=np.zeros((R, M)),
        tenders=np.zeros((R, M), dtype=np.int16),
        tender_wins=np.zeros((R, M), dtype=np.int16),
        parent_share=np.zeros((R, M)),
        income=np.zeros((R, M)),
        costs=np.zeros((R, M)),
        cost_position=cost_position,
        cost_drift=np.zeros((R, M)),
        overhead=k.backoffice_overhead * v0,
        cost_shock_loss=np.zeros((R, M)),
        income_shock_loss=np.zeros((R, M)),
    )
