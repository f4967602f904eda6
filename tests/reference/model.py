"""``ReferenceMarket``: one replication as a plain Mesa model, phase by phase.

Each year the replication draws the same numbers as the kernel (a block of uniforms and a
block of normals laid out by :class:`mutualsim.rng.Layout`, then one key per slot) and
every agent reads its own numbers by name and index: a slot's yearly numbers are its key's
expansion by :func:`mutualsim.rng.slot_draws` (``slot["pension"][m]``), and a slot tendered
this year expands its own key with :func:`mutualsim.rng.tender_draws`. So replication ``i``
of seed ``s`` follows the kernel's trajectory number for number. Phases run with
``AgentSet.shuffle_do``: within a phase the order of agents does not matter, which the
oracle test checks.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np

from mutualsim.params import FIELD_NAMES, Scenario
from mutualsim.rng import (
    SLOT_NUMBERS,
    Layout,
    contract_draws,
    replication_generator,
    slot_draws,
    tender_draws,
)

from .agents import INCUBATING, PROPOSED, PROTECTED, TRADING, Citizen, Council, PrivateBidder
from .mutual import Mutual

# Panel columns: end-of-year stocks, then the year's flows (the kernel's output schema).
STOCKS = ("mutuals_trading", "mutuals_protected", "mutuals_incubating", "proposals_pending",
          "mean_parent_income_share", "mean_capability", "total_reserves", "social_value",
          "citizen_satisfaction", "citizen_engagement", "mean_budget", "recession",
          "mutuals_in_surplus", "mean_income_growth")
FLOWS = ("proposals", "abandoned", "taken_back", "spinouts", "exits_insolvency",
         "exits_wind_down", "exits_takeover", "tenders", "mutual_tender_wins", "core_income",
         "external_income", "trading_income", "grant_income", "council_spend", "step_in_cost",
         "service_disruptions", "assets_preserved", "assets_lost", "tenders_contested",
         "lots_won_local", "contract_extensions", "break_clauses", "tender_cost",
         "lot_overhead", "teckal_capped")
COLUMNS = STOCKS + FLOWS

# The year's phases: (agent type, method), run in this order (ODD process overview).
PHASES: tuple[tuple[type[mesa.Agent], str], ...] = (
    (Council, "cut_budget"),
    (Council, "survey_services"),
    (Council, "review_failures"),
    (Citizen, "respond"),
    (Council, "poll_citizens"),
    (Mutual, "consider_proposal"),
    (Mutual, "prepare"),
    (Mutual, "end_incubation"),
    (Council, "bear_stranded_costs"),
    (Mutual, "face_tender"),
    (Council, "survey_providers"),
    (Mutual, "grow_income"),
    (Mutual, "settle_accounts"),
    (Mutual, "pay_lot_overhead"),
    (Mutual, "learn"),
    (Mutual, "drift_quality"),
    (Mutual, "check_exit"),
)


class ReferenceMarket(mesa.Model):
    """One replication of a scenario, one Python object per agent.

    ``seed`` and ``replication`` fix the random stream exactly as in ``mutualsim.simulate``;
    ``rng`` (what ``mesa.batch_run`` passes) is taken as the seed. Keyword overrides of
    scenario fields are applied on top of ``scenario``. ``shuffle=False`` runs each phase
    with ``AgentSet.do`` instead of ``shuffle_do`` (same results, less Mesa overhead).
    """

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None,
                 replication: int = 0, rng: Any = None, shuffle: bool = True,
                 services: Any = None, **overrides: Any) -> None:
        if seed is None:
            seed = int(rng) if isinstance(rng, int | np.integer) else 0
        # Mesa's own generator only shuffles agents, so any seed will do.
        super().__init__(rng=[int(seed), int(replication)])
        base = scenario if scenario is not None else Scenario()
        unknown = sorted(set(overrides) - set(FIELD_NAMES))
        if unknown:
            raise TypeError(f"unknown parameter {unknown[0]!r}")
        p = self.params = base.replace(**overrides) if overrides else base
        self.seed, self.replication = int(seed), int(replication)
        self.activation = "shuffle_do" if shuffle else "do"
        self.weights = p.tender_weights()
        self.coproduction = p.resolved("coproduction")
        self.risk_aversion = p.resolved("risk_aversion")
        self.year, self.year_index = p.start_year, 0
        self.recession = bool(p.recession_start)
        self.ledger: dict[str, float] = {}
        self.row: dict[str, float] = {}
        self.rows: list[dict[str, float]] = []
        self._gen = replication_generator(self.seed, self.replication)
        self._layout = Layout.for_scenario(p)
        self.u: dict[str, Any] = {}
        self.n: dict[str, Any] = {}
        self.slot: dict[str, list[float]] = {}
        self.tender_keys = np.zeros(0, dtype=np.uint64)
        self.services = services  # a council file's services (mutualsim.council.Services)
        self._populate()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in ("year", *COLUMNS)})

    def _populate(self) -> None:
        """Create the agents, drawing their heterogeneity in the kernel's order."""
        p, g = self.params, self._gen
        C, S, B, K = p.councils, p.services_per_council, p.private_bidders, \
            p.citizens_per_council
        z_v0 = g.standard_normal(C * S).tolist()
        z_cap = g.standard_normal(C * S).tolist()
        z_firm = g.standard_normal((4, B)).tolist()
        z_cit = g.standard_normal((C, K)).tolist()
        z_cost = g.standard_normal(C * S).tolist()
        u_council = g.random((C, 3)).tolist()
        z_council = g.standard_normal((C, 5)).tolist()
        self.councils_in_order = [Council(self, c, u_council[c], z_council[c])
                                  for c in range(C)]
        self.mutuals_in_order: list[Mutual] = []
        for m in range(C * S):
            council = self.councils_in_order[m // S]
            v0 = p.contract_value * math.exp(p.contract_value_sdlog * z_v0[m])
            mutual = Mutual(self, m, council, v0, z_cap[m], z_cost[m])
            if self.services is not None:  # the council's own service (council file)
                mutual.take_council_file_row(self.services, m)
            council.services.append(mutual)
            self.mutuals_in_order.append(mutual)
        self.bidders_in_order = [PrivateBidder(self, b, tuple(z[b] for z in z_firm))
                                 for b in range(B)]
        for council in self.councils_in_order:
            council.citizens = [Citizen(self, council, k, z_cit[council.index][k])
                                for k in range(K)]

    # --- the year --------------------------------------------------------------------------
    def step(self) -> None:
        """One year: draw, run the phases, record."""
        if self.year_index >= self.params.years:
            self.running = False
            return
        self.draw_year()
        self.ledger = dict.fromkeys(FLOWS, 0.0)
        self.update_recession()
        for agent_type, method in PHASES:
            getattr(self.agents_by_type[agent_type], self.activation)(method)
        self.record_year()
        self.datacollector.collect(self)
        self.year += 1
        self.year_index += 1
        if self.year_index >= self.params.years:
            self.running = False

    def draw_year(self) -> None:
        """The year's blocks: uniforms and normals split into named nested lists
        (``u["shock"][c]``, ``n["citizen"][c][k]``), the slot keys, and each slot's yearly
        numbers by name (``slot["pension"][m]``)."""
        lay = self._layout
        self.u = _named(self._gen.random(lay.n_uniform), lay.uniform)
        self.n = _named(self._gen.standard_normal(lay.n_normal), lay.normal)
        # One tender key per slot; a slot tendered this year expands its own key.
        self.tender_keys = self._gen.bit_generator.random_raw(lay.n_keys)
        numbers = slot_draws(self.tender_keys).T.tolist()
        self.slot = dict(zip(SLOT_NUMBERS, numbers, strict=True))

    def tender_numbers(self, slot: int) -> tuple[list[float], list[list[float]]]:
        """A tendered slot's bid uniforms [B] and score normals [B + 1][L], from its key."""
        lay = self._layout
        bid, score = tender_draws(self.tender_keys[slot:slot + 1], lay.bidders, lay.lots)
        return bid[0].tolist(), score[0].tolist()

    def contract_numbers(self, slot: int) -> tuple[list[float], list[list[float]],
                                                   list[float], list[list[float]]]:
        """A slot's contract uniforms [4] (indexed by ``mutualsim.rng.CONTRACT_LENGTH``,
        ``EXTENSION``, ``BREAK``, ``PROTECTION``) and its local SMEs' entry uniforms [N][L],
        cost normals [N] and score normals [N][L], from its key."""
        lay = self._layout
        contract, entry, cost, score = contract_draws(self.tender_keys[slot:slot + 1],
                                                      lay.bidders, lay.lots, lay.local)
        return contract[0].tolist(), entry[0].tolist(), cost[0].tolist(), score[0].tolist()

    def update_recession(self) -> None:
        """The economy enters and leaves recession as a two-state Markov chain."""
        if self.year_index == 0:
            return
        u, p = self.u["recession"][0], self.params
        self.recession = (u >= p.recession_exit_prob if self.recession
                          else u < p.recession_enter_prob)

    def tally(self, name: str, amount: float) -> None:
        """Add to one of the year's flows (sums, so agents may report in any order)."""
        self.ledger[name] += amount

    def record_year(self) -> None:
        """The year's panel row: end-of-year stocks and the year's flows."""
        mutuals, citizens = self.mutuals_in_order, self.agents_by_type[Citizen]
        trading = [s for s in mutuals if s.stage in TRADING]
        n = len(trading)
        nan = float("nan")
        self.ledger["council_spend"] += sum(
            (s.v0 * s.council.budget if s.in_house else 0.0) + s.private_value for s in mutuals)
        self.row = {
            "year": self.year,
            "mutuals_trading": n,
            "mutuals_protected": sum(s.stage == PROTECTED for s in mutuals),
            "mutuals_incubating": sum(s.stage == INCUBATING for s in mutuals),
            "proposals_pending": sum(s.stage == PROPOSED for s in mutuals),
            "mean_parent_income_share": sum(s.parent_share for s in trading) / n if n else nan,
            "mean_capability": sum(s.capability for s in trading) / n if n else nan,
            "total_reserves": sum(s.reserves for s in trading),
            "social_value": (sum(s.served_social_value() * s.v0 for s in mutuals)
                             / sum(s.v0 for s in mutuals)),
            "citizen_satisfaction": sum(c.satisfaction for c in citizens) / len(citizens),
            "citizen_engagement": sum(c.engagement for c in citizens) / len(citizens),
            "mean_budget": (sum(c.budget for c in self.councils_in_order)
                            / len(self.councils_in_order)),
            "recession": float(self.recession),
            "mutuals_in_surplus": sum(s.income > s.costs for s in trading),
            "mean_income_growth": sum(s.income / s.v0 for s in trading) / n if n else nan,
            **self.ledger,
        }
        self.rows.append(self.row)

    # --- results -----------------------------------------------------------------------------
    @property
    def mutual_years(self) -> int:
        """Years in which a mutual was trading, summed over the run (the unit of work)."""
        return int(sum(row["mutuals_trading"] for row in self.rows))

    def ever_proposed(self) -> list[Mutual]:
        return [s for s in self.mutuals_in_order if s.proposal_year >= 0]


def _named(block: np.ndarray, parts: tuple[tuple[str, tuple[int, ...]], ...]) -> dict:
    out, start = {}, 0
    for name, shape in parts:
        size = math.prod(shape)
        out[name] = block[start:start + size].reshape(shape).tolist()
        start += size
    return out


def _reporter(name: str):
    def report(model: ReferenceMarket) -> float:
        return model.row.get(name, float("nan"))
    report.__name__ = name
    return report
