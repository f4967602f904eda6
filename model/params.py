"""Scenario parameters: one typed, validated, frozen dataclass.

Every field carries its unit, allowed range, ODD section and source in its metadata, so
validation, the TOML loader and the parameter table in docs/ODD.md all read one definition.
Money is in millions of pounds a year; contract-relative quantities are shares of the
service's baseline annual value ``V0`` (what the council spent in-house before spin-out).
"""

from __future__ import annotations

import dataclasses
import math
import os
import reprlib
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import InputError

SEED_RSA = "seed 000 (RSA 2020PS 2013)"
SEED_GOV = "seed 004 (Gov. response, Feb 2013)"

# Commissioning-style presets: (price, quality, social value, financial standing) weights,
# co-production level and risk aversion. The ordering of the styles (cost-led CCT ->
# strategic -> co-operative) is from seed 000 §4.1 "From compulsory competitive tendering to
# strategic commissioning" and "Co-operative commissioning is about values, not just cost";
# the numbers themselves are assumptions.
STYLE_PRESETS: dict[str, dict[str, float]] = {
    "cost_led": dict(price_weight=0.65, quality_weight=0.20, social_weight=0.00,
                     financial_weight=0.15, coproduction=0.10, risk_aversion=0.80),
    "strategic": dict(price_weight=0.45, quality_weight=0.25, social_weight=0.15,
                      financial_weight=0.10, coproduction=0.40, risk_aversion=0.60),
    "cooperative": dict(price_weight=0.35, quality_weight=0.25, social_weight=0.30,
                        financial_weight=0.10, coproduction=0.80, risk_aversion=0.30),
}
STYLE_OVERRIDES = tuple(STYLE_PRESETS["strategic"])


def _p(default: Any, lo: float | None, hi: float | None, unit: str, section: str,
       source: str, doc: str, choices: tuple[str, ...] | None = None) -> Any:
    """A scenario field with the metadata validation and docs need."""
    return field(default=default, metadata=dict(
        lo=lo, hi=hi, unit=unit, section=section, source=source, doc=doc, choices=choices))


@dataclass(frozen=True)
class Scenario:
    """All parameters of one scenario. Defaults are the baseline (current practice)."""

    # --- run ------------------------------------------------------------------------------
    start_year: int = _p(2010, 1990, 2100, "calendar year", "run",
                         f"{SEED_GOV} Introduction: mutuals 'from nine in 2010'",
                         "First simulated year (start of the national mutuals programme).")
    years: int = _p(30, 1, 100, "years", "run", "assumption",
                    "Number of simulated years (one step is one year).")
    councils: int = _p(150, 1, 2000, "councils", "run",
                       "152 upper-tier authorities in England (DCLG, 2013); rounded",
                       "Councils in one replication (1 = a single borough workshop).")
    services_per_council: int = _p(3, 1, 20, "services", "run", "assumption",
                                   "Candidate services per council that could be spun out.")
    private_bidders: int = _p(8, 1, 100, "firms", "run", "assumption",
                              "Large established providers in the national market.")
    citizens_per_council: int = _p(5, 1, 100, "agents", "run", "assumption",
                                   "Representative citizen agents (residents/service users) "
                                   "per council.")

    # --- pipeline (spin-out proposals) --------------------------------------------------------
    reactive_prob: float = _p(0.082, 0.0, 1.0, "1/service/year", "pipeline",
                              f"{SEED_RSA} §4.2 'Reactive mutualisation'"
                              "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                              "Chance a service is proposed for spin-out top-down in a year "
                              "with no budget cut.")
    budget_pressure_sensitivity: float = _p(6.0, 0.0, 50.0, "per unit budget cut", "pipeline",
                                            f"{SEED_RSA} §4.2 (spin-outs as reactions to "
                                            "spending cuts); assumption",
                                            "Relative rise of the reactive rate per unit of "
                                            "budget cut.")
    strategic_prob: float = _p(0.06, 0.0, 1.0, "1/service/year", "pipeline",
                               f"{SEED_RSA} §5 (need expressed by staff and citizens)"
                               "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                               "Chance a service is proposed bottom-up in a year at full "
                               "citizen engagement.")
    prep_completion_prob: float = _p(0.26, 0.0, 1.0, "1/year", "pipeline",
                                f"{SEED_RSA} §4.3 'the sheer amount of work it takes'"
                                "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                                "Chance a proposal in preparation completes in a year.")
    abandon_reactive_prob: float = _p(0.29, 0.0, 1.0, "1/year", "pipeline",
                                 f"{SEED_RSA} §4.2 'long, drawn-out ... unsuccessful projects'"
                                 "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                                 "Chance a reactive proposal is abandoned in a year.")
    abandon_strategic_prob: float = _p(0.12, 0.0, 1.0, "1/year", "pipeline",
                                  f"{SEED_RSA} §5 (mutuals most successful where need is "
                                  "expressed bottom-up); assumption",
                                  "Chance a strategic proposal is abandoned in a year.")
    prep_cost: float = _p(0.03, 0.0, 1.0, "share of V0 per year", "pipeline",
                          f"{SEED_RSA} §4.2 'Reciprocating council support'; assumption",
                          "Council effort spent on a proposal in preparation.")
    reactive_coproduction_damping: float = _p(0.5, 0.0, 1.0, "per unit co-production",
                                              "pipeline",
                                              f"{SEED_RSA} §4.2 (co-operative councils less "
                                              "reactive); assumption",
                                              "Relative fall of the reactive probability per "
                                              "unit of the council's co-production.")
    strategic_coproduction_base: float = _p(0.5, 0.0, 5.0, "level", "pipeline",
                                            f"{SEED_RSA} §5; assumption",
                                            "The strategic probability scales with this plus "
                                            "the council's co-production.")
    capability_min: float = _p(0.02, 0.0, 1.0, "score", "pipeline", "assumption",
                               "Lowest business capability at proposal.")
    capability_max: float = _p(0.98, 0.0, 1.0, "score", "pipeline", "assumption",
                               "Highest business capability at proposal.")
    abandon_support_damping: float = _p(0.5, 0.0, 1.0, "per unit support", "pipeline",
                                        f"{SEED_RSA} §5 (support 'necessary'); assumption",
                                        "Relative fall of the abandonment probability per unit "
                                        "of the council's business support.")
    abandon_risk_base: float = _p(0.5, 0.0, 5.0, "level", "pipeline",
                                  f"{SEED_RSA} §4.3 ('risk-averseness from legal and "
                                  "procurement departments'); assumption",
                                  "The abandonment probability scales with this plus the "
                                  "council's risk aversion.")
    completion_support_base: float = _p(0.75, 0.0, 5.0, "factor", "pipeline", "assumption",
                                        "Completion probability factor of a council with no "
                                        "business support.")
    completion_support_gain: float = _p(0.5, 0.0, 5.0, "per unit support", "pipeline",
                                        f"{SEED_RSA} §5; assumption",
                                        "Rise of the completion factor per unit of the "
                                        "council's business support.")
    spinout_propensity_sdlog: float = _p(0.5, 0.0, 3.0, "log s.d.", "pipeline",
                                         f"{SEED_GOV} (19 live LA spin-outs, 'over 70 "
                                         "councils exploring' of ~150); assumption",
                                         "Spread across supportive councils of their propensity "
                                         "to propose spin-outs (log-normal factor, mean 1; 0 = "
                                         "every council the same).")
    unsupportive_council_share: float = _p(0.3, 0.0, 1.0, "share of councils", "pipeline",
                                           f"{SEED_GOV} para 59, 97 (staff 'whose plans ... are "
                                           "not supported by the local authority'); assumption",
                                           "Share of councils that do not support spin-outs "
                                           "(no council-backed proposals; staff may use the "
                                           "Right to Challenge).")
    failure_deterrence: float = _p(0.5, 0.0, 1.0, "share", "pipeline",
                                   f"{SEED_GOV} para 91 (a failure 'could ... deter other "
                                   "authorities'); assumption",
                                   "Relative fall of a council's propensity to propose "
                                   "spin-outs after one of its mutuals exits.")
    failure_deterrence_years: int = _p(3, 0, 50, "years", "pipeline",
                                       f"{SEED_GOV} para 91; assumption (about one budget "
                                       "cycle)",
                                       "Years after a mutual's exit during which its council "
                                       "is deterred.")
    neighbour_deterrence_share: float = _p(0.5, 0.0, 1.0, "share", "pipeline",
                                           f"{SEED_GOV} para 91 ('deter other authorities'); "
                                           "assumption",
                                           "Share of the deterrence felt by the two "
                                           "neighbouring councils (next in index order, a "
                                           "ring).")
    programme_start_year: int = _p(2012, 1990, 2100, "calendar year", "pipeline",
                                   f"{SEED_GOV} para 61, 83 (Mutuals Support Programme; DCLG "
                                   "Right to Challenge support 'since July' 2012)",
                                   "First year the national support programme acts.")
    programme_end_year: int = _p(2014, 1990, 2100, "calendar year", "pipeline",
                                 f"{SEED_GOV} para 61 ('GBP 11.5 million in total until March "
                                 "2015'; model year y is financial year y/y+1)",
                                 "Last year the national support programme acts.")
    programme_proposal_effect: float = _p(0.5, 0.0, 10.0, "relative rise", "pipeline",
                                          f"{SEED_GOV} para 81 ('increased flow of new "
                                          "authorities accessing support'); assumption",
                                          "Relative rise of every proposal probability while "
                                          "the programme is funded.")
    programme_completion_effect: float = _p(0.25, 0.0, 10.0, "relative rise", "pipeline",
                                            f"{SEED_GOV} para 61, 83 (advice, specialist "
                                            "support and grants); assumption",
                                            "Relative rise of the completion probability while "
                                            "the programme is funded.")
    right_to_challenge_year: int = _p(2012, 1990, 2100, "calendar year", "pipeline",
                                      f"{SEED_GOV} para 59, 95 (Community Right to Challenge, "
                                      "Localism Act 2011, in force June 2012)",
                                      "First year staff can challenge to run a service.")
    right_to_challenge_prob: float = _p(0.02, 0.0, 1.0, "1/service/year", "pipeline",
                                        f"{SEED_GOV} para 61 (15 LA mutual groups among 900 "
                                        "contacts, 2 challenge grants); assumption",
                                        "Chance a year that staff of a service in a council "
                                        "that does not support spin-outs propose one under the "
                                        "Right to Challenge, at full citizen engagement.")

    # --- Teckal incubation -----------------------------------------------------------------
    incubation_years: int = _p(0, 0, 10, "years", "teckal",
                               f"{SEED_RSA} §4.3 'incubation period of two to three years'",
                               "Years as an arm's-length Teckal company before the spin-out "
                               "decision (0 = no incubation).")
    teckal_activity_limit: float = _p(0.80, 0.5, 1.0, "share of activity", "teckal",
                                      "Public Contracts Regulations 2015 reg. 12 (Teckal: "
                                      "> 80% of activity for the controlling authority)",
                                      "Minimum share of a Teckal company's activity done for "
                                      "its council.")
    incubation_learning: float = _p(0.10, 0.0, 1.0, "1/year", "teckal",
                                    f"{SEED_RSA} §4.3 'gain new business expertise'; assumption",
                                    "Extra capability gap closed per year of incubation.")
    takeback_threshold: float = _p(0.45, 0.0, 1.0, "viability score", "teckal",
                                   f"{SEED_RSA} §4.3 'if it's successful, you can mutualise, "
                                   "and if not, other options can be explored'; assumption",
                                   "Least appraised viability a council with risk aversion "
                                   "0.6 (the strategic preset) accepts at the end of "
                                   "incubation, whatever its in-house and market options; "
                                   "the bar is scaled by the risk-stance factor "
                                   "(takeback_risk_base + takeback_risk_slope x risk "
                                   "aversion).")
    takeback_risk_base: float = _p(0.7, 0.0, 2.0, "factor", "teckal",
                                   "assumption: a council of risk aversion 0 asks 70% of "
                                   "the bar (seed 000 §4.3 'risk-mitigation model')",
                                   "Risk-stance factor on the spin-out bar at risk aversion 0.")
    takeback_risk_slope: float = _p(0.5, 0.0, 2.0, "factor per unit risk aversion", "teckal",
                                    "assumption: the strategic preset (risk aversion 0.6) "
                                    "asks exactly the bar (0.7 + 0.5 x 0.6 = 1)",
                                    "Rise of the risk-stance factor per unit of risk "
                                    "aversion.")
    viability_capability_weight: float = _p(0.5, 0.0, 1.0, "weight", "teckal",
                                            f"{SEED_RSA} §4.3 'test the ability of your "
                                            "service to operate' in the market; assumption",
                                            "Weight of capability in the appraisal's "
                                            "viability score (of the company and of each "
                                            "option).")
    viability_quality_weight: float = _p(0.25, 0.0, 1.0, "weight", "teckal",
                                         "assumption: quality counts half as much as "
                                         "capability",
                                         "Weight of service quality in the viability score.")
    viability_reserve_weight: float = _p(0.25, 0.0, 1.0, "weight", "teckal",
                                         "assumption: financial standing counts as much as "
                                         "quality",
                                         "Weight of financial standing (reserves against "
                                         "viability_reserve_target; the budget index for "
                                         "in-house, 1 for the market) in the viability "
                                         "score.")
    viability_reserve_target: float = _p(0.10, 0.001, 5.0, "share of V0", "teckal",
                                         "assumption: a tenth of a year's contract, about "
                                         "five weeks of spending, as a going-concern cushion",
                                         "Reserves at which a Teckal company's financial "
                                         "standing scores full marks.")
    appraisal_noise_sd: float = _p(0.08, 0.0, 1.0, "viability score", "teckal",
                                   f"{SEED_RSA} §4.3 'test the marketplace' (a test, not "
                                   "a certainty); assumption, set with the in-house and "
                                   "market capabilities so that about one incubated "
                                   "service in five is taken back (docs/ODD.md)",
                                   "Sd of the council's error in appraising the company's "
                                   "viability at the end of incubation (normal "
                                   "``appraisal`` draw).")
    appraisal_inhouse_capability: float = _p(0.47, 0.0, 1.0, "capability", "teckal",
                                             "assumption: an in-house service about as "
                                             "capable as a proposal at its start",
                                             "Capability the council credits its in-house "
                                             "option with (quality: the in-house quality, "
                                             "which falls with the budget; financial "
                                             "standing: the budget index).")
    appraisal_market_capability: float = _p(0.47, 0.0, 1.0, "capability", "teckal",
                                            "assumption: as capable as the in-house option "
                                            "(large established providers)",
                                            "Capability the council credits the market "
                                            "option (outsourcing) with (quality: "
                                            "private_quality; financial standing: 1).")

    # --- protection ----------------------------------------------------------------------
    protection_years: int = _p(3, 0, 50, "years", "protection",
                               f"{SEED_RSA} §5 'initial uncontested contracts of three to five "
                               "years'; PCR 2015 reg. 77 (3 years)",
                               "Length of the uncontested initial contract (0 = open "
                               "competition at spin-out).")
    protection_years_spread: int = _p(2, 0, 10, "years", "protection",
                                      f"{SEED_RSA} §5 (initial contracts 'of three to five "
                                      "years', other contracts 'five to seven' and '15 "
                                      "years': lengths differ between councils and mutuals by "
                                      "two years and more); ±2 and the uniform shape an "
                                      "assumption",
                                      "Half-width of each protected contract's length: "
                                      "protection_years + a whole number drawn uniformly "
                                      "from -spread..spread, at least 1 year (0 = every "
                                      "mutual gets protection_years; no protection stays "
                                      "none).")
    contract_years: int = _p(5, 1, 30, "years", "protection", "assumption",
                             "Central term of a contract awarded by tender.")
    contract_years_spread: int = _p(2, 0, 10, "years", "protection",
                                    f"{SEED_RSA} §5 (contracts of 'three to five', 'five to "
                                    "seven' and '15 years' all in use); uniform shape an "
                                    "assumption",
                                    "Half-width of each tendered contract's term: "
                                    "contract_years + a whole number drawn uniformly from "
                                    "-spread..spread, at least 1 year (0 = fixed term).")
    extension_prob: float = _p(0.30, 0.0, 1.0, "probability per expiry", "protection",
                               "assumption: councils often extend or directly re-award a "
                               "contract rather than re-tender it (extension options of the "
                               "'5 + 2' kind)",
                               "Chance a council extends an expiring contract instead of "
                               "tendering it, for a provider at the reference performance and "
                               "a council with no co-production and no risk aversion.")
    extension_performance_slope: float = _p(2.0, 0.0, 20.0, "probability per unit score",
                                            "protection", "assumption",
                                            "Rise of the extension chance per unit of "
                                            "performance above performance_reference.")
    performance_reference: float = _p(0.60, 0.0, 1.0, "score", "protection", "assumption",
                                      "Performance (quality and social value) at which the "
                                      "extension chance is extension_prob.")
    performance_quality_share: float = _p(0.5, 0.0, 1.0, "share", "protection",
                                          f"{SEED_RSA} §4.1 (outcomes and social value, "
                                          "not just cost); assumption",
                                          "Weight of quality in a council's view of a "
                                          "mutual's performance (the rest is social value).")
    extension_coproduction_shift: float = _p(0.5, 0.0, 5.0, "per unit co-production",
                                             "protection",
                                             f"{SEED_RSA} §4.1 (co-operative councils value "
                                             "relationships with providers); assumption",
                                             "Relative rise of the extension chance per unit "
                                             "of co-production.")
    extension_risk_shift: float = _p(0.5, 0.0, 1.0, "per unit risk aversion", "protection",
                                     f"{SEED_RSA} §4.3 ('risk-averse' councils); assumption: "
                                     "a risk-averse council fears a challenge to a direct "
                                     "award",
                                     "Relative fall of the extension chance per unit of risk "
                                     "aversion.")
    extension_years: int = _p(2, 1, 10, "years", "protection",
                              "assumption: the '+2' of a '5 + 2' contract",
                              "Length of one extension or direct award.")
    max_extensions: int = _p(1, 0, 10, "extensions", "protection",
                             "assumption: procurement rules limit repeated direct awards",
                             "Extensions a contract may get in a row before it must be "
                             "tendered (0 = never extended).")
    break_threshold: float = _p(0.53, 0.0, 1.0, "score", "protection",
                                f"{SEED_GOV} para 91 (the authority remains 'responsible for "
                                "ensuring service continuity'); assumption: about the lowest "
                                "quarter of trading mutuals' performance in the baseline",
                                "Performance below which a council may use a contract's break "
                                "clause.")
    break_clause_prob: float = _p(0.05, 0.0, 1.0, "1/year", "protection",
                                  "assumption: early termination is a rare remedy",
                                  "Chance per year that a council uses the break clause of a "
                                  "contract performing below break_threshold; the contract is "
                                  "then tendered at once without the mutual.")

    # --- commissioning --------------------------------------------------------------------
    commissioning_style: str = _p("mixed", None, None, "preset", "commissioning",
                                  f"{SEED_RSA} §4.1; weights are assumptions",
                                  "Preset for tender weights, co-production and risk stance "
                                  "imposed on every council; 'mixed' (default): each council "
                                  "draws its style from the style shares.",
                                  choices=("mixed", *STYLE_PRESETS))
    cost_led_share: float = _p(0.35, 0.0, 1.0, "share of councils", "commissioning",
                               f"{SEED_RSA} §4.2 (spin-outs 'often management-driven reactions "
                               "to spending cuts' in most councils); assumption",
                               "Share of cost-led councils when the style is 'mixed'.")
    cooperative_share: float = _p(0.15, 0.0, 1.0, "share of councils", "commissioning",
                                  f"{SEED_RSA} §4.1 (Lambeth, Oldham, York: co-operative "
                                  "councils a minority); assumption (the Co-operative Councils "
                                  "Network had about 20 members in 2013 of ~150)",
                                  "Share of co-operative councils when the style is 'mixed' "
                                  "(the rest are strategic).")
    council_policy_sd: float = _p(0.1, 0.0, 0.5, "s.d.", "commissioning", "assumption",
                                  "Spread of a council's co-production and risk aversion "
                                  "around its style's preset (style 'mixed', values not set).")
    price_weight: float | None = _p(None, 0.0, 1.0, "weight", "commissioning",
                                    "assumption (from style preset unless set)",
                                    "Tender weight on price.")
    quality_weight: float | None = _p(None, 0.0, 1.0, "weight", "commissioning",
                                      "assumption (from style preset unless set)",
                                      "Tender weight on quality.")
    social_weight: float | None = _p(None, 0.0, 1.0, "weight", "commissioning",
                                     f"Social Value Act 2012 ({SEED_GOV} para 64); preset",
                                     "Tender weight on social value.")
    financial_weight: float | None = _p(None, 0.0, 1.0, "weight", "commissioning",
                                        f"{SEED_RSA} §1 ('strong financial track records')",
                                        "Tender weight on financial standing.")
    coproduction: float | None = _p(None, 0.0, 1.0, "level", "commissioning",
                                    f"{SEED_RSA} §4.1 'Citizens are at the heart of "
                                    "commissioning'; preset",
                                    "How far citizens take part in commissioning.")
    risk_aversion: float | None = _p(None, 0.0, 1.0, "level", "commissioning",
                                     f"{SEED_RSA} §4.3 'risk aware' vs 'risk-averse'; preset",
                                     "How hard the council penalises a short track record or "
                                     "thin reserves, and how readily it takes a service back.")
    austerity_price_shift: float = _p(1.0, 0.0, 10.0, "per unit budget cut", "commissioning",
                                      "DESIGN §3.7 (austerity raises price weight); assumption",
                                      "Relative rise of the price weight per unit of budget "
                                      "cut.")
    coproduction_weight_shift: float = _p(0.6, 0.0, 5.0, "per unit engagement",
                                          "commissioning",
                                          f"{SEED_RSA} §4.1 (co-production); assumption",
                                          "Relative rise of quality and social-value weights "
                                          "per unit of co-produced citizen engagement.")
    lots: int = _p(1, 1, 10, "lots", "commissioning",
                   f"{SEED_RSA} §4.2 'Market making' (Oldham broke tenders into smaller blocks)",
                   "Lots every council splits a contract into at tender when 2 or more; 1 "
                   "(default): each council's own lot policy (lots_split, lot_split_share).")
    lots_split: int = _p(3, 1, 10, "lots", "commissioning",
                         f"{SEED_RSA} §4.2 'Market making'; assumption",
                         "Lots a council that splits its contracts uses.")
    lot_split_share: float = _p(0.15, 0.0, 1.0, "share of councils", "commissioning",
                                f"{SEED_RSA} §4.2 (Oldham as an example); assumption (as "
                                "co-operative councils)",
                                "Share of councils that split their contracts into lots_split "
                                "lots (when lots = 1).")
    lot_tender_cost: float = _p(0.02, 0.0, 10.0, "GBP m per lot tendered", "commissioning",
                                "assumption: the order of magnitude of a procedure's cost to "
                                "the authority in PwC, London Economics & Ecorys (2011) "
                                "'Public procurement in Europe: cost and effectiveness'",
                                "Council's one-off transaction cost of tendering one lot "
                                "(council spend).")
    mentoring_clauses: bool = _p(False, None, None, "switch", "commissioning",
                                 f"{SEED_RSA} §6 ('mentoring' agreements as CSR)",
                                 "Large providers holding a council contract must support "
                                 "capacity building of the council's fledgling mutuals.")
    support_level: float = _p(0.2, 0.0, 1.0, "level", "commissioning",
                              f"{SEED_RSA} §5 (support 'necessary (but often insufficient)')",
                              "Mean council incubation and business-advice support "
                              "capability.")
    support_level_sd: float = _p(0.1, 0.0, 0.5, "s.d.", "commissioning",
                                 f"{SEED_RSA} §5 (councils differ in support); assumption",
                                 "Spread of the councils' support capability (0 = every "
                                 "council at support_level).")
    support_cost: float = _p(0.02, 0.0, 1.0, "share of V0 per year", "commissioning",
                             "assumption", "Council cost of full support for one mutual-year.")
    business_support_years: int = _p(5, 0, 50, "years", "commissioning",
                                     "assumption: a start-up support package of a few years "
                                     f"(cf. {SEED_GOV}: programmes funded to March 2015)",
                                     "Years after spin-out the council's business support "
                                     "acts (learning) and is paid for; it also acts during "
                                     "incubation.")

    # --- tender ----------------------------------------------------------------------------
    private_bid_prob: float = _p(0.31, 0.0, 1.0, "probability", "tender",
                                 "assumption; calibrated: ABC posterior median "
                                 "(docs/CALIBRATION.md)",
                                 "Chance each private firm bids for a given tender.")
    local_bidders: int = _p(4, 0, 50, "firms", "tender",
                            f"{SEED_RSA} §4.2 'Market making' (Oldham: 'local companies or "
                            "consortia of small companies'); count an assumption",
                            "Local SMEs that may bid for a council's lots.")
    local_bid_prob: float = _p(0.5, 0.0, 1.0, "probability", "tender", "assumption",
                               "Chance a local SME bids for a lot it can deliver alone.")
    local_capacity: float = _p(0.6, 0.0, 1000.0, "GBP m/year", "tender",
                               f"{SEED_RSA} §4.2 (Oldham broke tenders into 'smaller blocks' "
                               "so small companies could bid); value an assumption",
                               "Largest lot a local SME takes on alone.")
    consortium_prob: float = _p(0.3, 0.0, 1.0, "probability", "tender",
                                f"{SEED_RSA} §4.2 ('consortia of small companies'); "
                                "assumption",
                                "Chance (relative to local_bid_prob) that a local SME bids "
                                "for a larger lot as part of a consortium.")
    consortium_size: int = _p(3, 1, 20, "firms", "tender", "assumption",
                              "Largest consortium: lots up to consortium_size x "
                              "local_capacity attract consortium bids, larger ones none.")
    consortium_cost_markup: float = _p(0.03, 0.0, 1.0, "share of unit cost", "tender",
                                       "assumption: coordination cost of a consortium",
                                       "Unit-cost mark-up of a consortium bid.")
    local_unit_cost: float = _p(0.92, 0.3, 2.0, "x in-house unit cost", "tender",
                                f"{SEED_RSA} §4.1 (local providers lack the scale of 'large "
                                "established private firms'); assumption",
                                "Mean unit cost of a local SME (no economies of scale; varies "
                                "per tender with s.d. firm_sd).")
    local_margin: float = _p(0.05, 0.0, 1.0, "share", "tender", "assumption",
                             "Profit margin in local SME bids.")
    local_quality: float = _p(0.60, 0.0, 1.0, "score", "tender", "assumption",
                              "Service quality of local SMEs.")
    local_social_value: float = _p(0.55, 0.0, 1.0, "score", "tender",
                                   f"{SEED_RSA} §4.1 (providers 'that support the local labour "
                                   "market'); assumption",
                                   "Social value of local SMEs.")
    local_financial: float = _p(0.50, 0.0, 1.0, "score", "tender",
                                f"{SEED_RSA} §1 (large firms' 'strong financial track "
                                "records'); assumption",
                                "Financial standing of local SMEs.")
    track_record_years: float = _p(3.0, 0.5, 50.0, "years", "tender",
                                   "assumption informed by pre-qualification practice before "
                                   "2014: the standard questionnaires (OGC model PQQ; BSI PAS "
                                   "91:2010) ask a bidder for its last three years' accounts, "
                                   "so three years of trading give a full record",
                                   "Years of trading for a full track record in a council's "
                                   "rating of a mutual's financial standing.")
    reserve_cushion: float = _p(0.15, 0.001, 5.0, "share of V0", "tender", "assumption",
                                "Reserves for full marks on reserves in the financial "
                                "standing rating.")
    standing_floor: float = _p(0.2, 0.0, 1.0, "score", "tender",
                               f"{SEED_RSA} §1 ('strong financial track records'); assumption",
                               "Financial standing of a new mutual with no reserves.")
    standing_record_weight: float = _p(0.4, 0.0, 1.0, "score", "tender", "assumption",
                                       "Financial standing added by a full track record (the "
                                       "rest up to 1 - standing_floor comes from reserves).")
    financial_weight_base: float = _p(0.5, 0.0, 5.0, "multiplier", "tender",
                                      f"{SEED_RSA} §4.3 ('risk aware' vs 'risk-averse'); "
                                      "assumption",
                                      "Financial-standing weight multiplier at zero risk "
                                      "aversion: weight x (financial_weight_base + risk "
                                      "aversion).")
    eval_noise: float = _p(0.074, 0.0, 1.0, "score s.d.", "tender",
                           "assumption; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                           "Noise in a council's evaluation of each bid.")
    incumbency_bonus: float = _p(0.066, 0.0, 1.0, "score", "tender",
                                 "assumption; calibrated: ABC posterior median "
                                 "(docs/CALIBRATION.md)",
                                 "Score advantage of the incumbent (continuity, knowledge).")
    private_unit_cost: float = _p(0.90, 0.3, 2.0, "x in-house unit cost", "tender",
                                  f"{SEED_RSA} §4.1 (firms' 'low-cost service at scale')",
                                  "Private unit cost at the reference lot size.")
    scale_elasticity: float = _p(0.08, 0.0, 1.0, "elasticity", "tender",
                                 f"{SEED_RSA} §6 ('economies of scale with large contracts')",
                                 "Private unit cost ~ (lot value / reference)^-elasticity.")
    reference_lot: float = _p(2.0, 0.01, 1000.0, "GBP m/year", "tender", "assumption",
                              "Lot value at which private unit cost equals private_unit_cost.")
    private_margin: float = _p(0.08, 0.0, 1.0, "share", "tender", "assumption",
                               "Profit margin in private bids.")
    mutual_margin: float = _p(0.02, 0.0, 1.0, "share", "tender", "assumption",
                              "Surplus margin in mutual bids.")
    private_quality: float = _p(0.60, 0.0, 1.0, "score", "tender", "assumption",
                                "Mean service quality of private firms.")
    private_social_value: float = _p(0.30, 0.0, 1.0, "score", "tender",
                                     f"{SEED_RSA} §4.1 (firms' only advantage is cost)",
                                     "Mean social value of private firms.")
    inhouse_social_value: float = _p(0.45, 0.0, 1.0, "score", "tender",
                                     "assumption: between private firms (0.30) and a "
                                     "reactive mutual at proposal (0.50)",
                                     "Social value of a service the council still provides "
                                     "itself (observation only: the panel's social_value).")
    private_financial: float = _p(0.90, 0.0, 1.0, "score", "tender",
                                  f"{SEED_RSA} §1 ('strong financial track records')",
                                  "Mean financial standing of private firms.")
    firm_sd: float = _p(0.05, 0.0, 0.5, "s.d.", "tender", "assumption",
                        "Spread of firm attributes around their means.")
    firm_cost_min: float = _p(0.5, 0.0, 1.0, "x private_unit_cost", "tender", "assumption",
                              "Lowest cost factor of a national firm.")
    firm_cost_max: float = _p(1.5, 1.0, 5.0, "x private_unit_cost", "tender", "assumption",
                              "Highest cost factor of a national firm.")
    contract_value: float = _p(2.0, 0.01, 1000.0, "GBP m/year", "tender", "assumption",
                               "Median baseline annual value V0 of a service.")
    contract_value_sdlog: float = _p(0.6, 0.0, 3.0, "log s.d.", "tender", "assumption",
                                     "Log-normal spread of V0 across services.")

    # --- the mutual --------------------------------------------------------------------------
    capability_reactive: float = _p(0.25, 0.0, 1.0, "score", "mutual",
                                    f"{SEED_RSA} §4.3 'new skills we don't currently have'",
                                    "Mean business capability at proposal, reactive origin.")
    capability_strategic: float = _p(0.35, 0.0, 1.0, "score", "mutual",
                                     f"{SEED_RSA} §5 (bottom-up mutuals most successful)",
                                     "Mean business capability at proposal, strategic origin.")
    capability_sd: float = _p(0.08, 0.0, 0.5, "s.d.", "mutual", "assumption",
                              "Spread of initial capability.")
    pension_overhead: float = _p(0.03, 0.0, 1.0, "share of unit cost", "mutual",
                                 f"{SEED_RSA} §4.3 (TUPE, pensions, staff T&C)",
                                 "Unit-cost mark-up from TUPE and pension obligations.")
    cost_position_sd: float = _p(0.04, 0.0, 0.5, "s.d. of unit-cost factor", "mutual",
                                 f"{SEED_RSA} §4.3 (councils 'haven't really been able to "
                                 "find a way to cost the extraction of a small service'); "
                                 "size assumption",
                                 "Spread of the unit-cost factor each mutual starts with "
                                 "(1 = average; kept in cost_position_min to "
                                 "cost_position_max).")
    cost_position_min: float = _p(0.5, 0.0, 1.0, "unit-cost factor", "mutual",
                                  "assumption: no mutual starts at less than half the "
                                  "average unit cost",
                                  "Lowest unit-cost factor a mutual starts with.")
    cost_position_max: float = _p(1.5, 1.0, 5.0, "unit-cost factor", "mutual",
                                  "assumption: no mutual starts at more than 1.5 times the "
                                  "average unit cost",
                                  "Highest unit-cost factor a mutual starts with.")
    pay_drift_sd: float = _p(0.01, 0.0, 0.5, "s.d. per year", "mutual",
                             f"{SEED_RSA} §4.3 (staff T&C); assumption: local pay settlements "
                             "and grade drift of about a point a year",
                             "Yearly random change of a mutual's unit-cost factor (a random "
                             "walk from spin-out).")
    pension_shock_prob: float = _p(0.33, 0.0, 1.0, "1/year", "mutual",
                                   "LGPS actuarial valuations every three years (LGPS "
                                   "(Administration) Regulations 2008 reg. 36)",
                                   "Chance per year of a pension revaluation that raises a "
                                   "mutual's employer contributions.")
    pension_shock_size: float = _p(0.01, 0.0, 0.5, "share of unit cost", "mutual",
                                   f"{SEED_RSA} §4.3 (pensions); assumption: a rise of 1-2 "
                                   "points of pay in employer contributions, pay about "
                                   "two-thirds of unit cost",
                                   "Permanent rise of the unit-cost factor at a pension "
                                   "revaluation.")
    backoffice_overhead: float = _p(0.067, 0.0, 1.0, "share of V0 per year", "mutual",
                                    f"{SEED_RSA} §4.3 (back-office functions)"
                                    "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                                    "Annual overhead of an independent back office for "
                                    "the whole service (it follows the share of the "
                                    "service's contract held; see overhead_floor, "
                                    "overhead_adjust_years).")
    overhead_floor: float = _p(0.3, 0.0, 1.0, "share of the full back office", "mutual",
                               "assumption: governance, finance and audit a going concern "
                               "keeps whatever its size",
                               "Share of the full back office a mutual keeps however small "
                               "its core contract; a mutual without one winds down unless its "
                               "other net income covers wind_down_threshold x this.")
    overhead_fixed_share: float = _p(0.5, 0.0, 1.0, "share of the back office", "mutual",
                                     f"{SEED_RSA} §4.3 (back-office functions); assumption: "
                                     "premises, systems and governance do not follow the "
                                     "volume a council buys",
                                     "Share of the back office that budget cuts do not "
                                     "shrink (the rest follows the council's budget).")
    overhead_adjust_years: int = _p(2, 1, 20, "years", "mutual",
                                    f"{SEED_RSA} §4.3 ('the impact on back-office functions'); "
                                    "assumption: notice periods and leases of one to two years",
                                    "Years over which the back office shrinks after a "
                                    "contract or lot is lost (staff on the contract leave "
                                    "with it at once under TUPE).")
    lot_overhead: float = _p(0.02, 0.0, 10.0, "GBP m per lot per year", "mutual",
                             f"{SEED_RSA} §4.3 (back-office functions); assumption: a share "
                             "of a contract manager per contract",
                             "Yearly overhead of managing each lot (a separate contract) a "
                             "trading mutual holds beyond the first; the first is covered by "
                             "backoffice_overhead, a protected contract is one lot.")
    efficiency_max: float = _p(0.20, 0.0, 0.9, "share of unit cost", "mutual",
                               f"{SEED_GOV} Introduction ('can produce efficiencies')",
                               "Unit-cost saving at full capability.")
    initial_price: float = _p(1.00, 0.3, 2.0, "x in-house unit cost", "mutual", "assumption",
                              "Unit price of the protected initial contract.")
    reactive_saving: float = _p(0.04, 0.0, 0.9, "share", "mutual",
                                f"{SEED_RSA} §4.2 (reactive spin-outs as responses to cuts)",
                                "Saving demanded of a reactive spin-out's initial contract.")
    dowry: float = _p(0.08, 0.0, 5.0, "share of V0", "mutual",
                      f"{SEED_GOV} para 54 ('finance ... in short supply'); assumption",
                      "Reserves at spin-out.")
    credit_facility: float = _p(0.10, 0.0, 5.0, "share of V0", "mutual",
                                f"{SEED_GOV} para 54 ('finance ... in short supply'); "
                                "assumption: an overdraft of about five weeks' turnover",
                                "Unsecured borrowing on the service's baseline value; with "
                                "asset_collateral, the liquidity a mutual can fall to before "
                                "it is insolvent (it does not vanish with a contract).")
    asset_collateral: float = _p(0.5, 0.0, 1.0, "share of asset value", "mutual",
                                 f"{SEED_GOV} (an asset lock does 'not prevent a body from "
                                 "borrowing against ... that asset'); assumption: loan-to-"
                                 "value of secured lending to small firms",
                                 "Share of transferred assets' value a mutual can borrow "
                                 "against (locked or not).")
    quality_initial: float = _p(0.62, 0.0, 1.0, "score", "mutual", "assumption",
                                "Service quality at proposal.")
    social_value_reactive: float = _p(0.50, 0.0, 1.0, "score", "mutual",
                                      f"{SEED_RSA} §4.2", "Social value at proposal, reactive.")
    social_value_strategic: float = _p(0.62, 0.0, 1.0, "score", "mutual",
                                       f"{SEED_RSA} §4.2 (strong social value case)",
                                       "Social value at proposal, strategic.")
    governance_reactive: float = _p(0.30, 0.0, 1.0, "share", "mutual",
                                    f"{SEED_RSA} §4.1 ('producer capture')",
                                    "Citizens' share of governance, reactive origin.")
    governance_strategic: float = _p(0.60, 0.0, 1.0, "share", "mutual",
                                     f"{SEED_RSA} §4.1 ('users ... embedded within their "
                                     "governance structures')",
                                     "Citizens' share of governance, strategic origin.")
    capture_rate: float = _p(0.03, 0.0, 1.0, "score/year", "mutual",
                             f"{SEED_RSA} §4.1 ('no guarantee against producer capture')",
                             "Yearly drift of quality and social value towards provider "
                             "interests when governance lacks citizens.")
    adjust_rate: float = _p(0.25, 0.0, 1.0, "1/year", "mutual", "assumption",
                            "Share of the gap to target quality/social value closed per year.")
    quality_capability_effect: float = _p(0.2, 0.0, 1.0, "score per unit capability",
                                          "mutual", "assumption",
                                          "Rise of the target quality per unit of business "
                                          "capability above quality_capability_pivot.")
    quality_capability_pivot: float = _p(0.3, 0.0, 1.0, "score", "mutual", "assumption",
                                         "Capability at which the target quality is "
                                         "quality_initial (before engagement).")
    quality_engagement_effect: float = _p(0.1, 0.0, 1.0, "score per unit engagement",
                                          "mutual", f"{SEED_RSA} §4.1; assumption",
                                          "Rise of the target quality per unit of citizens' "
                                          "engagement.")
    social_value_governance_effect: float = _p(0.2, 0.0, 1.0, "score", "mutual",
                                               f"{SEED_RSA} §4.1 ('users ... embedded within "
                                               "their governance structures'); assumption",
                                               "Rise of the target social value per unit of "
                                               "citizens' governance x engagement.")

    # --- income ---------------------------------------------------------------------------
    trading_start: float = _p(0.03, 0.0, 5.0, "share of V0 per year", "income",
                              f"{SEED_RSA} §4.3 (Lambeth Resource Centre business plan)",
                              "Trading income at spin-out.")
    trading_growth: float = _p(0.17, 0.0, 2.0, "1/year", "income",
                               f"{SEED_RSA} §4.1 (diversifying revenue streams)"
                               "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                               "Trading growth rate at full capability.")
    trading_noise: float = _p(0.05, 0.0, 1.0, "s.d. of growth per year", "income",
                              "assumption", "Yearly noise in trading-income growth.")
    trading_cap: float = _p(0.5, 0.0, 10.0, "share of V0 per year", "income", "assumption",
                            "Ceiling of trading income (logistic growth).")
    trading_margin: float = _p(0.15, 0.0, 1.0, "share", "income", "assumption",
                               "Net margin on trading income.")
    recession_trading_penalty: float = _p(0.20, 0.0, 2.0, "1/year", "income",
                                          f"{SEED_RSA} §4.3 ('Against a backdrop of austerity "
                                          "and economic recession ... a huge challenge')",
                                          "Fall in trading growth in a recession year.")
    recession_trading_cut: float = _p(0.15, 0.0, 1.0, "share of trading income", "income",
                                      f"{SEED_RSA} §4.3 ('austerity and economic recession'); "
                                      "assumption: a recession year's fall in discretionary "
                                      "spending on the services a mutual sells",
                                      "Trading income lost in a recession year after its "
                                      "costs are committed (the loss persists).")
    volume_shock_sd: float = _p(0.03, 0.0, 0.5, "s.d. of volume", "income",
                                "assumption: year-to-year variation in call-off volumes of "
                                "demand-led services",
                                "Yearly shock to the volume of the core contract the council "
                                "pays for; staff costs are committed on the contracted volume.")
    citizen_demand_effect: float = _p(0.06, 0.0, 2.0, "1/year", "income",
                                      f"{SEED_RSA} §4.1 (community networks)",
                                      "Trading growth per unit of citizen support.")
    external_win_rate: float = _p(0.15, 0.0, 1.0, "1/year", "income",
                                  f"{SEED_RSA} §4.3 ('business opportunities beyond the "
                                  "council contract')",
                                  "Chance per year of winning a contract elsewhere at full "
                                  "capability.")
    external_size: float = _p(0.25, 0.0, 10.0, "share of V0 per year", "income", "assumption",
                              "Annual value of a contract won elsewhere.")
    external_churn: float = _p(0.20, 0.0, 1.0, "1/year", "income", "assumption",
                               "Share of contracts-elsewhere income ending each year.")
    external_margin: float = _p(0.04, 0.0, 1.0, "share", "income", "assumption",
                                "Net margin on contracts won elsewhere.")
    grant_prob: float = _p(0.30, 0.0, 1.0, "1/year", "income",
                           f"{SEED_RSA} §4.3 (grants 'not available while we remain within "
                           f"the local authority'); {SEED_GOV} (grants programme)",
                           "Chance per year of a grant, once independent.")
    grant_size: float = _p(0.03, 0.0, 5.0, "share of V0", "income", "assumption",
                           "Net value of a grant.")
    volunteering_saving: float = _p(0.02, 0.0, 1.0, "share of unit cost", "income",
                                    f"{SEED_RSA} §4.1 (staff and residents volunteering)",
                                    "Unit-cost saving at full citizen support and engagement.")

    # --- capability ------------------------------------------------------------------------
    learning_rate: float = _p(0.093, 0.0, 1.0, "1/year", "capability",
                              f"{SEED_RSA} §4.3 'culture change and upskilling'"
                              "; calibrated: ABC posterior median (docs/CALIBRATION.md)",
                              "Share of the capability gap closed per year by learning.")
    capability_noise: float = _p(0.02, 0.0, 0.5, "s.d. per year", "capability", "assumption",
                                 "Yearly noise in business capability.")
    competition_learning: float = _p(0.02, 0.0, 1.0, "1/year", "capability", "assumption",
                                     "Extra learning while exposed to competition.")
    support_effect: float = _p(0.08, 0.0, 1.0, "1/year", "capability",
                               f"{SEED_RSA} §6 (Swedish business advisory teams)",
                               "Extra capability gap closed per year at full support, "
                               "while the support acts (business_support_years).")
    mentoring_effect: float = _p(0.05, 0.0, 1.0, "1/year", "capability",
                                 f"{SEED_RSA} §6 ('mentoring' agreements)",
                                 "Extra capability gap closed per year by a mentored mutual.")
    mentoring_years: int = _p(5, 0, 50, "years", "capability",
                              f"{SEED_RSA} §6 ('a fledgling mutual'); assumption",
                              "Years after spin-out a mutual counts as fledgling and can be "
                              "mentored by a provider holding one of its council's contracts.")

    # --- council and economy -------------------------------------------------------------
    austerity_rate: float = _p(0.02, 0.0, 0.5, "1/year", "council",
                               f"{SEED_RSA} §1 (LGA 2012 funding outlook); assumption",
                               "Mean yearly real-terms fall of councils' commissioning "
                               "budgets.")
    austerity_rate_sd: float = _p(0.01, 0.0, 0.5, "1/year", "council",
                                  "DCLG 2011-12 settlement (Dec 2010): spending-power cuts "
                                  "averaged 4.4%, capped at 8.9% (the largest about twice the "
                                  "mean); JRF (Hastings et al., Nov 2013): larger cuts in "
                                  "deprived councils; s.d. = half the mean (assumption)",
                                  "Spread across councils of their yearly budget cut (each "
                                  "council's own rate, at least 0).")
    budget_floor: float = _p(0.2, 0.0, 1.0, "share of start budget", "council", "assumption",
                             "Budget index below which no council is cut.")
    austerity_years: int = _p(10, 0, 100, "years", "council",
                              "LGA (2012) outlook to 2019/20", "Years of austerity from start.")
    shock_prob: float = _p(0.03, 0.0, 1.0, "1/council/year", "council", "assumption",
                           "Chance of an extra budget cut in a council-year.")
    shock_size: float = _p(0.05, 0.0, 0.9, "share of budget", "council", "assumption",
                           "Size of a budget shock.")
    price_squeeze: float = _p(0.3, 0.0, 1.0, "per unit budget cut", "council", "assumption",
                              "Fall of the unit-price ceiling per unit of budget cut.")
    recession_start: bool = _p(True, None, None, "switch", "council",
                               f"{SEED_RSA} §4.3 ('austerity and economic recession')",
                               "The economy is in recession in the first year.")
    recession_enter_prob: float = _p(0.10, 0.0, 1.0, "1/year", "council", "assumption",
                                "Chance a recession starts in a growth year.")
    recession_exit_prob: float = _p(0.40, 0.0, 1.0, "1/year", "council", "assumption",
                               "Chance a recession ends in a year.")
    stranded_cost: float = _p(0.03, 0.0, 1.0, "share of V0 per year", "council",
                              f"{SEED_RSA} §4.3 ('leaving large overheads' in the council's "
                              "back office); assumption (about 40% of backoffice_overhead)",
                              "Back-office cost a council keeps after a service spins out.")
    stranded_years: int = _p(3, 0, 50, "years", "council",
                             f"{SEED_RSA} §4.3; assumption (time to restructure a back office)",
                             "Years (from the spin-out year) the stranded cost lasts.")
    step_in_cost: float = _p(0.25, 0.0, 5.0, "share of annual contract", "council",
                             f"{SEED_GOV} para 91 (authority 'responsible for ensuring service "
                             "continuity')",
                             "One-off council cost when a provider holding its contract fails.")
    asset_lock: bool = _p(True, None, None, "switch", "council",
                          f"{SEED_GOV} (asset lock guidance)",
                          "Assets of an exiting mutual stay with the community.")
    asset_transfer: float = _p(0.10, 0.0, 5.0, "share of V0", "council", f"{SEED_GOV}",
                               "Assets transferred to the mutual at spin-out.")
    asset_lock_deterrence: float = _p(0.7, 0.0, 1.0, "share", "council",
                                      f"{SEED_GOV} ('stripped or lost entirely if ... bought "
                                      "out')",
                                      "Reduction of takeover risk under an asset lock.")

    # --- citizens --------------------------------------------------------------------------
    citizen_propensity: float = _p(0.5, 0.0, 1.0, "score", "citizens",
                                   f"{SEED_RSA} §6 ('limited interest' of citizens)",
                                   "Mean propensity of citizens to engage.")
    citizen_propensity_sd: float = _p(0.15, 0.0, 1.0, "s.d.", "citizens", "assumption",
                                      "Spread of citizens' propensity to engage.")
    engagement_initial: float = _p(0.3, 0.0, 1.0, "score", "citizens", "assumption",
                                   "Citizens' engagement in the first year.")
    citizen_support_initial: float = _p(0.3, 0.0, 1.0, "score", "citizens", "assumption",
                                        "Citizens' support for mutuals in the first year.")
    engagement_coproduction_floor: float = _p(0.4, 0.0, 1.0, "share", "citizens",
                                              f"{SEED_RSA} §4.1 (co-production); assumption",
                                              "Engagement target, as a share of propensity, "
                                              "where the council does not co-produce (1 at "
                                              "full co-production).")
    support_satisfaction_weight: float = _p(0.5, 0.0, 1.0, "weight", "citizens",
                                            "assumption",
                                            "Weight of satisfaction (the rest: engagement) in "
                                            "citizens' support for their mutual.")
    engagement_noise: float = _p(0.05, 0.0, 1.0, "s.d.", "citizens", "assumption",
                                 "Yearly noise in engagement.")
    inhouse_quality_drift: float = _p(0.1, 0.0, 1.0, "per unit budget cut", "citizens",
                                      "assumption",
                                      "Fall of in-house service quality per unit of budget "
                                      "cut.")
    score_min: float = _p(0.02, 0.0, 1.0, "score", "citizens", "assumption",
                          "Lowest drawn propensity or firm attribute.")
    score_max: float = _p(0.98, 0.0, 1.0, "score", "citizens", "assumption",
                          "Highest drawn propensity or firm attribute.")
    citizen_adjust: float = _p(0.3, 0.0, 1.0, "1/year", "citizens", "assumption",
                               "Speed at which citizens' engagement, satisfaction and support "
                               "follow their drivers.")

    # --- exits -----------------------------------------------------------------------------
    wind_down_threshold: float = _p(1.0, 0.0, 10.0, "x kept overhead", "exit",
                                    f"{SEED_RSA} §4.3 ('losing that dependence on the core "
                                    "contract')",
                                    "After losing its core contract a mutual winds down unless "
                                    "its other net income covers this multiple of the back "
                                    "office it keeps (overhead_floor x the full one).")
    takeover_prob: float = _p(0.15, 0.0, 1.0, "1/year", "exit",
                              f"{SEED_GOV} ('if an organisation is bought out')",
                              "Chance per year that a mutual with negative reserves is taken "
                              "over.")

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some parameters changed (validated)."""
        unknown = sorted(set(changes) - set(FIELD_NAMES))
        for name in unknown:
            if (err := renamed_error(name, "Scenario.replace")) is not None:
                raise err
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r}; allowed: "
                             f"{', '.join(FIELD_NAMES)}", source="Scenario.replace")
        return dataclasses.replace(self, **changes)

    def resolved(self, name: str) -> float:
        """A style-dependent parameter: the explicit value if set, else the preset's (for
        the 'mixed' style, the presets' mean weighted by the style shares: the rules read
        each council's own value, this is the population's mean)."""
        value = getattr(self, name)
        if value is not None:
            return value
        if self.commissioning_style != "mixed":
            return STYLE_PRESETS[self.commissioning_style][name]
        return sum(share * STYLE_PRESETS[style][name]
                   for style, share in self.style_shares().items())

    def style_shares(self) -> dict[str, float]:
        """Share of councils of each style: all of one when a style is imposed."""
        if self.commissioning_style != "mixed":
            return {self.commissioning_style: 1.0}
        return {"cost_led": self.cost_led_share,
                "strategic": max(1.0 - self.cost_led_share - self.cooperative_share, 0.0),
                "cooperative": self.cooperative_share}

    @property
    def max_lots(self) -> int:
        """The most lots any council can use (the width of a tender's score numbers)."""
        if self.lots >= 2:
            return self.lots
        return self.lots_split if self.lot_split_share > 0 else 1

    def tender_weights(self) -> tuple[float, float, float, float]:
        """Normalised (price, quality, social, financial) weights."""
        w = [self.resolved(n) for n in
             ("price_weight", "quality_weight", "social_weight", "financial_weight")]
        total = sum(w)
        return tuple(x / total for x in w)  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def end_year(self) -> int:
        return self.start_year + self.years - 1


FIELDS = {f.name: f for f in fields(Scenario)}
FIELD_NAMES = tuple(FIELDS)

# Scenario keys that were renamed: old name -> new name. An old key in a scenario file,
# an experiment or ``Scenario.replace`` gets one line naming the new key (ODD.md lists both).
RENAMED: dict[str, str] = {
    "credit_limit": "credit_facility",   # now a share of V0, not of this year's income
    "takeover_rate": "takeover_prob",    # a yearly probability
    # yearly probabilities end in _prob (issue 13)
    "reactive_rate": "reactive_prob",
    "strategic_rate": "strategic_prob",
    "prep_completion": "prep_completion_prob",
    "abandon_reactive": "abandon_reactive_prob",
    "abandon_strategic": "abandon_strategic_prob",
    "recession_enter": "recession_enter_prob",
    "recession_exit": "recession_exit_prob",
}


def renamed_error(name: str, source: str | None = None) -> InputError | None:
    """The one-line error for an old key (``None`` if ``name`` was never renamed)."""
    new = RENAMED.get(name)
    if new is None:
        return None
    return InputError(f"key {name!r} was renamed to {new!r}", source=source)
SECTIONS = tuple(dict.fromkeys(f.metadata["section"] for f in fields(Scenario)))


def _type_of(f: dataclasses.Field) -> type:
    return {"int": int, "float": float, "bool": bool, "str": str}[
        str(f.type).split(" ")[0]]


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 40, 40, 40


def show(value: Any) -> str:
    """A short ``repr`` for error messages: deep or long values are cut, never recursed."""
    return _REPR.repr(value)


def check_value(name: str, value: Any, source: str | None = None) -> Any:
    """Check one parameter's type and range; return it coerced (int -> float where allowed)."""
    f = FIELDS.get(name)
    if f is None:
        raise renamed_error(name, source) or InputError(f"unknown key {name!r}",
                                                        source=source)
    meta = f.metadata
    kind = _type_of(f)
    optional = "None" in str(f.type)
    if value is None and optional:
        return None
    if kind is bool:
        if not isinstance(value, bool | __import__("numpy").bool_):
            raise InputError(f"key {name!r} must be true or false, got {show(value)}",
                             source=source)
        return bool(value)
    if kind is str:
        if not isinstance(value, str) or value not in meta["choices"]:
            raise InputError(f"key {name!r} must be one of {', '.join(meta['choices'])}; "
                             f"got {show(value)}", source=source)
        return value
    import numpy as np
    is_number = (isinstance(value, int | float | np.integer | np.floating)
                 and not isinstance(value, bool))
    if not is_number:
        raise InputError(f"key {name!r} must be a number ({kind.__name__}), got "
                         f"{show(value)}", source=source)
    lo, hi = meta["lo"], meta["hi"]
    allowed = f"allowed {lo} to {hi} ({meta['unit']})"
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        raise InputError(f"key {name!r} = {show(value)} is not a finite number; {allowed}",
                         source=source)
    if kind is int:
        if isinstance(value, float | np.floating):
            if not float(value).is_integer():
                raise InputError(f"key {name!r} must be a whole number, got {show(value)}",
                                 source=source)
        value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer beyond any float
            raise InputError(f"key {name!r} = {show(value)} is out of range; {allowed}",
                             source=source) from None
    lo, hi = meta["lo"], meta["hi"]
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InputError(f"key {name!r} = {show(value)} is out of range; {allowed}",
                         source=source)
    return value


def validate(s: Scenario, source: str | None = None) -> None:
    """Check every field and the cross-field rules; raise InputError naming the key."""
    for name in FIELD_NAMES:
        coerced = check_value(name, getattr(s, name), source)
        if coerced is not None and type(coerced) is not type(getattr(s, name)):
            object.__setattr__(s, name, coerced)
    if s.cost_led_share + s.cooperative_share > 1.0 + 1e-12:
        raise InputError(f"cost_led_share + cooperative_share = "
                         f"{s.cost_led_share + s.cooperative_share:g} is over 1; the shares of "
                         "council styles cannot exceed 1", source=source)
    w = [s.resolved(n) for n in
         ("price_weight", "quality_weight", "social_weight", "financial_weight")]
    if sum(w) <= 0:
        raise InputError("tender weights price_weight, quality_weight, social_weight and "
                         "financial_weight sum to 0 and cannot be normalised; give at least "
                         "one a positive value", source=source)
    if s.standing_floor + s.standing_record_weight > 1.0:
        raise InputError(f"standing_floor + standing_record_weight = "
                         f"{s.standing_floor + s.standing_record_weight:g} is above 1; the "
                         "rest of a financial standing score (reserves) cannot be negative",
                         source=source)


def flatten_mapping(data: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """TOML-shaped data (sections of keys, or flat keys) as flat, validated field values."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in SECTIONS:
                raise InputError(f"unknown section [{key}]; allowed: {', '.join(SECTIONS)}",
                                 source=source)
            for sub, subval in value.items():
                f = FIELDS.get(sub)
                if f is None and (err := renamed_error(sub, source)) is not None:
                    raise err
                if f is None or f.metadata["section"] != key:
                    allowed = [n for n in FIELD_NAMES if FIELDS[n].metadata["section"] == key]
                    raise InputError(f"unknown key {sub!r} in [{key}]; allowed: "
                                     f"{', '.join(allowed)}", source=source)
                flat[sub] = check_value(sub, subval, source)
        else:
            if key not in FIELDS:
                if (err := renamed_error(key, source)) is not None:
                    raise err
                raise InputError(f"unknown key {key!r}; see docs/ODD.md for the allowed keys",
                                 source=source)
            flat[key] = check_value(key, value, source)
    return flat


def scenario_from_mapping(data: dict[str, Any], source: str | None = None) -> Scenario:
    """Build a Scenario from TOML-shaped data: sections of keys, or flat keys."""
    flat = flatten_mapping({k: v for k, v in data.items() if k not in ("name", "description")},
                           source)
    try:
        return Scenario(**flat)
    except InputError as err:
        if err.source is None:
            raise InputError(str(err), source=source) from None
        raise


MAX_TOML_BYTES = 1 << 20  # 1 MiB: far more than any scenario or experiment file needs


def read_text_file(path: str | Path, what: str, max_bytes: int = MAX_TOML_BYTES) -> str:
    """The text of a small regular file; anything else is one InputError naming it.

    Refuses a missing path, a folder, a device (``/dev/null``), a FIFO or socket (never
    opened, so nothing blocks), a file over ``max_bytes`` and one that cannot be read
    (e.g. ``/proc/self/mem``) or is not UTF-8.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what} file not found", source=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read {what} file: {err.strerror or err}",
                         source=str(path)) from None
    kernel = str(Path(os.path.abspath(path)).resolve()).startswith(("/proc/", "/sys/"))
    if kernel or not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a FIFO" if stat.S_ISFIFO(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else
                "a kernel interface file" if kernel else "special")
        article = "an" if what[:1] in "aeiou" else "a"
        raise InputError(f"not a regular file ({kind}); give {article} {what} TOML file",
                         source=str(path))
    check_text_size(info.st_size, what, str(path), max_bytes)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise InputError(f"cannot read {what} file: {err.strerror or err}",
                         source=str(path)) from None
    return decode_text(data, what, str(path), max_bytes)


def check_text_size(size: int, what: str, source: str, max_bytes: int = MAX_TOML_BYTES
                    ) -> None:
    """Refuse a ``what`` file said to be ``size`` bytes when that is over ``max_bytes``
    (before reading it)."""
    if size > max_bytes:
        raise InputError(f"{what} file is {size:,} bytes; at most {max_bytes:,} allowed",
                         source=source)


def decode_text(data: bytes, what: str, source: str, max_bytes: int = MAX_TOML_BYTES) -> str:
    """The text of a ``what`` file's bytes, read with a cap of ``max_bytes + 1`` (a file
    whose size was understated) and decoded as UTF-8; otherwise one InputError."""
    if len(data) > max_bytes:
        raise InputError(f"{what} file is over {max_bytes:,} bytes; at most {max_bytes:,} "
                         "allowed", source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"not valid TOML: not UTF-8 text ({err.reason} at byte "
                         f"{err.start})", source=source) from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text's contents; malformed or too deeply nested text is one InputError naming
    ``source``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML: {err}", source=source) from None
    except RecursionError:
        raise InputError("not valid TOML here: arrays or tables nested too deeply",
                         source=source) from None


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """A TOML file's contents; a missing, special or malformed file is one InputError."""
    return parse_toml(read_text_file(path, what), str(path))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    from .shipped import resolve  # a missing path naming a shipped scenario: that file
    path = resolve(path, "scenarios")
    return scenario_from_mapping(read_toml(path, "scenario"), str(path))
