"""Agents of the reference model: one Python object per agent holding scalar attributes.

The rules are written the way a Mesa user would write them (small verb-named methods, scalar
``math``), independently of the vectorised kernel, so the two can check each other and this
one can serve as the speed baseline. Every method reads only its own agent, its council and
the year's random numbers, and writes only its own agent (and additive totals), so the order
in which agents run within a phase does not matter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from .model import ReferenceMarket
    from .mutual import Mutual

# Lifecycle stages, as the histories name them.
IN_HOUSE, PROPOSED, INCUBATING, PROTECTED = "in_house", "proposed", "incubating", "protected"
COMPETING, EXITED, ABANDONED, TAKEN_BACK = "competing", "exited", "abandoned", "taken_back"
TRADING = (PROTECTED, COMPETING)
ACTIVE = (PROTECTED, COMPETING, INCUBATING)
REACTIVE, STRATEGIC = "reactive", "strategic"

# Fixed constants of the rules (kept here, not imported, so a change in the kernel shows up).
BUDGET_FLOOR = 0.2
ENGAGEMENT_NOISE = 0.05
INHOUSE_QUALITY_DRIFT = 0.1
INHOUSE_SOCIAL_VALUE = 0.45


def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


class Council(mesa.Agent):
    """A commissioning council: a budget under austerity, its services and its citizens."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.budget = 1.0
        self.services: list[Mutual] = []
        self.citizens: list[Citizen] = []
        # What the council knows this year (set by survey/poll phases).
        self.service_quality = 0.0
        self.has_trading_mutual = False
        self.engagement = 0.0
        self.citizen_support = 0.0
        self.has_provider_contract = False

    def cut_budget(self) -> None:
        """Austerity for a number of years, plus an occasional council-level shock."""
        p, m = self.model.params, self.model
        cut = p.austerity_rate if m.year_index < p.austerity_years else 0.0
        shock = p.shock_size if m.u["shock"][self.index] < p.shock_prob else 0.0
        self.budget = max(self.budget * (1.0 - cut) * (1.0 - shock), BUDGET_FLOOR)

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
        self.propensity = clip(p.citizen_propensity + 0.15 * z, 0.02, 0.98)
        self.engagement = 0.3
        self.satisfaction = p.quality_initial
        self.support = 0.3

    def respond(self) -> None:
        m = self.model
        a = m.params.citizen_adjust
        noise = m.n["citizen"][self.council.index][self.k]
        target_e = self.propensity * (0.4 + 0.6 * m.coproduction)
        self.engagement = clip(self.engagement + a * (target_e - self.engagement)
                               + ENGAGEMENT_NOISE * noise, 0.0, 1.0)
        self.satisfaction = self.satisfaction + a * (self.council.service_quality
                                                     - self.satisfaction)
        target_s = (0.5 * self.satisfaction + 0.5 * self.engagement
                    if self.council.has_trading_mutual else 0.0)
        self.support = self.support + a * (target_s - self.support)


class PrivateBidder(mesa.Agent):
    """A large provider: fixed unit cost, quality, social value and financial standing."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, z: tuple[float, ...]) -> None:
        super().__init__(model)
        p = model.params
        self.index = index
        self.cost = clip(1.0 + p.firm_sd * z[0], p.firm_cost_min, p.firm_cost_max)
        self.quality = clip(p.private_quality + p.firm_sd * z[1], 0.02, 0.98)
        self.social = clip(p.private_social_value + p.firm_sd * z[2], 0.02, 0.98)
        self.financial = clip(p.private_financial + p.firm_sd * z[3], 0.02, 0.98)
        self.contracts = 0
        self.revenue = 0.0

    def unit_cost(self, scale: float) -> float:
        """Cost per unit of a lot, cheaper for big lots (``scale`` from the lot size)."""
        return self.model.params.private_unit_cost * self.cost * scale

    def win(self, value: float) -> None:
        self.contracts += 1
        self.revenue += value
