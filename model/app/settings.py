"""What a facilitator can set on the page, as Mesa user parameters, and its validation.

Controls hold raw values (typed fields hold text); :func:`parse` turns them into a frozen
:class:`Settings` or raises :class:`~mutualsim.errors.InputError`, so a bad value becomes a
message on the page instead of an exception in the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mesa.visualization import Slider

from ..errors import InputError
from ..params import STYLE_PRESETS, Scenario, check_value

#: Scenario fields the page exposes as policy levers.
LEVERS = ("protection_years", "incubation_years", "commissioning_style", "support_level",
          "mentoring_clauses", "lots", "austerity_rate")
#: Protection lengths a workshop compares most (seed 000 §5: three to five years).
PROTECTION_PRESETS = (0, 3, 5, 7, 15)
COUNCIL_CHOICES = (30, 75, 150, 300)
#: Bounds that keep one recomputation within seconds, so no input can stall the server.
MIN_REPLICATIONS, MAX_REPLICATIONS = 10, 1000
MAX_WORK = 150 * 1000  # councils x replications
DEFAULT_REPLICATIONS = 100
DEFAULT_COUNCILS = 150

_BASE = Scenario()


@dataclass(frozen=True)
class Settings:
    """One validated setting of the page; hashable, so it keys the results cache."""

    protection_years: int = _BASE.protection_years
    incubation_years: int = _BASE.incubation_years
    commissioning_style: str = _BASE.commissioning_style
    support_level: float = _BASE.support_level
    mentoring_clauses: bool = _BASE.mentoring_clauses
    lots: int = _BASE.lots
    austerity_rate: float = _BASE.austerity_rate
    councils: int = DEFAULT_COUNCILS
    replications: int = DEFAULT_REPLICATIONS
    seed: int = 0

    def levers(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LEVERS}

    def scenario(self) -> Scenario:
        """The chosen setting."""
        return Scenario(councils=self.councils, **self.levers())

    def baseline(self) -> Scenario:
        """Current practice at the same size, so the comparison differs only in the levers."""
        return Scenario(councils=self.councils)

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``MutualMarket`` for one replication of this setting.

        The seed goes in as Mesa's ``rng``; on Reset, SolaraViz passes these as a
        ``MarketScenario`` (all of them are its fields), so the replication is rebuilt alike.
        """
        return {**self.levers(), "councils": self.councils, "rng": self.seed}


def default_raw() -> dict[str, Any]:
    """Control values at page load: the baseline, with typed fields as text."""
    s = Settings()
    raw: dict[str, Any] = asdict(s)
    raw["replications"] = str(s.replications)
    raw["seed"] = str(s.seed)
    return raw


def _whole(text: Any, name: str, lo: int, hi: int | None) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise InputError(f"must be a whole number, got {text!r}", source=name) from None
    if value < lo or (hi is not None and value > hi):
        allowed = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        raise InputError(f"{value} is out of range; allowed {allowed}", source=name)
    return value


def parse(raw: Mapping[str, Any]) -> Settings:
    """Validate control values (the model's own ranges via ``check_value``)."""
    levers = {name: check_value(name, raw[name], source=name) for name in LEVERS}
    councils = check_value("councils", raw["councils"], source="councils")
    replications = _whole(raw["replications"], "replications", MIN_REPLICATIONS,
                          MAX_REPLICATIONS)
    if councils * replications > MAX_WORK:
        raise InputError(f"{councils} councils x {replications} replications is too much for "
                         f"the page (at most {MAX_WORK:,} council-replications); use the "
                         "`mutualsim compare` command for big runs", source="replications")
    seed = _whole(raw["seed"], "seed", 0, 2**63 - 1)
    return Settings(**levers, councils=councils, replications=replications, seed=seed)


def user_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Mesa user parameters showing the current values (rebuilt on every render)."""
    protection = raw["protection_years"]
    return {
        "protection_preset": {
            "type": "Select", "label": "Protection: common choices (years)",
            "value": protection if protection in PROTECTION_PRESETS else None,
            "values": list(PROTECTION_PRESETS)},
        "protection_years": Slider("Protected initial contract (years)", protection, 0, 15, 1),
        "incubation_years": Slider("Teckal incubation (years)", raw["incubation_years"], 0, 3, 1),
        "commissioning_style": {
            "type": "Select", "label": "Commissioning style",
            "value": raw["commissioning_style"], "values": ["mixed", *STYLE_PRESETS]},
        "support_level": Slider("Council support level", raw["support_level"], 0.0, 1.0, 0.05),
        "mentoring_clauses": {"type": "Checkbox", "label": "Mentoring clauses",
                              "value": raw["mentoring_clauses"]},
        "lots": Slider("Lots per contract", raw["lots"], 1, 10, 1),
        "austerity_rate": Slider("Austerity (budget cut a year)", raw["austerity_rate"],
                                 0.0, 0.2, 0.005),
        "councils": {"type": "Select", "label": "Councils per replication",
                     "value": raw["councils"], "values": list(COUNCIL_CHOICES)},
        "replications": {"type": "InputText",
                         "label": f"Replications ({MIN_REPLICATIONS}-{MAX_REPLICATIONS})",
                         "value": raw["replications"]},
        "seed": {"type": "InputText", "label": "Seed", "value": raw["seed"]},
    }


def control_name(name: str) -> str:
    """The raw field a control writes to (the protection presets write protection_years)."""
    return "protection_years" if name == "protection_preset" else name
