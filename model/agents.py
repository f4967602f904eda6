"""Mesa agents as views onto rows of the kernel's arrays.

An agent holds only its row index; every attribute reads the model's state, so Mesa's
DataCollector, AgentSet queries and SolaraViz see the kernel's values and no rule lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from .state import CAUSE_NAMES, COUNCIL_STYLES, ORIGIN_NAMES, STAGE_NAMES

if TYPE_CHECKING:
    from .market import MutualMarket


class _View(mesa.Agent):
    """An agent whose state is row ``index`` of the model's arrays (replication 0)."""

    model: MutualMarket

    def __init__(self, model: MutualMarket, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _st(self):
        return self.model.state


class Council(_View):
    """A commissioning council: budget under austerity and its own policy (drawn at set-up)."""

    @property
    def budget(self) -> float:
        return float(self._st.budget[0, self.index])

    @property
    def style(self) -> str:
        return COUNCIL_STYLES[self._st.council_style[0, self.index]]

    @property
    def coproduction(self) -> float:
        return float(self._st.council_coproduction[0, self.index])

    @property
    def risk_aversion(self) -> float:
        return float(self._st.council_risk_aversion[0, self.index])

    @property
    def business_support(self) -> float:
        return float(self._st.council_support[0, self.index])

    @property
    def austerity(self) -> float:
        """Its yearly real-terms budget cut while austerity lasts."""
        return float(self._st.council_austerity[0, self.index])

    @property
    def supports_spinouts(self) -> bool:
        return bool(self._st.council_propensity[0, self.index] > 0)

    @property
    def lots(self) -> int:
        return int(self._st.council_lots[0, self.index])

    @property
    def mutuals(self) -> list[Mutual]:
        """This council's live mutuals (ended ones are in ``model.former_mutuals``)."""
        return [m for m in self.model.agents_by_type[Mutual] if m.council_id == self.index]


class Mutual(_View):
    """A service proposed for spin-out, through its whole lifecycle.

    The agent is created when the service is proposed and removed from the model's agent
    sets when it exits, is abandoned or is taken back (it stays readable in
    ``model.former_mutuals``).
    """

    @property
    def council_id(self) -> int:
        return self.index // self.model.params.services_per_council

    @property
    def stage(self) -> str:
        return STAGE_NAMES[self._st.stage[0, self.index]]

    @property
    def origin(self) -> str:
        return ORIGIN_NAMES[self._st.origin[0, self.index]]

    @property
    def exit_cause(self) -> str:
        return CAUSE_NAMES[self._st.exit_cause[0, self.index]]

    @property
    def spinout_year(self) -> int | None:
        y = int(self._st.spinout_year[0, self.index])
        return None if y < 0 else y

    @property
    def reserves(self) -> float:
        return float(self._st.reserves[0, self.index])

    @property
    def capability(self) -> float:
        return float(self._st.capability[0, self.index])

    @property
    def quality(self) -> float:
        return float(self._st.quality[0, self.index])

    @property
    def social_value(self) -> float:
        return float(self._st.social_value[0, self.index])

    @property
    def income(self) -> float:
        return float(self._st.income[0, self.index])

    @property
    def parent_income_share(self) -> float:
        return float(self._st.parent_share[0, self.index])

    @property
    def trading(self) -> bool:
        return self.stage in ("protected", "competing")


class PrivateBidder(_View):
    """A large established provider bidding in open tenders."""

    @property
    def contracts_won(self) -> int:
        return int(self._st.firm_contracts[0, self.index])

    @property
    def revenue(self) -> float:
        return float(self._st.firm_revenue[0, self.index])

    @property
    def quality(self) -> float:
        return float(self._st.firm_quality[0, self.index])


class Citizen(_View):
    """A representative resident/service user of one council."""

    @property
    def council_id(self) -> int:
        return self.index // self.model.params.citizens_per_council

    def _row(self, arr):
        k = self.model.params.citizens_per_council
        return float(arr[0, self.index // k, self.index % k])

    @property
    def engagement(self) -> float:
        return self._row(self._st.engagement)

    @property
    def satisfaction(self) -> float:
        return self._row(self._st.satisfaction)

    @property
    def support(self) -> float:
        return self._row(self._st.citizen_support)
