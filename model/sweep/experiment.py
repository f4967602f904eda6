"""Experiment files: a base scenario, a design over scenario fields, replications and a seed.

An experiment file is validated as strictly as a scenario file: every bad key or value is an
:class:`~mutualsim.errors.InputError` naming the file and the key, so the CLI can refuse it
in one line before anything is written. Each design point becomes a full
:class:`~mutualsim.params.Scenario`, identified by a short hash of *all* its parameters, so
the id of a scenario does not change when a grid grows or factors are reordered.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..guard import MAX_DESIGN_POINTS, MAX_TASKS, check_count
from ..params import (
    FIELDS,
    Scenario,
    check_value,
    flatten_mapping,
    load_scenario,
    read_toml,
    show,
)
from . import designs
from .designs import KINDS, Range

DEFAULT_BLOCK_SIZE = 250
# ``targets`` (published figures a calibration fits) and ``abc`` (ABC-SMC sizes) are read by
# ``mutualsim calibrate`` (mutualsim.evidence.calibrate); ``futures``, ``threshold`` and
# ``policy_names`` by ``mutualsim robust`` (mutualsim.evidence.robust); a sweep ignores them
# (it runs the policies of a robustness file at the base future).
TOP_KEYS = ("name", "description", "base", "base_overrides", "design", "factors",
            "replications", "seed", "block_size", "targets", "abc", "futures", "threshold",
            "policy_names", "uncertainty")
# Keys of [uncertainty] (posterior-predictive sweeps, docs/SWEEPS.md); replications per
# draw are the experiment's own ``replications``.
UNCERTAINTY_KEYS = ("kind", "draws", "posterior")
UNCERTAINTY_KINDS = ("none", "posterior")
# Keys of [design] per kind besides ``kind``, with their defaults (None: required; the
# design seed defaults to the experiment seed).
DESIGN_KEYS: dict[str, dict[str, Any]] = {
    "grid": {},
    "lhs": {"samples": None, "seed": None},
    "morris": {"trajectories": None, "levels": 4, "seed": None},
    "sobol": {"samples": None, "second_order": True, "seed": None},
    "points": {},
}
MINIMUM = {"samples": 1, "trajectories": 1, "levels": 2, "seed": 0}
ID_LENGTH = 12


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the text that ids and hashes are taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def scenario_id(scenario: Scenario) -> str:
    """Short hash of every parameter: equal scenarios share an id in any experiment."""
    text = canonical_json(scenario.to_dict())
    return hashlib.sha256(text.encode()).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True)
class Design:
    """What to vary and how: ``factors`` holds value lists (grid) or :class:`Range` s."""

    kind: str
    factors: dict[str, tuple[Any, ...] | Range]
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        factors = {name: (list(v) if isinstance(v, tuple) else
                          {"low": v.low, "high": v.high})
                   for name, v in self.factors.items()}
        return {"kind": self.kind, "factors": factors, **self.options}

    def size(self) -> int:
        """Number of design points, computed without building them."""
        k = len(self.factors)
        if self.kind == "grid":
            return math.prod(len(v) for v in self.factors.values())  # type: ignore[arg-type]
        if self.kind == "lhs":
            return self.options["samples"]
        if self.kind == "morris":
            return (k + 1) * self.options["trajectories"]
        if self.kind == "points":
            return len(next(iter(self.factors.values()), ()))  # type: ignore[arg-type]
        return self.options["samples"] * (2 * k + 2 if self.options["second_order"] else k + 2)

    def points(self, source: str) -> list[dict[str, Any]]:
        """Factor values of every design point, in design order."""
        if self.kind == "grid":
            return designs.grid(self.factors)  # type: ignore[arg-type]
        if self.kind == "points":
            return designs.points(self.factors)  # type: ignore[arg-type]
        ranges: dict[str, Range] = self.factors  # type: ignore[assignment]
        rng = np.random.default_rng(self.options["seed"])
        if self.kind == "lhs":
            return designs.latin_hypercube(ranges, self.options["samples"], rng)
        if self.kind == "morris":
            return designs.morris(ranges, self.options["trajectories"],
                                  self.options["levels"], rng, source)
        return designs.sobol(ranges, self.options["samples"], self.options["second_order"],
                             rng, source)


@dataclass(frozen=True)
class DesignPoint:
    """One row of the design: its factor values and the full scenario they make.

    In a posterior sweep (``[uncertainty] kind = "posterior"``) every design point is run
    once as given (``draw`` None, replications ``0 ... R - 1``: the single-parameter run)
    and once per posterior draw ``d`` (``draw`` d, the draw's parameter set under the
    point's factor values, replications ``first = (d + 1) R`` onwards).
    """

    index: int
    values: dict[str, Any]
    scenario: Scenario
    scenario_id: str
    draw: int | None = None
    first: int = 0


@dataclass(frozen=True)
class Uncertainty:
    """Posterior draws every design point of a sweep runs over (paired across points).

    Attributes
    ----------
    draws : int
        Number of posterior draws.
    rows : tuple of int
        Posterior row of each draw (``Posterior.draw(draws, seed)`` with the experiment
        seed, so the same rows as ``compare --uncertainty posterior --seed SEED``).
    sets : tuple of dict
        Each draw's parameter values, without the keys the experiment sets itself (its
        factors and ``[base_overrides]``: the levers compared override the draw).
    source, label : str
        The posterior file and the calibration that wrote it (for reports; not hashed).
    """

    draws: int
    rows: tuple[int, ...]
    sets: tuple[dict[str, Any], ...]
    source: str = ""
    label: str = ""
    kind: str = "posterior"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "draws": self.draws, "rows": list(self.rows),
                "parameter_sets": [dict(s) for s in self.sets]}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: everything a sweep needs to plan and identify its tasks."""

    source: str
    name: str
    description: str
    base: Scenario
    base_file: str | None
    base_overrides: dict[str, Any]
    design: Design
    seed: int
    replications: int
    block_size: int
    points: tuple[DesignPoint, ...]
    uncertainty: Uncertainty | None = None

    @property
    def factors(self) -> tuple[str, ...]:
        return tuple(self.design.factors)

    @property
    def scenarios(self) -> tuple[DesignPoint, ...]:
        """Distinct scenarios in design order (a design may repeat a point)."""
        seen: dict[str, DesignPoint] = {}
        for point in self.points:
            seen.setdefault(point.scenario_id, point)
        return tuple(seen.values())

    @property
    def runs(self) -> tuple[tuple[str, int], ...]:
        """Distinct ``(scenario_id, first replication)`` runs in order: one per scenario,
        from replication 0, unless posterior draws add their own replication ranges."""
        seen: dict[tuple[str, int], None] = {}
        for point in self.points:
            seen.setdefault((point.scenario_id, point.first), None)
        return tuple(seen)

    @property
    def policies(self) -> tuple[DesignPoint, ...]:
        """The design's own points (no posterior draw), distinct, in design order."""
        seen: dict[str, DesignPoint] = {}
        for point in self.points:
            if point.draw is None:
                seen.setdefault(point.scenario_id, point)
        return tuple(seen.values())

    def spec(self) -> dict[str, Any]:
        """Everything that determines the results, and nothing else: no names, no paths, and
        the base only as resolved (a base file plus overrides equals the same base file)."""
        spec = {
            "base": self.base.to_dict(),
            "design": self.design.to_dict(),
            "seed": self.seed,
            "replications": self.replications,
            "block_size": self.block_size,
            "points": [p.scenario_id for p in self.points],
        }
        if self.uncertainty is not None:  # absent otherwise: older sweeps keep their hash
            spec["uncertainty"] = self.uncertainty.spec()
        return spec

    @functools.cached_property
    def hash(self) -> str:
        """Identifies the experiment's results; computed once per (immutable) experiment:
        the runner asks for it once per task, and hashing a design of thousands of points
        each time made planning a sensitivity sweep quadratic."""
        return hashlib.sha256(canonical_json(self.spec()).encode()).hexdigest()[:16]

    def with_replications(self, replications: int) -> Experiment:
        changed = dataclasses.replace(self, replications=replications)
        if self.uncertainty is None:
            return changed
        return with_posterior(changed, self.uncertainty, self.source)


def expand_posterior(points: list[DesignPoint] | tuple[DesignPoint, ...],
                     uncertainty: Uncertainty, replications: int,
                     source: str) -> tuple[DesignPoint, ...]:
    """The design points as given, then every point under every posterior draw.

    Draw ``d`` of point ``p`` is ``p``'s scenario with the draw's parameter set, the point's
    factor values set again on top (the levers compared override the draw), run over
    replications ``(d + 1) R ... (d + 2) R - 1``: the same draw and streams under every
    point, exactly as :func:`mutualsim.analysis.uncertainty.compare_posterior` pairs them.
    """
    from ..evidence.posterior import first_draw_replication
    base = [p for p in points if p.draw is None]
    out = list(base)
    for d, values in enumerate(uncertainty.sets):
        for p in base:
            try:
                scenario = p.scenario.replace(**values).replace(**p.values)
            except InputError as err:
                raise InputError(f"posterior draw {d} (row {uncertainty.rows[d]}) with "
                                 f"design point {p.index} ({p.values}) is not a valid "
                                 f"scenario: {err}", source=f"{source} [uncertainty]"
                                 ) from None
            out.append(DesignPoint(p.index, p.values, scenario, scenario_id(scenario),
                                   draw=d, first=first_draw_replication(d, replications)))
    return tuple(out)


def with_posterior(experiment: Experiment, uncertainty: Uncertainty,
                   source: str) -> Experiment:
    """``experiment`` with its design points expanded over ``uncertainty``'s draws."""
    points = expand_posterior(experiment.points, uncertainty, experiment.replications,
                              source)
    return dataclasses.replace(experiment, points=points, uncertainty=uncertainty)


def _uncertainty(data: Any, source: str) -> tuple[str, int, str | None]:
    """``[uncertainty]``: kind, draws and posterior file (relative to the experiment)."""
    where = f"{source} [uncertainty]"
    if not isinstance(data, dict):
        raise InputError(f"'uncertainty' must be a table ([uncertainty]), got {show(data)}",
                         source=source)
    for key in data:
        if key not in UNCERTAINTY_KEYS:
            extra = (" (replications per draw are the top-level key 'replications')"
                     if key == "replications" else "")
            raise InputError(f"unknown key {key!r}; allowed: {', '.join(UNCERTAINTY_KEYS)}"
                             + extra, source=where)
    kind = data.get("kind")
    if kind not in UNCERTAINTY_KINDS:
        raise InputError(f"key 'kind' must be one of {', '.join(map(repr, UNCERTAINTY_KINDS))}"
                         f", got {show(kind)}", source=where)
    if kind == "none":
        for key in ("draws", "posterior"):
            if key in data:
                raise InputError(f"key {key!r} applies only with kind = \"posterior\"",
                                 source=where)
        return kind, 0, None
    if "draws" not in data:
        raise InputError("missing key 'draws' (posterior draws, a whole number >= 1)",
                         source=where)
    draws = _whole(data["draws"], 1, where, "draws")
    posterior = data.get("posterior")
    if posterior is not None and (not isinstance(posterior, str) or not posterior):
        raise InputError(f"key 'posterior' must be a path to a posterior CSV file, got "
                         f"{show(posterior)}", source=where)
    return kind, draws, posterior


def load_uncertainty(kind: str, draws: int, posterior: str | None, seed: int,
                     explicit: set[str], source: str, base_dir: Path) -> Uncertainty:
    """Draw the posterior rows (experiment seed) and keep each draw's parameter values that
    the experiment does not set itself (``explicit``)."""
    from ..evidence.posterior import load_posterior
    path = None if posterior is None else base_dir / posterior
    try:
        post = load_posterior(path)
    except InputError as err:
        raise InputError(f"key 'posterior': {err}", source=f"{source} [uncertainty]") from None
    rows = tuple(int(r) for r in post.draw(draws, seed))
    sets = tuple({k: v for k, v in post.row(r).items() if k not in explicit} for r in rows)
    return Uncertainty(draws, rows, sets, source=post.source, label=post.label, kind=kind)


def _whole(value: Any, minimum: int, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"key {key!r} must be a whole number >= {minimum}, got "
                         f"{show(value)}", source=source)
    return value


def _table(value: Any, source: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{key!r} must be a table ([{key}]), got {show(value)}",
                         source=source)
    return value


def _flat_overrides(data: dict[str, Any], source: str) -> dict[str, Any]:
    """``[base_overrides]`` as flat scenario keys (sections like a scenario file allowed)."""
    return flatten_mapping(data, source)


def _field_kind(name: str) -> str:
    return str(FIELDS[name].type).split(" ")[0]


def _levels(factors: dict[str, Any], source: str) -> dict[str, tuple[Any, ...]]:
    """Grid factors: a non-empty list of distinct valid values for each field."""
    out: dict[str, tuple[Any, ...]] = {}
    for name, values in factors.items():
        if name not in FIELDS:
            raise InputError(f"unknown key {name!r}; factors must be scenario fields "
                             "(see docs/ODD.md)", source=source)
        if not isinstance(values, list):
            raise InputError(f"key {name!r} must be a list of values, e.g. {name} = [a, b], "
                             f"got {show(values)}", source=source)
        if not values:
            raise InputError(f"key {name!r} has an empty list; give at least one value",
                             source=source)
        coerced = [check_value(name, v, source) for v in values]
        seen: set[Any] = set()
        for i, v in enumerate(coerced):
            if v in seen:
                raise InputError(f"key {name!r} lists the value {show(values[i])} twice",
                                 source=source)
            seen.add(v)
        out[name] = tuple(coerced)
    return out


def _columns(factors: dict[str, Any], source: str) -> dict[str, tuple[Any, ...]]:
    """Explicit points: one list per field, all of one length (point i = the i-th values)."""
    if not factors:
        raise InputError("kind = 'points' needs at least one factor", source=source)
    out: dict[str, tuple[Any, ...]] = {}
    for name, values in factors.items():
        if name not in FIELDS:
            raise InputError(f"unknown key {name!r}; factors must be scenario fields "
                             "(see docs/ODD.md)", source=source)
        if not isinstance(values, list) or not values:
            raise InputError(f"key {name!r} must be a non-empty list with one value per "
                             f"point, got {values!r}", source=source)
        out[name] = tuple(check_value(name, v, source) for v in values)
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise InputError("kind = 'points' needs lists of one length (one value per point); "
                         f"got lengths {sorted(lengths)}", source=source)
    return out


def _ranges(factors: dict[str, Any], kind: str, source: str) -> dict[str, Range]:
    """Continuous factors: ``{low = .., high = ..}`` within the field's allowed range."""
    if not factors:
        raise InputError(f"kind = {kind!r} needs at least one factor", source=source)
    out: dict[str, Range] = {}
    for name, spec in factors.items():
        if name not in FIELDS:
            raise InputError(f"unknown key {name!r}; factors must be scenario fields "
                             "(see docs/ODD.md)", source=source)
        if _field_kind(name) not in ("int", "float"):
            raise InputError(f"key {name!r} is not numeric; kind = {kind!r} samples numeric "
                             "fields only (use kind = \"grid\" for switches and presets)",
                             source=source)
        if not isinstance(spec, dict) or set(spec) != {"low", "high"}:
            raise InputError(f"key {name!r} must be a range {{low = .., high = ..}} for "
                             f"kind = {kind!r}, got {spec!r}", source=source)
        low = check_value(name, spec["low"], source)
        high = check_value(name, spec["high"], source)
        if low is None or high is None or not low < high:
            raise InputError(f"key {name!r} needs low < high, got low = {spec['low']!r}, "
                             f"high = {spec['high']!r}", source=source)
        out[name] = Range(low, high, whole=_field_kind(name) == "int")
    return out


def _design(data: dict[str, Any], factors: dict[str, Any], seed: int, source: str) -> Design:
    design_source = f"{source} [design]"
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"key 'kind' must be one of {', '.join(KINDS)}; got {kind!r}",
                         source=design_source)
    allowed = DESIGN_KEYS[kind]
    for key in data:
        if key != "kind" and key not in allowed:
            raise InputError(f"unknown key {key!r} for kind = {kind!r}; allowed: "
                             f"{', '.join(['kind', *allowed])}", source=design_source)
    options: dict[str, Any] = {}
    for key, default in allowed.items():
        if key == "second_order":
            value = data.get(key, default)
            if not isinstance(value, bool):
                raise InputError(f"key {key!r} must be true or false, got {show(value)}",
                                 source=design_source)
            options[key] = value
        elif key in data:
            options[key] = _whole(data[key], MINIMUM[key], design_source, key)
        elif key == "seed":
            options[key] = seed
        elif default is not None:
            options[key] = default
        else:
            raise InputError(f"missing key {key!r} for kind = {kind!r}", source=design_source)
    if kind == "morris" and options["levels"] % 2:
        raise InputError(f"key 'levels' must be an even whole number >= 2 for kind = "
                         f"'morris' (Morris' design needs an even grid), got "
                         f"{options['levels']}", source=design_source)
    if kind == "sobol" and options["samples"] & (options["samples"] - 1):
        raise InputError(f"key 'samples' must be a power of 2 for kind = 'sobol', got "
                         f"{options['samples']}", source=design_source)
    factor_source = f"{source} [factors]"
    if kind == "grid":
        return Design(kind, dict(_levels(factors, factor_source)), options)
    if kind == "points":
        return Design(kind, dict(_columns(factors, factor_source)), options)
    return Design(kind, dict(_ranges(factors, kind, factor_source)), options)


def _base(data: dict[str, Any], source: str, base_dir: Path) -> tuple[Scenario, str | None]:
    if "base" not in data:
        return Scenario(), None
    base = data["base"]
    if not isinstance(base, str) or not base:
        raise InputError(f"key 'base' must be a path to a scenario file, got {base!r}",
                         source=source)
    path = base_dir / base
    if not os.path.lexists(path):
        raise InputError(f"key 'base': scenario file {base!r} not found (looked for {path})",
                         source=source)
    return load_scenario(path), str(path)


def parse_experiment(data: dict[str, Any], source: str, base_dir: Path | None = None,
                     replications: int | None = None, *,
                     size_check: bool = True, draws: int | None = None) -> Experiment:
    """Validate TOML-shaped experiment data; ``replications`` overrides the file's count,
    ``draws`` the posterior draws of ``[uncertainty] kind = "posterior"``.

    With ``size_check`` a design of more than ``guard.MAX_DESIGN_POINTS`` points or more
    than ``guard.MAX_TASKS`` tasks is refused before any point is built.
    """
    base_dir = Path(".") if base_dir is None else Path(base_dir)
    for key in data:
        if key not in TOP_KEYS:
            raise InputError(f"unknown key {key!r}; allowed: {', '.join(TOP_KEYS)}",
                             source=source)
    name = data.get("name", Path(source).stem)
    description = data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise InputError(f"key {key!r} must be text, got {show(value)}", source=source)
    if "seed" not in data:
        raise InputError("missing key 'seed' (a whole number >= 0)", source=source)
    seed = _whole(data["seed"], 0, source, "seed")
    if replications is not None:
        replications = _whole(replications, 1, "--replications", "replications")
    if "replications" in data:
        file_replications = _whole(data["replications"], 1, source, "replications")
    elif replications is None:
        raise InputError("missing key 'replications' (a whole number >= 1)", source=source)
    block_size = _whole(data.get("block_size", DEFAULT_BLOCK_SIZE), 1, source, "block_size")
    kind, file_draws, posterior = (_uncertainty(data["uncertainty"], source)
                                   if "uncertainty" in data else ("none", 0, None))
    if draws is not None:
        draws = _whole(draws, 1, "--draws", "draws")
        if kind != "posterior":
            raise InputError("applies only to an experiment with [uncertainty] kind = "
                             "\"posterior\"", source="--draws")
    draws = file_draws if draws is None else draws

    base, base_file = _base(data, source, base_dir)
    overrides_source = f"{source} [base_overrides]"
    overrides = _flat_overrides(_table(data.get("base_overrides", {}), source,
                                       "base_overrides"), overrides_source)
    try:
        base = base.replace(**overrides)
    except InputError as err:
        raise InputError(str(err), source=overrides_source) from None

    if "design" not in data:
        raise InputError("missing table [design] (kind = \"grid\", \"lhs\", \"morris\" or "
                         "\"sobol\")", source=source)
    factors = _table(data.get("factors", {}), source, "factors")
    design = _design(_table(data["design"], source, "design"), factors, seed, source)
    clash = sorted(set(design.factors) & set(overrides))
    if clash:
        raise InputError(f"key {clash[0]!r} is both a factor and in [base_overrides]; keep "
                         "one", source=f"{source} [factors]")

    n_points = design.size()
    check_count(n_points, MAX_DESIGN_POINTS, "design points", f"{source} [design]",
                override=not size_check)
    reps = file_replications if replications is None else replications
    runs = "" if kind == "none" else f" x ({draws:,} posterior draws + 1)"
    n_tasks = n_points * (draws + 1) * math.ceil(reps / block_size)
    check_count(n_tasks, MAX_TASKS, f"tasks ({n_points:,} points{runs} x {reps:,} "
                f"replications in blocks of {block_size:,})", source,
                override=not size_check)

    points = []
    for index, values in enumerate(design.points(f"{source} [design]")):
        try:
            scenario = base.replace(**values)
        except InputError as err:
            raise InputError(f"design point {index} ({values}) is not a valid scenario: "
                             f"{err}", source=f"{source} [factors]") from None
        points.append(DesignPoint(index, values, scenario, scenario_id(scenario)))

    experiment = Experiment(
        source=source, name=name, description=description, base=base, base_file=base_file,
        base_overrides=overrides, design=design, seed=seed,
        replications=file_replications if replications is None else replications,
        block_size=block_size, points=tuple(points))
    if kind == "none":
        return experiment
    uncertainty = load_uncertainty(kind, draws, posterior, seed,
                                   set(design.factors) | set(overrides), source, base_dir)
    return with_posterior(experiment, uncertainty, source)


def load_experiment(path: str | Path, replications: int | None = None, *,
                    size_check: bool = True, draws: int | None = None) -> Experiment:
    """Read and validate an experiment TOML file (``base`` is relative to the file);
    ``replications`` and ``draws`` override the file's."""
    path = Path(path)
    from ..shipped import resolve  # a missing path naming a shipped experiment: that file
    path = resolve(path, "experiments")
    data = read_toml(path, "experiment")
    return parse_experiment(data, str(path), path.parent, replications,
                            size_check=size_check, draws=draws)
