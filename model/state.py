"""The model's state: struct-of-arrays with the replication as the first axis.

Mutual rows are a fixed capacity of ``councils * services_per_council`` slots per
replication: slot ``m`` is service ``m % S`` of council ``m // S``. A slot is proposed for
spin-out at most once, so a slot *is* a mutual's identity (``mutual_id``); ``stage`` masks
which slots are live. Mesa agents are views onto rows of these arrays.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, fields

import numpy as np

from .params import Scenario

# Lifecycle stages of a slot (DESIGN §2: proposed -> incubating -> protected -> competing ->
# exited). ABANDONED and TAKEN_BACK are proposals that never became an independent mutual.
NONE, PROPOSED, INCUBATING, PROTECTED, COMPETING, EXITED, ABANDONED, TAKEN_BACK = range(8)
STAGE_NAMES = ("in_house", "proposed", "incubating", "protected", "competing", "exited",
               "abandoned", "taken_back")
TRADING = (PROTECTED, COMPETING)

# Council commissioning styles (the order of params.STYLE_PRESETS).
COUNCIL_STYLES = ("cost_led", "strategic", "cooperative")

REACTIVE, STRATEGIC = 0, 1

# ``open_year`` of a service that is never a candidate for spin-out (a council file's
# ``candidate = false``); -1 (every default slot) = open from the first year.
NEVER = int(np.iinfo(np.int16).max)
ORIGIN_NAMES = ("reactive", "strategic")

# Exit causes (0 = none / censored), each named by the mechanism that caused it
# (ODD 'Exits'): insolvency from a structural deficit (cost position, price, austerity);
# wind-down without a core contract; takeover; insolvency that would not have happened
# without the shocks to costs (pay drift, pension revaluations) or to income (volumes,
# trading income in a recession) since spin-out; insolvency after losing the core contract.
(NO_EXIT, INSOLVENCY, WIND_DOWN, TAKEOVER, INSOLVENCY_COST_SHOCK, INSOLVENCY_INCOME_SHOCK,
 INSOLVENCY_LOST_CONTRACT) = range(7)
CAUSE_NAMES = ("", "insolvency", "wind_down", "takeover", "insolvency_cost_shock",
               "insolvency_income_shock", "insolvency_lost_contract")
INSOLVENCIES = (INSOLVENCY, INSOLVENCY_COST_SHOCK, INSOLVENCY_INCOME_SHOCK,
                INSOLVENCY_LOST_CONTRACT)

# Outcome of the Teckal phase.
INC_NONE, INC_SPUN_OUT, INC_TAKEN_BACK = range(3)
INCUBATION_NAMES = ("not_incubated", "spun_out", "taken_back")


@dataclass
class State:
    """All mutable arrays of a batch of replications (shapes in the comments)."""

    year: int                       # calendar year of the next step
    # economy and councils
    recession: np.ndarray           # (R,) bool
    budget: np.ndarray              # (R, C) commissioning budget index, 1.0 at start
    # councils as a population: each council's own policy, drawn at set-up (ODD 'Councils')
    council_style: np.ndarray       # (R, C) int8 index into COUNCIL_STYLES
    council_w_price: np.ndarray     # (R, C) normalised tender weights (sum to 1)
    council_w_quality: np.ndarray   # (R, C)
    council_w_social: np.ndarray    # (R, C)
    council_w_financial: np.ndarray  # (R, C)
    council_coproduction: np.ndarray  # (R, C) [0, 1]
    council_risk_aversion: np.ndarray  # (R, C) [0, 1]
    council_support: np.ndarray     # (R, C) business-support capability [0, 1]
    council_austerity: np.ndarray   # (R, C) yearly real-terms budget cut while austerity lasts
    council_propensity: np.ndarray  # (R, C) factor on proposal probabilities; 0 = unsupportive
    council_lots: np.ndarray        # (R, C) int16 lots the council splits a contract into
    # citizens
    propensity: np.ndarray          # (R, C, K) fixed propensity to engage
    engagement: np.ndarray          # (R, C, K)
    satisfaction: np.ndarray        # (R, C, K)
    citizen_support: np.ndarray     # (R, C, K) citizens' support for the council's mutuals
    # private bidders
    firm_cost: np.ndarray           # (R, B) unit-cost factor (x private_unit_cost)
    firm_quality: np.ndarray        # (R, B)
    firm_social: np.ndarray         # (R, B)
    firm_financial: np.ndarray      # (R, B)
    firm_contracts: np.ndarray      # (R, B) lots won
    firm_revenue: np.ndarray        # (R, B) annual value of contracts won, GBP m
    # service slots / mutuals
    v0: np.ndarray                  # (R, M) baseline annual value, GBP m
    staff_interest: np.ndarray      # (R, M) factor on bottom-up proposals (1 = typical)
    open_year: np.ndarray           # (R, M) int16 first proposal year; NEVER = not a candidate
    cap0: np.ndarray                # (R, M) capability at proposal
    stage: np.ndarray               # (R, M) int8
    origin: np.ndarray              # (R, M) int8, -1 before proposal
    proposal_year: np.ndarray       # (R, M) int16, -1 = never
    spinout_year: np.ndarray        # (R, M) int16, -1 = never
    exit_year: np.ndarray           # (R, M) int16, -1 = never
    exit_cause: np.ndarray          # (R, M) int8
    incubation_outcome: np.ndarray  # (R, M) int8
    teckal_end: np.ndarray          # (R, M) int16 year incubation ends
    next_tender: np.ndarray         # (R, M) int16 year the core contract is next tendered
    contract_lost_year: np.ndarray  # (R, M) int16 year a mutual lost its core contract at a
    #                                 tender (won no lot; never regained), -1 = never
    lots_held: np.ndarray           # (R, M) int8 lots of its core contract a mutual holds
    extensions: np.ndarray          # (R, M) int8 extensions since the last tender
    core_volume: np.ndarray         # (R, M) volume of the core contract held, GBP m at unit cost 1
    core_price: np.ndarray          # (R, M) unit price of the core contract
    private_value: np.ndarray       # (R, M) annual value of the slot's service held privately
    reserves: np.ndarray            # (R, M) GBP m
    assets: np.ndarray              # (R, M) GBP m transferred at spin-out
    capability: np.ndarray          # (R, M) [0, 1]
    quality: np.ndarray             # (R, M) [0, 1]
    social_value: np.ndarray        # (R, M) [0, 1]
    governance: np.ndarray          # (R, M) citizens' share of governance
    trading_income: np.ndarray      # (R, M) trading income, GBP m/yr
    external: np.ndarray            # (R, M) contracts-elsewhere income, GBP m/yr
    tenders: np.ndarray             # (R, M) core tenders faced
    tender_wins: np.ndarray         # (R, M) core tenders won (any lot)
    parent_share: np.ndarray        # (R, M) parent-council share of income, last trading year
    income: np.ndarray              # (R, M) total income in the last active year, GBP m
    costs: np.ndarray               # (R, M) total costs in the last active year, GBP m
    cost_position: np.ndarray       # (R, M) unit-cost factor drawn at set-up (1 = average)
    cost_drift: np.ndarray          # (R, M) change of the unit-cost factor since spin-out
    overhead: np.ndarray            # (R, M) back-office overhead, GBP m/yr
    cost_shock_loss: np.ndarray     # (R, M) reserves lost to cost shocks since spin-out, GBP m
    income_shock_loss: np.ndarray   # (R, M) reserves lost to income shocks since spin-out, GBP m

    @property
    def shape(self) -> tuple[int, int]:
        return self.stage.shape

    def arrays(self) -> Arrays:
        """The same arrays (not copies) as a namedtuple the compiled kernel can take; the
        kernel changes them in place."""
        return Arrays(*(getattr(self, name) for name in ARRAY_FIELDS))

    def take(self, rows: np.ndarray | slice) -> State:
        """The state of a subset of replications (copies)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v[rows].copy() if isinstance(v, np.ndarray) else v
        return State(**out)


ARRAY_FIELDS = tuple(f.name for f in fields(State) if f.name != "year")
Arrays = namedtuple("Arrays", ARRAY_FIELDS)


def slot_council(scenario: Scenario) -> np.ndarray:
    """Council index of each slot (M,)."""
    return np.repeat(np.arange(scenario.councils), scenario.services_per_council)
