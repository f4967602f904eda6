"""The service slot that may become a mutual, through its whole lifecycle.

One agent per council service from the start (a service is proposed at most once, so the
slot is the mutual's identity). Each yearly phase is one method; a method returns at once
when the rule does not apply to the slot's stage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa

from mutualsim.rng import BREAK, CONTRACT_LENGTH, EXTENSION, PROTECTION

from .agents import (
    ABANDONED,
    ACTIVE,
    COMPETING,
    EXITED,
    IN_HOUSE,
    INCUBATING,
    PROPOSED,
    PROTECTED,
    REACTIVE,
    STRATEGIC,
    TAKEN_BACK,
    TRADING,
    Council,
    PrivateBidder,
    clip,
)

if TYPE_CHECKING:
    from .model import ReferenceMarket


def contract_length(central: int, spread: int, u: float) -> int:
    """A term of central + a whole number uniform on -spread..spread, at least a year."""
    return max(central + math.floor(u * (2 * spread + 1)) - spread, 1)


class Mutual(mesa.Agent):
    """A council service: in-house, proposed, incubated, trading as a mutual, or gone."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, council: Council, v0: float,
                 cap0: float, z_cost: float) -> None:
        super().__init__(model)
        self.index, self.council, self.v0, self.cap0 = index, council, v0, cap0
        self.stage = IN_HOUSE
        self.origin: str | None = None
        self.proposal_year = self.spinout_year = self.exit_year = -1
        self.exit_cause: str | None = None
        self.incubation = "not_incubated"
        self.teckal_end = self.next_tender = -1
        self.contract_lost_year = -1  # the year it won no lot of its core contract
        self.lots_held = self.extensions = 0
        self.core_volume = self.core_price = self.private_value = 0.0
        self.reserves = self.assets = 0.0
        self.capability = self.quality = self.social_value = self.governance = 0.0
        self.trading_income = self.external = 0.0
        self.tenders = self.tender_wins = 0
        self.parent_share = self.income = self.costs = 0.0
        p = model.params
        self.cost_position = clip(1.0 + p.cost_position_sd * z_cost, p.cost_position_min,
                                  p.cost_position_max)
        self.cost_drift = 0.0
        self.back_office = p.backoffice_overhead * v0
        self.cost_shock_loss = self.income_shock_loss = 0.0
        self.staff_interest = 1.0
        self.candidate, self.open_year = True, -1

    def take_council_file_row(self, services: Any, i: int) -> None:
        """Row ``i`` of a council file: its value (GBP m), in-house cost ratio (if given),
        whether it is a candidate, its staff's interest and its contract's end year."""
        self.v0 = float(services.value_m[i])
        self.back_office = self.model.params.backoffice_overhead * self.v0
        ratio = float(services.cost_ratio[i])
        if not math.isnan(ratio):
            self.cost_position = ratio
        self.staff_interest = float(services.staff_interest[i])
        self.candidate = bool(services.candidate[i])
        self.open_year = int(services.open_year[i]) if self.candidate else -1

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

    def average_unit_cost(self) -> float:
        """An average mutual's variable cost per unit: pensions up, capability and
        volunteers down."""
        p, c = self.model.params, self.council
        volunteers = p.volunteering_saving * (c.citizen_support * c.engagement)
        return ((1.0 - p.backoffice_overhead) * (1.0 + p.pension_overhead)
                * (1.0 - p.efficiency_max * self.capability) - volunteers)

    def cost_factor(self) -> float:
        """Its own cost position at spin-out plus the drift since (pay, pensions)."""
        return max(self.cost_position + self.cost_drift, 0.0)

    @property
    def business_support(self) -> float:
        """The council's business support for its spin-outs (none from a council that does
        not back them: Right-to-Challenge staff get no help)."""
        c = self.council
        return c.business_support if c.supports_spinouts else 0.0

    def unit_cost(self) -> float:
        """This mutual's variable cost per unit."""
        return self.average_unit_cost() * self.cost_factor()

    def overhead(self) -> float:
        """The full back office of the service (what the tender bid spreads)."""
        return self.model.params.backoffice_overhead * self.v0

    def business_support_acts(self) -> bool:
        """The council's business support reaches it (and is paid for) this year."""
        p = self.model.params
        return (self.stage == INCUBATING
                or self.model.year - self.spinout_year < p.business_support_years)

    # --- pipeline ------------------------------------------------------------------------------
    def consider_proposal(self) -> None:
        """An in-house service may be proposed: reactive to cuts or strategic from below
        where the council backs spin-outs, else by staff under the Right to Challenge; the
        bottom-up ones scale with its staff's interest. Only a candidate, from the year its
        current contract ends."""
        if self.stage != IN_HOUSE or not self.candidate or self.model.year < self.open_year:
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
                           * (p.strategic_coproduction_base + c.coproduction) * keen
                           * self.staff_interest)
        else:
            p_reactive = 0.0
            p_strategic = (p.right_to_challenge_prob * c.engagement * boost
                           * self.staff_interest if m.year >= p.right_to_challenge_year
                           else 0.0)
        u = m.slot["propose"][self.index]
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
        support = self.business_support
        boost = (1.0 + p.programme_completion_effect
                 if p.programme_start_year <= m.year <= p.programme_end_year else 1.0)
        base = p.abandon_strategic_prob if self.origin == STRATEGIC else p.abandon_reactive_prob
        p_abandon = min(base * (1.0 - p.abandon_support_damping * support)
                        * (p.abandon_risk_base + c.risk_aversion), 1.0)
        p_complete = min(p.prep_completion_prob * (p.completion_support_base
                                              + p.completion_support_gain * support) * boost,
                         1.0 - p_abandon)
        m.tally("council_spend", p.prep_cost * self.v0)
        u = m.slot["prep"][self.index]
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
        self.trading_income = p.trading_start * self.v0

    def viability(self, capability: float, quality: float, standing: float) -> float:
        """The appraisal's score of one option: weighted capability, quality, standing."""
        p = self.model.params
        return (p.viability_capability_weight * capability
                + p.viability_quality_weight * quality + p.viability_reserve_weight * standing)

    def spinout_bar(self) -> float:
        """The best of the in-house and market options (and the floor), times the
        council's risk stance."""
        p = self.model.params
        budget = self.council.budget
        inhouse_quality = p.quality_initial - p.inhouse_quality_drift * (1.0 - budget)
        inhouse = self.viability(p.appraisal_inhouse_capability, inhouse_quality, budget)
        market = self.viability(p.appraisal_market_capability, p.private_quality, 1.0)
        best = max(p.takeback_threshold, inhouse, market)
        return best * (p.takeback_risk_base + p.takeback_risk_slope * self.council.risk_aversion)

    def end_incubation(self) -> None:
        """At the end of incubation the council appraises the company, with an error,
        against its in-house and market options: spun out if it scores at least as well
        (after the risk stance), else the service is taken back."""
        m, p = self.model, self.model.params
        if self.stage != INCUBATING or self.teckal_end != m.year:
            return
        standing = clip(self.reserves / (p.viability_reserve_target * self.v0), 0.0, 1.0)
        appraised = (self.viability(self.capability, self.quality, standing)
                     + p.appraisal_noise_sd * m.slot["appraisal"][self.index])
        if appraised >= self.spinout_bar():
            self.spin_out(incubated=True)
        else:
            self.stage, self.incubation, self.core_volume = TAKEN_BACK, "taken_back", 0.0
            m.tally("taken_back", 1)

    def spin_out(self, incubated: bool) -> None:
        """Independence: the protected contract starts (tendered at once with no protection)."""
        m, p = self.model, self.model.params
        years = p.protection_years
        if years > 0:  # drawn around protection_years, at least one year
            u = m.contract_numbers(self.index)[0][PROTECTION]
            years = contract_length(years, p.protection_years_spread, u)
        self.stage = PROTECTED if years > 0 else COMPETING
        self.spinout_year = m.year
        self.next_tender = m.year + years
        self.lots_held, self.extensions = 1, 0
        if incubated:
            self.incubation = "spun_out"
        else:
            self.reserves = p.dowry * self.v0
            self.trading_income = p.trading_start * self.v0
        discount = 1.0 - p.reactive_saving if self.origin == REACTIVE else 1.0
        self.core_volume = self.v0 * self.council.budget
        self.core_price = p.initial_price * discount
        self.assets = p.asset_transfer * self.v0
        m.tally("spinouts", 1)

    # --- tendering -----------------------------------------------------------------------------
    def performance(self) -> float:
        p = self.model.params
        return (p.performance_quality_share * self.quality
                + (1.0 - p.performance_quality_share) * self.social_value)

    def extension_chance(self) -> float:
        """A direct award is likelier for a good mutual and a co-producing council, less
        likely for a risk-averse one."""
        p = self.model.params
        c = self.council
        style = (1.0 + p.extension_coproduction_shift * c.coproduction
                 - p.extension_risk_shift * c.risk_aversion)
        chance = (p.extension_prob + p.extension_performance_slope
                  * (self.performance() - p.performance_reference)) * style
        return clip(chance, 0.0, 1.0)

    def face_tender(self) -> None:
        """An expiring contract is extended or tendered; a poor one may be broken early."""
        m, p = self.model, self.model.params
        if not (self.stage in TRADING and self.core_volume > 0):
            return
        contract = m.contract_numbers(self.index)[0]
        if self.next_tender != m.year:
            if (self.performance() < p.break_threshold
                    and contract[BREAK] < p.break_clause_prob):
                m.tally("break_clauses", 1)
                self.run_tender(mutual_bids=False)
            return
        if self.extensions < p.max_extensions and contract[EXTENSION] < self.extension_chance():
            self.next_tender = m.year + p.extension_years
            self.extensions += 1
            m.tally("contract_extensions", 1)
            return
        self.run_tender(mutual_bids=True)

    def run_tender(self, mutual_bids: bool) -> None:
        """The council tenders the contract in lots (without the mutual after a break)."""
        m, p = self.model, self.model.params
        budget = self.council.budget
        volume = self.v0 * budget
        lot = volume / self.council.lots
        ceiling = 1.0 - p.price_squeeze * (1.0 - budget)
        m.tally("tender_cost", p.lot_tender_cost * self.council.lots)
        m.tally("council_spend", p.lot_tender_cost * self.council.lots)
        overheads = self.overhead() + p.lot_overhead * (self.council.lots - 1)
        bid_m = min((self.unit_cost() + overheads / volume) * (1.0 + p.mutual_margin),
                    ceiling)
        bid_u, noise = m.tender_numbers(self.index)
        contract, entry, local_z, local_noise = m.contract_numbers(self.index)
        offers = self.private_offers(lot, ceiling, bid_u)
        local = self.local_offers(lot, ceiling, entry, local_z)
        m.tally("tenders_contested",
                1 if offers or any(any(lots) for _, lots in local) else 0)
        w_price, w_quality, w_social, w_fin = self.tender_weights()
        prices = [price for _, price in offers]
        prices += [price for price, lots in local if any(lots)]
        best = min(([bid_m] if mutual_bids else []) + prices, default=float("inf"))
        score_m = float("-inf")
        if mutual_bids:
            score_m = (w_price * best / bid_m + w_quality * self.quality
                       + w_social * self.social_value + w_fin * self.financial_standing()
                       + p.incumbency_bonus)
        scored = [(firm, price, w_price * best / price + w_quality * firm.quality
                   + w_social * firm.social + w_fin * firm.financial) for firm, price in offers]
        local_base = (w_quality * p.local_quality + w_social * p.local_social_value
                      + w_fin * p.local_financial)
        won, private_value = 0, 0.0
        for lot_index in range(self.council.lots):
            mine = score_m + p.eval_noise * noise[0][lot_index]
            winner, winner_price, top = None, 0.0, float("-inf")
            for firm, price, score in scored:
                score = score + p.eval_noise * noise[1 + firm.index][lot_index]
                if score > top:
                    winner, winner_price, top = firm, price, score
            local_price = None
            for i, (price, lots) in enumerate(local):
                if not lots[lot_index]:
                    continue
                score = (w_price * best / price + local_base
                         + p.eval_noise * local_noise[i][lot_index])
                if score > top:
                    local_price, top = price, score
            if mutual_bids and mine >= top:
                won += 1
            elif local_price is not None:
                private_value += local_price * lot
                m.tally("lots_won_local", 1)
            elif winner is not None:
                value = winner_price * lot
                private_value += value
                winner.win(value)
        self.award(lot, won, bid_m, private_value, contract[CONTRACT_LENGTH])

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

    def local_offers(self, lot: float, ceiling: float, entry: list[list[float]],
                     z: list[float]) -> list[tuple[float, list[bool]]]:
        """Each local SME's price and the lots it bids for: alone for a lot within its
        capacity, in a consortium (dearer, less often) for one up to the consortium's."""
        p = self.model.params
        if lot <= p.local_capacity:
            chance, markup = p.local_bid_prob, 1.0
        elif lot <= p.consortium_size * p.local_capacity:
            chance, markup = p.local_bid_prob * p.consortium_prob, 1.0 + p.consortium_cost_markup
        else:
            chance, markup = 0.0, 1.0 + p.consortium_cost_markup
        offers = []
        for i in range(p.local_bidders):
            cost = p.local_unit_cost * (1.0 + p.firm_sd * z[i]) * markup
            lots = [entry[i][j] < chance and cost <= ceiling for j in range(self.council.lots)]
            offers.append((min(cost * (1.0 + p.local_margin), ceiling), lots))
        return offers

    def tender_weights(self) -> tuple[float, float, float, float]:
        """The council's own weights: austerity tilts to price, its co-production to quality
        and social value, its risk aversion to financial standing."""
        p, c = self.model.params, self.council
        wp, wq, ws, wf = c.weights
        tilt = 1.0 + p.coproduction_weight_shift * c.coproduction * c.engagement
        w = (wp * (1.0 + p.austerity_price_shift * (1.0 - c.budget)),
             wq * tilt, ws * tilt, wf * (p.financial_weight_base + c.risk_aversion))
        total = w[0] + w[1] + w[2] + w[3]
        return w[0] / total, w[1] / total, w[2] / total, w[3] / total

    def financial_standing(self) -> float:
        p = self.model.params
        record = min((self.model.year - self.spinout_year) / p.track_record_years, 1.0)
        cushion = clip(self.reserves / (p.reserve_cushion * self.v0), 0.0, 1.0)
        return (p.standing_floor + p.standing_record_weight * record
                + (1.0 - p.standing_floor - p.standing_record_weight) * cushion)

    def award(self, lot: float, won: int, bid: float, private_value: float,
              u_length: float) -> None:
        m, p = self.model, self.model.params
        kept = won > 0
        self.core_volume = lot * won
        self.core_price = bid if kept else 0.0
        term = contract_length(p.contract_years, p.contract_years_spread, u_length)
        self.next_tender = m.year + term if kept else -1
        self.lots_held, self.extensions = won, 0
        self.stage = COMPETING
        self.tenders += 1
        self.tender_wins += kept
        self.private_value = private_value
        if not kept:
            self.contract_lost_year = m.year
        m.tally("tenders", 1)
        m.tally("mutual_tender_wins", kept)

    def pay_lot_overhead(self) -> None:
        """A trading mutual pays a contract overhead for each lot of its core contract
        beyond the first (the first is in the back-office overhead)."""
        if not (self.stage in TRADING and self.core_volume > 0):
            return
        charge = self.model.params.lot_overhead * max(self.lots_held - 1, 0)
        self.costs += charge
        self.reserves -= charge
        self.model.tally("lot_overhead", charge)

    # --- income and accounts -------------------------------------------------------------------
    def grow_income(self) -> None:
        """Contracts elsewhere come and go; trading income grows logistically."""
        m, p = self.model, self.model.params
        independent, incubating = self.stage in TRADING, self.stage == INCUBATING
        if independent or incubating:   # a Teckal company explores outside income too
            win = m.slot["external"][self.index] < p.external_win_rate * self.capability
            self.external = (self.external * (1.0 - p.external_churn)
                             + (p.external_size * self.v0 if win else 0.0))
        else:
            self.external = 0.0
        if not (independent or incubating):
            return
        growth = (p.trading_growth * self.capability
                  + p.citizen_demand_effect * self.council.citizen_support
                  - (p.recession_trading_penalty if m.recession else 0.0)
                  + p.trading_noise * m.slot["trading"][self.index])
        cap = max(p.trading_cap * self.v0, 1e-12)
        trade = self.trading_income
        self.trading_income = max(trade + growth * trade * (1.0 - trade / cap), 0.0)
        if incubating:
            self.respect_teckal_limit()

    def respect_teckal_limit(self) -> None:
        """A Teckal company's outside income is at most (1 - limit) of its activity."""
        limit_share = self.model.params.teckal_activity_limit
        volume = self.v0 * self.council.budget   # this year's sheltered contract
        limit = self.core_price * volume * (1.0 - limit_share) / limit_share
        outside = self.trading_income + self.external
        if outside > limit:
            scale = limit / max(outside, 1e-300)
            self.trading_income, self.external = (self.trading_income * scale,
                                                  self.external * scale)
            self.model.tally("teckal_capped", 1)

    def shrink_back_office(self) -> float:
        """The back office follows the share of its service's contract it holds: up at
        once, down by at most the full back office / overhead_adjust_years a year, never
        below overhead_floor of it."""
        p = self.model.params
        full = p.backoffice_overhead * self.v0 * (
            p.overhead_fixed_share + (1.0 - p.overhead_fixed_share) * self.council.budget)
        share = 1.0
        if self.stage == COMPETING:
            share = min(self.core_volume / max(self.v0 * self.council.budget, 1e-12), 1.0)
        target = full * max(share, p.overhead_floor)
        if target >= self.back_office:
            self.back_office = target
        else:
            self.back_office = max(target, self.back_office - full / p.overhead_adjust_years)
        return self.back_office

    def settle_accounts(self) -> None:
        """Cost and income shocks, then income minus costs into reserves; the council pays
        the contract and business support while it acts."""
        if self.stage not in (PROTECTED, COMPETING, INCUBATING):
            return
        m, p = self.model, self.model.params
        independent = self.stage in TRADING
        if self.stage in (PROTECTED, INCUBATING):  # sheltered contracts follow the budget
            self.core_volume = self.v0 * self.council.budget
        pension = p.pension_shock_size if m.slot["pension"][self.index] < p.pension_shock_prob \
            else 0.0
        self.cost_drift = self.cost_drift + p.pay_drift_sd * m.slot["pay"][self.index] + pension
        average = self.average_unit_cost()
        staff = self.cost_factor() * average * self.core_volume   # TUPE: goes with the contract
        billed = self.core_volume * max(1.0 + p.volume_shock_sd * m.slot["volume"][self.index], 0.0)
        core = self.core_price * billed
        planned = self.trading_income
        if m.recession:
            self.trading_income = planned * (1.0 - p.recession_trading_cut)
        grant = (p.grant_size * self.v0
                 if independent and m.slot["grant"][self.index] < p.grant_prob else 0.0)
        back_office = self.shrink_back_office()
        income = core + self.external + self.trading_income + grant
        costs = (staff
                 + self.external / (1.0 + p.external_margin)
                 + planned * (1.0 - p.trading_margin)
                 + back_office)
        self.income, self.costs = income, costs
        self.reserves = self.reserves + (income - costs)
        self.parent_share = core / max(income, 1e-12)
        self.cost_shock_loss += self.cost_drift * average * self.core_volume
        self.income_shock_loss += (self.core_price * (self.core_volume - billed)
                                   + (planned - self.trading_income))
        if independent:
            m.tally("core_income", core)
            m.tally("external_income", self.external)
            m.tally("trading_income", self.trading_income)
            m.tally("grant_income", grant)
        m.tally("council_spend", core)
        if self.business_support_acts():
            m.tally("council_spend", p.support_cost * self.business_support * self.v0)

    # --- capability and quality ----------------------------------------------------------------
    def learn(self) -> None:
        if self.stage not in ACTIVE:
            return
        m, p = self.model, self.model.params
        rate = p.learning_rate
        if self.business_support_acts():
            rate += p.support_effect * self.business_support
        if self.stage == INCUBATING:
            rate += p.incubation_learning
        if self.stage == COMPETING:
            rate += p.competition_learning
        if (p.mentoring_clauses and self.stage in TRADING
                and m.year - self.spinout_year < p.mentoring_years
                and self.council.has_provider_contract):
            rate += p.mentoring_effect
        new = (self.capability + (1.0 - self.capability) * rate
               + p.capability_noise * m.slot["capability"][self.index])
        self.capability = clip(new, 0.0, 1.0)

    def drift_quality(self) -> None:
        """Towards targets set by capability and engagement, minus producer capture."""
        if self.stage not in ACTIVE:
            return
        p = self.model.params
        e = self.council.engagement
        base_sv = (p.social_value_strategic if self.origin == STRATEGIC
                   else p.social_value_reactive)
        q_target = clip(p.quality_initial
                        + p.quality_capability_effect
                        * (self.capability - p.quality_capability_pivot)
                        + p.quality_engagement_effect * e, 0.0, 1.0)
        sv_target = clip(base_sv + p.social_value_governance_effect * self.governance * e,
                         0.0, 1.0)
        capture = p.capture_rate * (1.0 - self.governance)
        self.quality = clip(self.quality + p.adjust_rate * (q_target - self.quality) - capture,
                            0.0, 1.0)
        self.social_value = clip(self.social_value
                                 + p.adjust_rate * (sv_target - self.social_value) - capture,
                                 0.0, 1.0)

    # --- exits ---------------------------------------------------------------------------------
    def credit_facility(self) -> float:
        """Borrowing on the baseline value and against transferred assets (locked or not)."""
        p = self.model.params
        return p.credit_facility * self.v0 + p.asset_collateral * self.assets

    def insolvency_cause(self, facility: float) -> str:
        """Lost contract; else the larger shock since spin-out if it tipped the balance;
        else a structural deficit."""
        if self.core_volume <= 0:
            return "insolvency_lost_contract"
        if self.cost_shock_loss >= self.income_shock_loss:
            if self.reserves + self.cost_shock_loss >= -facility:
                return "insolvency_cost_shock"
        elif self.reserves + self.income_shock_loss >= -facility:
            return "insolvency_income_shock"
        return "insolvency"

    def check_exit(self) -> None:
        """Insolvency, wind-down without a core contract, or takeover while in deficit."""
        if self.stage not in TRADING:
            return
        m, p = self.model, self.model.params
        facility = self.credit_facility()
        insolvent = self.reserves < -facility
        no_core = self.core_volume <= 0
        other_net = (self.external * p.external_margin / (1.0 + p.external_margin)
                     + self.trading_income * p.trading_margin
                     + p.grant_prob * p.grant_size * self.v0)
        kept = p.overhead_floor * p.backoffice_overhead * self.v0
        wind_down = not insolvent and no_core and other_net < p.wind_down_threshold * kept
        p_takeover = p.takeover_prob * (1.0 - (p.asset_lock_deterrence if p.asset_lock else 0.0))
        takeover = (not insolvent and not wind_down and self.reserves < 0
                    and m.slot["takeover"][self.index] < p_takeover)
        if insolvent:
            self.exit(self.insolvency_cause(facility), with_service=not no_core)
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
        flow = "insolvency" if cause.startswith("insolvency") else cause
        m.tally(f"exits_{flow}", 1)

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
        return p.inhouse_social_value
