"""Agents of the reference model: one Python object per agent holding scalar attributes.

The rules are written the way a Mesa user would write them (small verb-named methods, scalar
``math``), independently of the vectorised kernel, so the two can check each other and this
one can serve as the speed baseline. Every method reads only its own agent, its council and
the year's random numbers, and writes only its own agent (and additive totals), so the order
in which agents run within a phase does not matter.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from mutualsim.params import STYLE_PRESETS

if TYPE_CHECKING:
    from .model import ReferenceMarket
    from .mutual import Mutual

# Lifecycle stages, as the histories name them.
IN_HOUSE, PROPOSED, INCUBATING, PROTECTED = "in_house", "proposed", "incubating", "protected"
COMPETING, EXITED, ABANDONED, TAKEN_BACK = "competing", "exited", "abandoned", "taken_back"
TRADING = (PROTECTED, COMPETING)
ACTIVE = (PROTECTED, COMPETING, INCUBATING)
REACTIVE, STRATEGIC = "reactive", "strategic"

# The tender weights, in the order of Scenario.tender_weights (presets: mutualsim.params).
WEIGHT_NAMES = ("price_weight", "quality_weight", "social_weight", "financial_weight")


def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


class Council(mesa.Agent):
    """A commissioning council: its own policy (drawn at set-up), a budget under austerity,
    its services and its citizens."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, u: list[float],
                 z: list[float]) -> None:
        super().__init__(model)
        self.index = index
        self.budget = 1.0
        self.services: list[Mutual] = []
        self.citizens: list[Citizen] = []
        self.choose_policy(u, z)
        # What the council knows this year (set by survey/poll phases).
        self.service_quality = 0.0
        self.has_trading_mutual = False
        self.engagement = 0.0
        self.citizen_support = 0.0
        self.has_provider_contract = False
        self.deterrence = 1.0

    def choose_policy(self, u: list[float], z: list[float]) -> None:
        """Its own style, weights, co-production, risk aversion, support, austerity, keenness
        on spin-outs and lots, from its set-up numbers ``u`` [3] and ``z`` [5]."""
        p = self.model.params
        if p.commissioning_style == "mixed":
            self.style = ("cost_led" if u[0] < p.cost_led_share else
                          "cooperative" if u[0] < p.cost_led_share + p.cooperative_share
                          else "strategic")
            spread = p.council_policy_sd
        else:
            self.style, spread = p.commissioning_style, 0.0
        preset = STYLE_PRESETS[self.style]
        raw = [preset[n] if getattr(p, n) is None else getattr(p, n) for n in WEIGHT_NAMES]
        total = raw[0] + raw[1] + raw[2] + raw[3]
        self.weights = tuple(w / total for w in raw)
        self.coproduction = (p.coproduction if p.coproduction is not None
                             else clip(preset["coproduction"] + spread * z[0], 0.0, 1.0))
        self.risk_aversion = (p.risk_aversion if p.risk_aversion is not None
                              else clip(preset["risk_aversion"] + spread * z[1], 0.0, 1.0))
        self.business_support = clip(p.support_level + p.support_level_sd * z[2], 0.0, 1.0)
        self.austerity = max(p.austerity_rate + p.austerity_rate_sd * z[3], 0.0)
        sd = p.spinout_propensity_sdlog
        self.supports_spinouts = not u[2] < p.unsupportive_council_share
        self.propensity = math.exp(sd * z[4] - 0.5 * sd * sd) if self.supports_spinouts else 0.0
        if p.lots >= 2:
            self.lots = p.lots
        else:
            self.lots = p.lots_split if u[1] < p.lot_split_share else 1

    def cut_budget(self) -> None:
        """Its own austerity for a number of years, plus an occasional council-level shock."""
        p, m = self.model.params, self.model
        cut = self.austerity if m.year_index < p.austerity_years else 0.0
        shock = p.shock_size if m.u["shock"][self.index] < p.shock_prob else 0.0
        self.budget = max(self.budget * (1.0 - cut) * (1.0 - shock), p.budget_floor)

    def recent_failure(self) -> bool:
        """One of its mutuals exited in the last ``failure_deterrence_years`` years (before
        this one)."""
        p, year = self.model.params, self.model.year
        return any(s.exit_year >= 0 and 0 < year - s.exit_year <= p.failure_deterrence_years
                   for s in self.services)

    def review_failures(self) -> None:
        """Failures of its own and its neighbours' mutuals make it warier of spin-outs."""
        p, councils = self.model.params, self.model.councils_in_order
        n = len(councils)
        self.deterrence = 1.0
        if self.recent_failure():
            self.deterrence *= 1.0 - p.failure_deterrence
        neighbours = {(self.index - 1) % n, (self.index + 1) % n} - {self.index}
        if any(councils[i].recent_failure() for i in neighbours):
            self.deterrence *= 1.0 - p.neighbour_deterrence_share * p.failure_deterrence

    def bear_stranded_costs(self) -> None:
        """The back office it keeps for services spun out in the last few years."""
        p, m = self.model.params, self.model
        for s in self.services:
            if s.spinout_year >= 0 and 0 <= m.year - s.spinout_year < p.stranded_years:
                m.tally("council_spend", p.stranded_cost * s.v0)

    def survey_services(self) -> None:
        """Quality of its services as citizens experience them, before this year's changes."""
        total = 0.0
        for service in self.services:
            total += service.experienced_quality()
        self.service_quality = total / len(self.services)
        self.has_trading_mutual = any(s.stage in TRADING for s in self.services)

    def survey_providers(self) -> None:
        """Whether a large provider holds one of its contracts (after this year's tenders):
        under mentoring clauses it mentors the council's fledgling mutuals."""
        self.has_provider_contract = any(s.private_value > 0 for s in self.services)

    def poll_citizens(self) -> None:
        """Mean engagement and support of its citizens, after they responded this year."""
        n = len(self.citizens)
        self.engagement = sum(c.engagement for c in self.citizens) / n
        self.citizen_support = sum(c.support for c in self.citizens) / n


class Citizen(mesa.Agent):
    """A representative resident: engages with co-production, judges quality, backs mutuals."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, council: Council, k: int, z: float) -> None:
        super().__init__(model)
        self.council, self.k = council, k
        p = model.params
        self.propensity = clip(p.citizen_propensity + p.citizen_propensity_sd * z,
                               p.score_min, p.score_max)
        self.engagement = p.engagement_initial
        self.satisfaction = p.quality_initial
        self.support = p.citizen_support_initial

    def respond(self) -> None:
        m, p = self.model, self.model.params
        a = p.citizen_adjust
        noise = m.n["citizen"][self.council.index][self.k]
        floor = p.engagement_coproduction_floor
        target_e = self.propensity * (floor + (1.0 - floor) * self.council.coproduction)
        self.engagement = clip(self.engagement + a * (target_e - self.engagement)
                               + p.engagement_noise * noise, 0.0, 1.0)
        self.satisfaction = self.satisfaction + a * (self.council.service_quality
                                                     - self.satisfaction)
        w = p.support_satisfaction_weight
        target_s = (w * self.satisfaction + (1.0 - w) * self.engagement
                    if self.council.has_trading_mutual else 0.0)
        self.support = self.support + a * (target_s - self.support)


class PrivateBidder(mesa.Agent):
    """A large provider: fixed unit cost, quality, social value and financial standing."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, z: tuple[float, ...]) -> None:
        super().__init__(model)
        p = model.params
        self.index = index
        lo, hi = p.score_min, p.score_max
        self.cost = clip(1.0 + p.firm_sd * z[0], p.firm_cost_min, p.firm_cost_max)
        self.quality = clip(p.private_quality + p.firm_sd * z[1], lo, hi)
        self.social = clip(p.private_social_value + p.firm_sd * z[2], lo, hi)
        self.financial = clip(p.private_financial + p.firm_sd * z[3], lo, hi)
        self.contracts = 0
        self.revenue = 0.0

    def unit_cost(self, scale: float) -> float:
        """Cost per unit of a lot, cheaper for big lots (``scale`` from the lot size)."""
        return self.model.params.private_unit_cost * self.cost * scale

    def win(self, value: float) -> None:
        self.contracts += 1
        self.revenue += value
