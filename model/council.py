"""Your own council: a council file (TOML) giving one council's services and style.

A workshop held with one council runs the model for that council alone (ODD 'Your own
council'): the scenario is a one-council market (``councils = 1``) whose slots are the
council's own services, each with its published annual value, its in-house cost, whether
it is a candidate for spin-out, its staff's interest and the year its current contract
ends. The format (every key is checked; one line naming the file and key on bad input)::

    [council]
    name = "Example Borough Council"
    source = "where the figures come from"

    [scenario]              # optional: any scenario keys (docs/ODD.md), by section or flat
    commissioning_style = "cooperative"
    support_level = 0.4

    [[service]]             # one table per service, 1 to 20 of them
    name = "Adult day services"
    annual_value_gbp = 4_200_000     # what the service is worth a year (GBP), > 0
    in_house_cost_gbp = 4_400_000    # optional: its in-house cost a year (GBP) ...
    # in_house_cost_ratio = 1.05     # ... or as a ratio to the annual value
    candidate = true                 # may it be spun out at all?
    staff_interest = 1.5             # optional, >= 0: 1 = as keen as a typical service
    contract_end = 2012              # optional: not proposed before this year
    source = "..."                   # optional: the figures' source

The council's style is scenario keys in ``[scenario]``; for one named council the spreads
that describe a population of councils default to 0 (:data:`ONE_COUNCIL`): the style it
states is the style it has, unless the file sets a spread to say it is unsure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .params import FIELDS, Scenario, flatten_mapping, read_toml
from .state import NEVER

#: Scenario values a council file starts from (before its own ``[scenario]`` keys): one
#: council, and no spread between councils (the spreads describe a population of councils;
#: a council file describes one).
ONE_COUNCIL: dict[str, Any] = {
    "councils": 1,
    "council_policy_sd": 0.0,
    "support_level_sd": 0.0,
    "austerity_rate_sd": 0.0,
    "spinout_propensity_sdlog": 0.0,
    "unsupportive_council_share": 0.0,
    "lot_split_share": 0.0,
}
#: Keys the council file sets itself (from its list of services).
SET_BY_FILE = ("councils", "services_per_council")
COUNCIL_KEYS = ("name", "source")
SERVICE_KEYS = ("name", "annual_value_gbp", "in_house_cost_gbp", "in_house_cost_ratio",
                "candidate", "staff_interest", "contract_end", "source")
REQUIRED = ("name", "annual_value_gbp", "candidate")
MAX_SERVICES = int(FIELDS["services_per_council"].metadata["hi"])
MAX_STAFF_INTEREST = 20.0
SHIPPED = Path(__file__).with_name("councils")


@dataclass(frozen=True)
class Services:
    """The council's services, one per slot (arrays (S,)): what :func:`initial_state`
    puts into the slots of a one-council scenario.

    ``value_m`` annual value (GBP m); ``cost_ratio`` in-house cost / annual value (NaN: drawn
    as for any service); ``staff_interest`` factor on bottom-up proposal probabilities;
    ``open_year`` first year it may be proposed (-1 any, :data:`~mutualsim.state.NEVER`
    not a candidate).
    """

    names: tuple[str, ...]
    value_m: np.ndarray
    cost_ratio: np.ndarray
    staff_interest: np.ndarray
    open_year: np.ndarray
    candidate: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def with_candidates(self, candidate: bool) -> Services:
        """The same services with every one (not) a candidate: e.g. the all in-house
        counterfactual the comparison reports spend against."""
        open_year = self.open_year.copy() if candidate else np.full(len(self), NEVER,
                                                                    dtype=np.int16)
        return Services(self.names, self.value_m, self.cost_ratio, self.staff_interest,
                        open_year, np.full(len(self), candidate))


@dataclass(frozen=True)
class CouncilFile:
    """A council file read and checked: its name, source, scenario and services."""

    path: str
    name: str
    source: str
    scenario: Scenario
    services: Services
    service_sources: tuple[str, ...]

    def table(self) -> list[dict[str, Any]]:
        """The services as rows (for the report)."""
        s = self.services
        return [{"service": s.names[i], "annual_value_gbp_m": float(s.value_m[i]),
                 "cost_ratio": float(s.cost_ratio[i]), "candidate": bool(s.candidate[i]),
                 "staff_interest": float(s.staff_interest[i]),
                 "contract_end": (None if s.open_year[i] in (-1, NEVER)
                                  else int(s.open_year[i])),
                 "source": self.service_sources[i]} for i in range(len(s))]


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value):
        raise InputError(f"{key} must be a finite number, got {value!r}", source=where)
    return float(value)


def _service(row: Any, i: int, path: str, scenario: Scenario
             ) -> tuple[str, float, float, float, int, bool, str]:
    where = f"{path}: [[service]] {i + 1}"
    if not isinstance(row, dict):
        raise InputError("each [[service]] must be a table of keys", source=where)
    unknown = sorted(set(row) - set(SERVICE_KEYS))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; allowed: {', '.join(SERVICE_KEYS)}",
                         source=where)
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise InputError(f"missing key {missing[0]!r} (required: {', '.join(REQUIRED)})",
                         source=where)
    name = row["name"]
    if not isinstance(name, str) or not name.strip():
        raise InputError("name must be a non-empty text", source=where)
    where = f"{path}: service {name!r}"
    value = _number(row["annual_value_gbp"], where, "annual_value_gbp")
    if value <= 0:
        raise InputError(f"annual_value_gbp must be above 0 (GBP a year), got {value:g}",
                         source=where)
    if "in_house_cost_gbp" in row and "in_house_cost_ratio" in row:
        raise InputError("give in_house_cost_gbp or in_house_cost_ratio, not both",
                         source=where)
    ratio = float("nan")
    if "in_house_cost_gbp" in row:
        cost = _number(row["in_house_cost_gbp"], where, "in_house_cost_gbp")
        if cost <= 0:
            raise InputError(f"in_house_cost_gbp must be above 0 (GBP a year), got {cost:g}",
                             source=where)
        ratio, key = cost / value, "in_house_cost_gbp / annual_value_gbp"
    elif "in_house_cost_ratio" in row:
        ratio, key = _number(row["in_house_cost_ratio"], where, "in_house_cost_ratio"), \
            "in_house_cost_ratio"
    if not math.isnan(ratio):
        lo, hi = scenario.cost_position_min, scenario.cost_position_max
        if not lo <= ratio <= hi:
            raise InputError(f"{key} = {ratio:.3g} is out of range; allowed {lo:g} to {hi:g} "
                             "(cost_position_min to cost_position_max)", source=where)
    candidate = row["candidate"]
    if not isinstance(candidate, bool):
        raise InputError(f"candidate must be true or false, got {candidate!r}", source=where)
    interest = _number(row.get("staff_interest", 1.0), where, "staff_interest")
    if not 0.0 <= interest <= MAX_STAFF_INTEREST:
        raise InputError(f"staff_interest must be 0 to {MAX_STAFF_INTEREST:g} (1 = as keen "
                         f"as a typical service), got {interest:g}", source=where)
    end = row.get("contract_end", -1)
    if end != -1:
        if isinstance(end, bool) or not isinstance(end, int) or not (
                1900 <= end <= scenario.end_year + 1):
            raise InputError(f"contract_end must be a calendar year from 1900 to "
                             f"{scenario.end_year + 1}, got {end!r}", source=where)
    source = row.get("source", "")
    if not isinstance(source, str):
        raise InputError("source must be text", source=where)
    open_year = end if candidate else NEVER
    return name.strip(), value / 1e6, ratio, interest, open_year, candidate, source


def council_from_mapping(data: dict[str, Any], path: str) -> CouncilFile:
    """Check a council file's contents (``path`` names it in every error)."""
    unknown = sorted(set(data) - {"council", "scenario", "service"})
    if unknown:
        raise InputError(f"unknown key or section {unknown[0]!r}; allowed: [council], "
                         "[scenario], [[service]]", source=path)
    council = data.get("council", {})
    if not isinstance(council, dict):
        raise InputError("[council] must be a table (name, source)", source=path)
    bad = sorted(set(council) - set(COUNCIL_KEYS))
    if bad:
        raise InputError(f"unknown key {bad[0]!r} in [council]; allowed: "
                         f"{', '.join(COUNCIL_KEYS)}", source=path)
    for key in COUNCIL_KEYS:
        if not isinstance(council.get(key, ""), str):
            raise InputError(f"[council] {key} must be text", source=path)
    section = data.get("scenario", {})
    if not isinstance(section, dict):
        raise InputError("[scenario] must be a table of scenario keys", source=path)
    where = f"{path}: [scenario]"
    flat = flatten_mapping(section, where)
    for key in SET_BY_FILE:
        if key in flat:
            raise InputError(f"key {key!r} is set by the council file (one council, one slot "
                             "per [[service]]); remove it", source=where)
    rows = data.get("service")
    if not isinstance(rows, list) or not rows:
        raise InputError("no [[service]] tables: give 1 to "
                         f"{MAX_SERVICES} services", source=path)
    if len(rows) > MAX_SERVICES:
        raise InputError(f"{len(rows)} services; at most {MAX_SERVICES} allowed",
                         source=path)
    try:
        scenario = Scenario(**(ONE_COUNCIL | flat | {"services_per_council": len(rows)}))
    except InputError as err:
        raise InputError(str(err).removeprefix(f"{err.source}: ") if err.source else str(err),
                         source=where) from None
    parsed = [_service(row, i, path, scenario) for i, row in enumerate(rows)]
    names = [p[0] for p in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"service name {repeated[0]!r} appears twice; names must differ",
                         source=path)
    services = Services(
        names=tuple(names),
        value_m=np.array([p[1] for p in parsed]),
        cost_ratio=np.array([p[2] for p in parsed]),
        staff_interest=np.array([p[3] for p in parsed]),
        open_year=np.array([p[4] for p in parsed], dtype=np.int16),
        candidate=np.array([p[5] for p in parsed]),
    )
    return CouncilFile(path=path, name=council.get("name", "") or Path(path).stem,
                       source=council.get("source", ""), scenario=scenario,
                       services=services, service_sources=tuple(p[6] for p in parsed))


def load_council(path: str | Path) -> CouncilFile:
    """Read and check a council file; a bare name (``example_council``) that is not a file
    here is looked up among the councils shipped with the package."""
    p = Path(path)
    if not p.exists() and (SHIPPED / p.with_suffix(".toml").name).exists() \
            and p.parent == Path("."):
        p = SHIPPED / p.with_suffix(".toml").name
    return council_from_mapping(read_toml(p, "council"), str(p))


def shipped_councils() -> list[str]:
    """Names of the council files shipped with the package."""
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))
