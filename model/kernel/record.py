"""Observation (ODD 'Observation'): the yearly panel, one row per replication and year."""

from __future__ import annotations

import numpy as np

from ..state import (
    ABANDONED,
    COMPETING,
    EXITED,
    INCUBATING,
    NONE,
    PROPOSED,
    PROTECTED,
    TAKEN_BACK,
    State,
)
from .context import Context, Ledger

INHOUSE_SOCIAL_VALUE = 0.45  # assumption: social value of in-house provision

# Panel columns: ledger flows and end-of-year stocks, in this order.
FLOWS = ("proposals", "abandoned", "taken_back", "spinouts", "exits_insolvency",
         "exits_wind_down", "exits_takeover", "tenders", "mutual_tender_wins", "core_income",
         "external_income", "trading_income", "grant_income", "council_spend", "step_in_cost",
         "service_disruptions", "assets_preserved", "assets_lost")
STOCKS = ("mutuals_trading", "mutuals_protected", "mutuals_incubating", "proposals_pending",
          "mean_parent_income_share", "mean_capability", "total_reserves", "social_value",
          "citizen_satisfaction", "citizen_engagement", "mean_budget", "recession")
COLUMNS = STOCKS + FLOWS


class Recorder:
    """(R, T) arrays filled one year at a time."""

    def __init__(self, R: int, T: int) -> None:
        self.data = {name: np.full((R, T), np.nan) for name in COLUMNS}

    def record(self, t: int, st: State, ctx: Context, led: Ledger) -> None:
        sc = ctx.sc
        trading = (st.stage == PROTECTED) | (st.stage == COMPETING)
        n_trading = trading.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = lambda x: np.where(trading, x, 0.0).sum(axis=1) / n_trading  # noqa: E731
            parent = mean(st.parent_share)
            capability = mean(st.capability)
        inhouse = ((st.stage == NONE) | (st.stage == PROPOSED) | (st.stage == ABANDONED)
                   | (st.stage == TAKEN_BACK) | ((st.stage == EXITED) & (st.private_value <= 0)))
        budget_slot = ctx.per_slot(st.budget)
        led.add("council_spend", (inhouse * st.v0 * budget_slot + st.private_value).sum(axis=1))
        mutual_served = (trading | (st.stage == INCUBATING)) & (st.core_volume > 0)
        private_served = ~mutual_served & (st.private_value > 0)
        sv = np.where(mutual_served, st.social_value,
                      np.where(private_served, sc.private_social_value, INHOUSE_SOCIAL_VALUE))
        stocks = {
            "mutuals_trading": n_trading,
            "mutuals_protected": (st.stage == PROTECTED).sum(axis=1),
            "mutuals_incubating": (st.stage == INCUBATING).sum(axis=1),
            "proposals_pending": (st.stage == PROPOSED).sum(axis=1),
            "mean_parent_income_share": parent,
            "mean_capability": capability,
            "total_reserves": np.where(trading, st.reserves, 0.0).sum(axis=1),
            "social_value": (sv * st.v0).sum(axis=1) / st.v0.sum(axis=1),
            "citizen_satisfaction": st.satisfaction.reshape(st.shape[0], -1).mean(axis=1),
            "citizen_engagement": st.engagement.reshape(st.shape[0], -1).mean(axis=1),
            "mean_budget": st.budget.mean(axis=1),
            "recession": st.recession.astype(float),
        }
        for name, values in stocks.items():
            self.data[name][:, t] = values
        for name in FLOWS:
            self.data[name][:, t] = led.get(name)
