"""What a facilitator can set on the page (:data:`CONTROLS`), and its validation.

Controls hold raw values (typed fields hold text); :func:`parse` turns them into a frozen
:class:`Settings` or raises :class:`~mutualsim.errors.InputError`, so a bad value becomes a
message on the page instead of an exception in the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InputError
from ..params import STYLE_PRESETS, Scenario, check_value

#: Scenario fields the page exposes as policy levers.
LEVERS = ("protection_years", "incubation_years", "commissioning_style", "support_level",
          "mentoring_clauses", "lots", "austerity_rate")
COUNCIL_CHOICES = (30, 75, 150, 300)
#: Bounds that keep one recomputation within seconds, so no input can stall the server.
MIN_REPLICATIONS, MAX_REPLICATIONS = 10, 1000
MAX_WORK = 150 * 1000  # councils x replications
DEFAULT_REPLICATIONS = 100
DEFAULT_COUNCILS = 150
#: The uncertainty the page reports, as the control shows it -> the kind
#: (:data:`mutualsim.analysis.uncertainty.UNCERTAINTIES`). One parameter set by default:
#: the page must answer fast in a workshop (docs/WORKSHOP.md gives the posterior's cost).
UNCERTAINTY_CHOICES = {"one parameter set": "none", "calibrated posterior": "posterior"}

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
    uncertainty: str = "none"  # "none": one parameter set; "posterior": calibrated posterior

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
    raw["uncertainty"] = uncertainty_label(s.uncertainty)
    return raw


def uncertainty_label(kind: str) -> str:
    """The control's words for an uncertainty kind (``"none"`` -> ``"one parameter set"``)."""
    return {v: k for k, v in UNCERTAINTY_CHOICES.items()}[kind]


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
    shown = raw.get("uncertainty", uncertainty_label("none"))
    if shown not in UNCERTAINTY_CHOICES:
        raise InputError(f"must be one of {', '.join(UNCERTAINTY_CHOICES)}; got {shown!r}",
                         source="uncertainty")
    return Settings(**levers, councils=councils, replications=replications, seed=seed,
                    uncertainty=UNCERTAINTY_CHOICES[shown])


@dataclass(frozen=True)
class Control:
    """One control of the page: a slider (``lo``..``hi`` by ``step``), a choice among
    ``choices``, a switch, or a text field; ``unit`` is shown after its value."""

    name: str
    label: str
    kind: str  # "slider", "select", "switch" or "text"
    lo: float = 0
    hi: float = 0
    step: float = 1
    choices: tuple[Any, ...] = ()
    unit: str = ""


#: The page's controls, in order (levers first, then the run size).
CONTROLS: tuple[Control, ...] = (
    Control("protection_years", "Protected initial contract", "slider", 0, 15, 1,
            unit="years"),
    Control("incubation_years", "Teckal incubation", "slider", 0, 3, 1, unit="years"),
    Control("commissioning_style", "Commissioning style", "select",
            choices=("mixed", *STYLE_PRESETS)),
    Control("support_level", "Council support", "slider", 0.0, 1.0, 0.05,
            unit="(0 none - 1 full)"),
    Control("mentoring_clauses", "Mentoring clauses", "switch"),
    Control("lots", "Lots per contract", "slider", 1, 10, 1),
    Control("austerity_rate", "Austerity: budget cut", "slider", 0.0, 0.2, 0.005,
            unit="a year"),
    Control("councils", "Councils per replication", "select", choices=COUNCIL_CHOICES),
    Control("replications", f"Replications ({MIN_REPLICATIONS}-{MAX_REPLICATIONS})", "text"),
    Control("seed", "Seed", "text"),
    Control("uncertainty", "Uncertainty", "select", choices=tuple(UNCERTAINTY_CHOICES)),
)


def value_text(control: Control, value: Any) -> str:
    """The value a control shows beside its label, with its unit: ``"3 years"``,
    ``"2.0% a year"``, ``"0.20 (0 none - 1 full)"``, ``"on"``."""
    if control.kind == "switch":
        return "on" if value else "off"
    if control.name == "austerity_rate":
        try:
            return f"{100 * float(value):.1f}% {control.unit}"
        except (TypeError, ValueError):
            return str(value)
    if control.name == "commissioning_style":
        return str(value).replace("_", "-")
    if isinstance(value, float) and control.step < 1:
        text = f"{value:.2f}"
    else:
        text = str(value)
    if control.name == "lots":
        return f"{text} (whole contract)" if str(value) == "1" else text
    return f"{text} {control.unit}".strip()


def describe(settings: Settings, against: Settings | None = None) -> str:
    """The levers in words; with ``against``, only those that differ from it."""
    parts = []
    for c in CONTROLS:
        if c.name not in LEVERS:
            continue
        value = getattr(settings, c.name)
        if against is not None and value == getattr(against, c.name):
            continue
        name = c.label if c.label.startswith("Teckal") else c.label[0].lower() + c.label[1:]
        parts.append(f"{name} {value_text(c, value)}")
    if against is not None and not parts:
        return "same as the baseline"
    return "; ".join(parts)
