"""The service slot that may become a mutual, through its whole lifecycle.

One agent per council service from the start (a service is proposed at most once, so the
slot is the mutual's identity). Each yearly phase is one method; a method returns at once
when the rule does not apply to the slot's stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from .agents import (
    ABANDONED,
    ACTIVE,
    CAPABILITY_NOISE,
    COMPETING,
    EXITED,
    IN_HOUSE,
    INCUBATING,
    INHOUSE_SOCIAL_VALUE,
    PROPOSED,
    PROTECTED,
    REACTIVE,
    STRATEGIC,
    SUPPORTED_YEARS,
    TAKEN_BACK,
    TRADING,
    TRADING_NOISE,
    Council,
    PrivateBidder,
    clip,
)

if TYPE_CHECKING:
    from .model import ReferenceMarket


class Mutual(mesa.Agent):
    """A council service: in-house, proposed, incubated, trading as a mutual, or gone."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, council: Council, v0: float,
                 cap0: float) -> None:
        super().__init__(model)
        self.index, self.council, self.v0, self.cap0 = index, council, v0, cap0
        self.stage = IN_HOUSE
        self.origin: str | None = None
        self.proposal_year = self.spinout_year = self.exit_year = -1
        self.exit_cause: str | None = None
        self.incubation = "not_incubated"
        self.teckal_end = self.next_tender = -1
        self.core_volume = self.core_price = self.private_value = 0.0
        self.reserves = self.assets = 0.0
        self.capability = self.quality = self.social_value = self.governance = 0.0
        self.trading = self.external = 0.0
        self.tenders = self.tender_wins = 0
        self.parent_share = self.income = self.costs = 0.0

    # --- helpers -------------------------------------------------------------------------------
    @property
    def is_trading(self) -> bool:
        return self.stage in TRADING

    def experienced_quality(self) -> float:
        """What citizens get: the mutual's quality, a private firm's, or in-house."""
        p = self.model.params
        if self.stage in (PROTECTED, COMPETING, INCUBATING) and self.core_volume > 0:
            return self.quality
        if self.private_value > 0:
            return p.private_quality
        return p.quality_initial - p.inhouse_quality_drift * (1.0 - self.council.budget)

    def unit_cost(self) -> float:
        """Variable cost per unit: pensions up, capability and volunteers down."""
        p, c = self.model.params, self.council
        volunteers = p.volunteering_saving * (c.support * c.engagement)
        return ((1.0 - p.backoffice_overhead) * (1.0 + p.pension_overhead)
                * (1.0 - p.efficiency_max * self.capability) - volunteers)

    def overhead(self) -> float:
        return self.model.params.backoffice_overhead * self.v0

    # --- pipeline ------------------------------------------------------------------------------
    def consider_proposal(self) -> None:
        """An in-house service may be proposed: reactive to cuts or strategic from below
        where the council backs spin-outs, else by staff under the Right to Challenge."""
        if self.stage != IN_HOUSE:
            return
        m, p, c = self.model, self.model.params, self.council
        boost = (1.0 + p.programme_proposal_effect
                 if p.programme_start_year <= m.year <= p.programme_end_year else 1.0)
        if c.supports_spinouts:
            pressure = 1.0 - c.budget
            keen = c.propensity * c.deterrence * boost
            p_reactive = min(p.reactive_prob * (1.0 + p.budget_pressure_sensitivity * pressure)
                             * (1.0 - p.reactive_coproduction_damping * c.coproduction) * keen,
                             1.0)
            p_strategic = (p.strategic_prob * c.engagement
                           * (p.strategic_coproduction_base + c.coproduction) * keen)
        else:
            p_reactive = 0.0
            p_strategic = (p.right_to_challenge_prob * c.engagement * boost
                           if m.year >= p.right_to_challenge_year else 0.0)
        u = m.u["propose"][self.index]
        if u < p_reactive:
            self.propose(REACTIVE)
        elif u < p_reactive + p_strategic:
            self.propose(STRATEGIC)

    def propose(self, origin: str) -> None:
        m, p = self.model, self.model.params
        strategic = origin == STRATEGIC
        self.stage, self.origin, self.proposal_year = PROPOSED, origin, m.year
        mean_cap = p.capability_strategic if strategic else p.capability_reactive
        self.capability = clip(mean_cap + p.capability_sd * self.cap0, p.capability_min,
                               p.capability_max)
        self.quality = p.quality_initial
        self.social_value = p.social_value_strategic if strategic else p.social_value_reactive
        self.governance = p.governance_strategic if strategic else p.governance_reactive
        m.tally("proposals", 1)

    def prepare(self) -> None:
        """A proposal from an earlier year completes, is abandoned, or carries on."""
        m, p, c = self.model, self.model.params, self.council
        if self.stage != PROPOSED or self.proposal_year == m.year:
            return
        support = c.business_support if c.supports_spinouts else 0.0
        boost = (1.0 + p.programme_completion_effect
                 if p.programme_start_year <= m.year <= p.programme_end_year else 1.0)
        base = p.abandon_strategic_prob if self.origin == STRATEGIC else p.abandon_reactive_prob
        p_abandon = min(base * (1.0 - p.abandon_support_damping * support)
                        * (p.abandon_risk_base + c.risk_aversion), 1.0)
        p_complete = min(p.prep_completion_prob * (p.completion_support_base
                                              + p.completion_support_gain * support) * boost,
                         1.0 - p_abandon)
        m.tally("council_spend", p.prep_cost * self.v0)
        u = m.u["prep"][self.index]
        if u < p_abandon:
            self.stage = ABANDONED
            m.tally("abandoned", 1)
        elif u >= 1.0 - p_complete:
            if p.incubation_years > 0:
                self.start_incubation()
            else:
                self.spin_out(incubated=False)

    def start_incubation(self) -> None:
        """A Teckal company: arm's-length, still controlled, sheltered from competition."""
        m, p = self.model, self.model.params
        self.stage = INCUBATING
        self.teckal_end = m.year + p.incubation_years
        self.core_volume = self.v0 * self.council.budget
        self.core_price = 1.0
        self.reserves = p.dowry * self.v0
        self.trading = p.trading_start * self.v0

    def viability(self) -> float:
        reserve_score = clip(self.reserves / (0.1 * self.v0), 0.0, 1.0)
        return 0.5 * self.capability + 0.25 * self.quality + 0.25 * reserve_score

    def end_incubation(self) -> None:
        """At the end of incubation the council spins it out, or takes the service back."""
        m, p = self.model, self.model.params
        if self.stage != INCUBATING or self.teckal_end != m.year:
            return
        if self.viability() >= p.takeback_threshold * (0.7 + 0.5 * m.risk_aversion):
            self.spin_out(incubated=True)
        else:
            self.stage, self.incubation, self.core_volume = TAKEN_BACK, "taken_back", 0.0
            m.tally("taken_back", 1)

    def spin_out(self, incubated: bool) -> None:
        """Independence: the protected contract starts (tendered at once with no protection)."""
        m, p = self.model, self.model.params
        self.stage = PROTECTED if p.protection_years > 0 else COMPETING
        self.spinout_year = m.year
        self.next_tender = m.year + p.protection_years
        if incubated:
            self.incubation = "spun_out"
        else:
            self.reserves = p.dowry * self.v0
            self.trading = p.trading_start * self.v0
        discount = 1.0 - p.reactive_saving if self.origin == REACTIVE else 1.0
        self.core_volume = self.v0 * self.council.budget
        self.core_price = p.initial_price * discount
        self.assets = p.asset_transfer * self.v0
        m.tally("spinouts", 1)

    # --- tendering -----------------------------------------------------------------------------
    def face_tender(self) -> None:
        """If the core contract expires this year, the council tenders it in lots."""
        m, p = self.model, self.model.params
        if not (self.stage in TRADING and self.core_volume > 0 and self.next_tender == m.year):
            return
        budget = self.council.budget
        volume = self.v0 * budget
        lot = volume / self.council.lots
        ceiling = 1.0 - p.price_squeeze * (1.0 - budget)
        bid_m = min((self.unit_cost() + self.overhead() / volume) * (1.0 + p.mutual_margin),
                    ceiling)
        bid_u, noise = m.tender_numbers(self.index)
        offers = self.private_offers(lot, ceiling, bid_u)
        w_price, w_quality, w_social, w_fin = self.tender_weights()
        best = min([bid_m] + [price for _, price in offers])
        standing = self.financial_standing()
        score_m = (w_price * best / bid_m + w_quality * self.quality
                   + w_social * self.social_value + w_fin * standing + p.incumbency_bonus)
        scored = [(firm, price, w_price * best / price + w_quality * firm.quality
                   + w_social * firm.social + w_fin * firm.financial) for firm, price in offers]
        won, private_value = 0, 0.0
        for lot_index in range(self.council.lots):
            mine = score_m + p.eval_noise * noise[0][lot_index]
            winner, winner_price, top = None, 0.0, float("-inf")
            for firm, price, score in scored:
                score = score + p.eval_noise * noise[1 + firm.index][lot_index]
                if score > top:
                    winner, winner_price, top = firm, price, score
            if mine >= top:
                won += 1
            elif winner is not None:
                value = winner_price * lot
                private_value += value
                winner.win(value)
        self.award(lot, won, bid_m, private_value)

    def private_offers(self, lot: float, ceiling: float, u: list[float]
                       ) -> list[tuple[PrivateBidder, float]]:
        """Firms that choose to bid (``u``: one uniform per firm) and can deliver under the
        ceiling, with their prices."""
        m, p = self.model, self.model.params
        scale = (lot / p.reference_lot) ** (-p.scale_elasticity)
        offers = []
        for firm in m.bidders_in_order:
            cost = firm.unit_cost(scale)
            if u[firm.index] < p.private_bid_prob and cost <= ceiling:
                offers.append((firm, min(cost * (1.0 + p.private_margin), ceiling)))
        return offers

    def tender_weights(self) -> tuple[float, float, float, float]:
        """The council's own weights: austerity tilts to price, its co-production to quality
        and social value, its risk aversion to financial standing."""
        p, c = self.model.params, self.council
        wp, wq, ws, wf = c.weights
        tilt = 1.0 + p.coproduction_weight_shift * c.coproduction * c.engagement
        w = (wp * (1.0 + p.austerity_price_shift * (1.0 - c.budget)),
             wq * tilt, ws * tilt, wf * (p.financial_weight_risk_base + c.risk_aversion))
        total = w[0] + w[1] + w[2] + w[3]
        return w[0] / total, w[1] / total, w[2] / total, w[3] / total

    def financial_standing(self) -> float:
        record = min((self.model.year - self.spinout_year) / 10.0, 1.0)
        cushion = clip(self.reserves / (0.15 * self.v0), 0.0, 1.0)
        return 0.2 + 0.4 * record + 0.4 * cushion

    def award(self, lot: float, won: int, bid: float, private_value: float) -> None:
        m, p = self.model, self.model.params
        kept = won > 0
        self.core_volume = lot * won
        self.core_price = bid if kept else 0.0
        self.next_tender = m.year + p.contract_years if kept else -1
        self.stage = COMPETING
        self.tenders += 1
        self.tender_wins += kept
        self.private_value = private_value
        m.tally("tenders", 1)
        m.tally("mutual_tender_wins", kept)

    # --- income and accounts -------------------------------------------------------------------
    def grow_income(self) -> None:
        """Contracts elsewhere come and go; trading income grows logistically."""
        m, p = self.model, self.model.params
        trading, incubating = self.stage in TRADING, self.stage == INCUBATING
        if trading:
            win = m.u["external"][self.index] < p.external_win_rate * self.capability
            self.external = (self.external * (1.0 - p.external_churn)
                             + (p.external_size * self.v0 if win else 0.0))
        else:
            self.external = 0.0
        if not (trading or incubating):
            return
        growth = (p.trading_growth * self.capability
                  + p.citizen_demand_effect * self.council.support
                  - (p.recession_trading_penalty if m.recession else 0.0)
                  + TRADING_NOISE * m.n["trading"][self.index])
        cap = max(p.trading_cap * self.v0, 1e-12)
        self.trading = max(self.trading + growth * self.trading * (1.0 - self.trading / cap),
                           0.0)
        if incubating:
            self.respect_teckal_limit()

    def respect_teckal_limit(self) -> None:
        """A Teckal company's outside income is at most (1 - limit) of its activity."""
        limit_share = self.model.params.teckal_activity_limit
        volume = self.v0 * self.council.budget   # this year's sheltered contract
        limit = self.core_price * volume * (1.0 - limit_share) / limit_share
        outside = self.trading + self.external
        if outside > limit:
            scale = limit / max(outside, 1e-300)
            self.trading, self.external = self.trading * scale, self.external * scale

    def settle_accounts(self) -> None:
        """Income minus costs into reserves; the council pays the contract and support."""
        if self.stage not in (PROTECTED, COMPETING, INCUBATING):
            return
        m, p = self.model, self.model.params
        trading = self.stage in TRADING
        if self.stage in (PROTECTED, INCUBATING):  # sheltered contracts follow the budget
            self.core_volume = self.v0 * self.council.budget
        core = self.core_price * self.core_volume
        grant = (p.grant_size * self.v0
                 if trading and m.u["grant"][self.index] < p.grant_prob else 0.0)
        income = core + self.external + self.trading + grant
        costs = (self.unit_cost() * self.core_volume
                 + self.external / (1.0 + p.external_margin)
                 + self.trading * (1.0 - p.trading_margin)
                 + self.overhead())
        self.income, self.costs = income, costs
        self.reserves = self.reserves + (income - costs)
        self.parent_share = core / max(income, 1e-12)
        if trading:
            m.tally("core_income", core)
            m.tally("external_income", self.external)
            m.tally("trading_income", self.trading)
            m.tally("grant_income", grant)
        m.tally("council_spend", core)
        if not trading or m.year - self.spinout_year < SUPPORTED_YEARS:
            m.tally("council_spend", p.support_cost * p.support_level * self.v0)

    # --- capability and quality ----------------------------------------------------------------
    def learn(self) -> None:
        if self.stage not in ACTIVE:
            return
        m, p = self.model, self.model.params
        rate = p.learning_rate + p.support_effect * p.support_level
        if self.stage == INCUBATING:
            rate += p.incubation_learning
        if self.stage == COMPETING:
            rate += p.competition_learning
        if p.mentoring_clauses and self.stage in TRADING:
            rate += p.mentoring_effect
        new = (self.capability + (1.0 - self.capability) * rate
               + CAPABILITY_NOISE * m.n["capability"][self.index])
        self.capability = clip(new, 0.0, 1.0)

    def drift_quality(self) -> None:
        """Towards targets set by capability and engagement, minus producer capture."""
        if self.stage not in ACTIVE:
            return
        p = self.model.params
        e = self.council.engagement
        base_sv = (p.social_value_strategic if self.origin == STRATEGIC
                   else p.social_value_reactive)
        q_target = clip(p.quality_initial + 0.2 * (self.capability - 0.3) + 0.1 * e, 0.0, 1.0)
        sv_target = clip(base_sv + 0.2 * self.governance * e, 0.0, 1.0)
        capture = p.capture_rate * (1.0 - self.governance)
        self.quality = clip(self.quality + p.adjust_rate * (q_target - self.quality) - capture,
                            0.0, 1.0)
        self.social_value = clip(self.social_value
                                 + p.adjust_rate * (sv_target - self.social_value) - capture,
                                 0.0, 1.0)

    # --- exits ---------------------------------------------------------------------------------
    def check_exit(self) -> None:
        """Insolvency, wind-down without a core contract, or takeover while in deficit."""
        if self.stage not in TRADING:
            return
        m, p = self.model, self.model.params
        insolvent = self.reserves < -p.credit_limit * self.income
        no_core = self.core_volume <= 0
        other_net = (self.external * p.external_margin / (1.0 + p.external_margin)
                     + self.trading * p.trading_margin + p.grant_prob * p.grant_size * self.v0)
        wind_down = (not insolvent and no_core
                     and other_net < p.wind_down_threshold * self.overhead())
        p_takeover = p.takeover_rate * (1.0 - (p.asset_lock_deterrence if p.asset_lock else 0.0))
        takeover = (not insolvent and not wind_down and self.reserves < 0
                    and m.u["takeover"][self.index] < p_takeover)
        if insolvent:
            self.exit("insolvency", with_service=not no_core)
        elif wind_down:
            self.exit("wind_down")
        elif takeover:
            self.exit("takeover")

    def exit(self, cause: str, with_service: bool = False) -> None:
        m, p = self.model, self.model.params
        core = self.core_price * self.core_volume
        if with_service:  # the council steps in to keep the service going
            m.tally("step_in_cost", p.step_in_cost * core)
            m.tally("council_spend", p.step_in_cost * core)
            m.tally("service_disruptions", 1)
        if cause == "takeover":  # the acquirer keeps the contract
            self.private_value = self.private_value + core
        community = self.assets + max(self.reserves, 0.0)
        m.tally("assets_preserved" if p.asset_lock else "assets_lost", community)
        self.core_volume, self.next_tender = 0.0, -1
        self.stage, self.exit_year, self.exit_cause = EXITED, m.year, cause
        m.tally(f"exits_{cause}", 1)

    # --- observation ---------------------------------------------------------------------------
    @property
    def in_house(self) -> bool:
        """The council still provides (and pays for) the service itself."""
        return (self.stage in (IN_HOUSE, PROPOSED, ABANDONED, TAKEN_BACK)
                or (self.stage == EXITED and self.private_value <= 0))

    def served_social_value(self) -> float:
        p = self.model.params
        if self.stage in ACTIVE and self.core_volume > 0:
            return self.social_value
        if self.private_value > 0:
            return p.private_social_value
        return INHOUSE_SOCIAL_VALUE
