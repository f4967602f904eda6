"""Initialisation (ODD 'Initialisation'): the state at the start of the first year.

Each replication draws its heterogeneity (service values, capability at proposal, firm
attributes, citizens' propensity) from its own generator, in a fixed order, before any yearly
draw.
"""

from __future__ import annotations

import numpy as np

from ..state import NONE, State
from .context import Context


def initial_state(k: Context, gens: list[np.random.Generator]) -> State:
    """The state of ``len(gens)`` replications at the start of the first year.

    Each generator draws, in this order, normals for the service values v0 (M,), the
    capability at proposal (M,), the firms' cost, quality, social value and financial
    standing (4, B), the citizens' propensity (C, K) and each slot's cost position (M,).
    v0 is lognormal around ``contract_value`` (GBP m/yr); shares are kept in [0.02, 0.98];
    the cost position (the unit-cost factor a mutual starts with, ``cost_position_sd``) in
    [0.5, 1.5]; the back-office overhead starts at ``backoffice_overhead`` x v0.
    ODD 'Initialisation'.
    """
    R, C, M, B, K = len(gens), k.C, k.M, k.B, k.K
    z_v0, z_cap = np.empty((R, M)), np.empty((R, M))
    z_firm, z_cit = np.empty((R, 4, B)), np.empty((R, C, K))
    z_cost = np.empty((R, M))
    for i, g in enumerate(gens):
        g.standard_normal(out=z_v0[i])
        g.standard_normal(out=z_cap[i])
        g.standard_normal(out=z_firm[i])
        g.standard_normal(out=z_cit[i])
        g.standard_normal(out=z_cost[i])

    def clip01(x: np.ndarray) -> np.ndarray:
        return np.clip(x, 0.02, 0.98)

    zeros_m = np.zeros((R, M))
    ck = np.ones((R, C, K))
    v0 = k.contract_value * np.exp(k.contract_value_sdlog * z_v0)
    return State(
        year=k.start_year,
        recession=np.full(R, k.recession_start),
        budget=np.ones((R, C)),
        propensity=clip01(k.citizen_propensity + 0.15 * z_cit),
        engagement=0.3 * ck,
        satisfaction=k.quality_initial * ck,
        citizen_support=0.3 * ck,
        firm_cost=np.clip(1.0 + k.firm_sd * z_firm[:, 0], k.firm_cost_min, k.firm_cost_max),
        firm_quality=clip01(k.private_quality + k.firm_sd * z_firm[:, 1]),
        firm_social=clip01(k.private_social_value + k.firm_sd * z_firm[:, 2]),
        firm_financial=clip01(k.private_financial + k.firm_sd * z_firm[:, 3]),
        firm_contracts=np.zeros((R, B), dtype=np.int32),
        firm_revenue=np.zeros((R, B)),
        v0=v0,
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
        lots_held=np.zeros((R, M), dtype=np.int8),
        extensions=np.zeros((R, M), dtype=np.int8),
        core_volume=zeros_m.copy(),
        core_price=zeros_m.copy(),
        private_value=zeros_m.copy(),
        reserves=zeros_m.copy(),
        assets=zeros_m.copy(),
        capability=zeros_m.copy(),
        quality=zeros_m.copy(),
        social_value=zeros_m.copy(),
        governance=zeros_m.copy(),
        trading_income=zeros_m.copy(),
        external=zeros_m.copy(),
        tenders=np.zeros((R, M), dtype=np.int16),
        tender_wins=np.zeros((R, M), dtype=np.int16),
        parent_share=zeros_m.copy(),
        income=zeros_m.copy(),
        costs=zeros_m.copy(),
        cost_position=np.clip(1.0 + k.cost_position_sd * z_cost, 0.5, 1.5),
        cost_drift=zeros_m.copy(),
        overhead=k.backoffice_overhead * v0,
        cost_shock_loss=zeros_m.copy(),
        income_shock_loss=zeros_m.copy(),
    )
