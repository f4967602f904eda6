"""Bridges to SALib and EMA Workbench, generated from the Scenario metadata.

Every ``Scenario`` field carries its type and allowed range (``model/params.py``), so the
problem definitions these tools need are generated, not typed by hand:

* :func:`salib_problem` -> a SALib problem dict; :func:`salib_points` maps SALib's sample
  rows back to scenario values (whole numbers, switches and presets included);
* :func:`ema_model` -> an ``ema_workbench.Model`` over :func:`~mutualsim.evidence.outcomes.
  run_model` with Real/Integer/Boolean/Categorical parameters.

Whole-number parameters: every value ``lo..hi`` gets the same share of the sampled range.
SALib samples reals, so an integer field gets bounds ``[lo, hi + 1]`` and
:func:`salib_points` takes ``min(floor(x), hi)`` (``int(round(x))`` on ``[lo, hi]`` would give
the two end values half the weight of the others). EMA Workbench has ``IntegerParameter``,
which samples whole numbers itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..params import FIELDS, check_value
from .extras import require
from .outcomes import OUTCOMES, run_model

KEY = "mutualsim"  # the problem dict's key holding how to map values back


def _kind(name: str) -> str:
    return str(FIELDS[name].type).split(" ")[0]


def _factor(name: str, spec: Any, source: str) -> dict[str, Any]:
    """One parameter: kind (float, int, bool, choice) and its range or choices."""
    if name not in FIELDS:
        raise InputError(f"unknown parameter {name!r}; give Scenario fields (docs/ODD.md)",
                         source=source)
    kind, meta = _kind(name), FIELDS[name].metadata
    if kind == "bool":
        return {"kind": "bool", "choices": [False, True]}
    if kind == "str":
        choices = list(meta["choices"]) if spec is None else list(spec)
        for c in choices:
            check_value(name, c, source)
        if len(choices) < 2:
            raise InputError(f"{name!r} needs at least two choices", source=source)
        return {"kind": "choice", "choices": choices}
    if spec is None:
        low, high = meta["lo"], meta["hi"]
    else:
        try:
            low, high = spec
        except (TypeError, ValueError):
            raise InputError(f"{name!r} needs a range (low, high), got {spec!r}",
                             source=source) from None
        low, high = check_value(name, low, source), check_value(name, high, source)
    if not low < high:
        raise InputError(f"{name!r} needs low < high, got ({low}, {high})", source=source)
    return {"kind": kind, "low": low, "high": high}


def _factors(names: Sequence[str] | Mapping[str, Any], source: str) -> dict[str, dict]:
    if isinstance(names, str):
        names = [names]
    specs = dict(names) if isinstance(names, Mapping) else dict.fromkeys(names)
    if not specs:
        raise InputError("give at least one parameter", source=source)
    return {name: _factor(name, spec, source) for name, spec in specs.items()}


def salib_problem(names: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A SALib problem over Scenario fields.

    ``names``: field names (each over its whole allowed range, docs/ODD.md), or a mapping
    ``{name: (low, high)}`` (numbers) / ``{name: [choices]}`` (presets) / ``{name: None}``.
    Bounds: reals ``[low, high]``; whole numbers ``[low, high + 1]``; switches ``[0, 2]``;
    presets ``[0, number of choices]``: :func:`salib_points` maps a sample back by flooring,
    so each whole number, switch position or preset gets an equal share. The dict's
    ``"mutualsim"`` key records the mapping (SALib ignores it). InputError for an unknown
    field or a range outside the allowed one.
    """
    factors = _factors(names, "salib_problem")
    bounds = []
    for f in factors.values():
        if f["kind"] == "float":
            bounds.append([float(f["low"]), float(f["high"])])
        elif f["kind"] == "int":
            bounds.append([float(f["low"]), float(f["high"]) + 1.0])
        else:
            bounds.append([0.0, float(len(f["choices"]))])
    return {"num_vars": len(factors), "names": list(factors), "bounds": bounds, KEY: factors}


def salib_points(problem: dict[str, Any], x: np.ndarray) -> list[dict[str, Any]]:
    """Rows of a SALib sample ``x`` (shape ``(n, num_vars)``) as ``{field: value}`` dicts,
    ready for ``run_model(**point)`` or ``Scenario().replace(**point)``."""
    if KEY not in problem:
        raise InputError("not a problem from mutualsim.salib_problem", source="salib_points")
    x = np.atleast_2d(np.asarray(x, float))
    factors = problem[KEY]
    if x.shape[1] != len(factors):
        raise InputError(f"x has {x.shape[1]} columns, the problem {len(factors)} names",
                         source="salib_points")
    points: list[dict[str, Any]] = [{} for _ in range(len(x))]
    for j, (name, f) in enumerate(factors.items()):
        col = x[:, j]
        if f["kind"] == "float":
            values = [float(v) for v in np.clip(col, f["low"], f["high"])]
        elif f["kind"] == "int":
            values = [int(min(max(math.floor(v), f["low"]), f["high"])) for v in col]
        else:
            top = len(f["choices"]) - 1
            values = [f["choices"][min(max(math.floor(v), 0), top)] for v in col]
        for point, value in zip(points, values, strict=True):
            point[name] = value
    return points


def ema_model(names: Sequence[str] | Mapping[str, Any], outcomes: Sequence[str] = ("S10",),
              *, levers: Sequence[str] | Mapping[str, Any] = (),
              constants: Mapping[str, Any] | None = None, replications: int = 10,
              seed: int = 0, name: str = "mutualsim") -> Any:
    """An ``ema_workbench.Model`` of :func:`run_model`.

    ``names`` become uncertainties and ``levers`` levers (same forms as
    :func:`salib_problem`): whole numbers as ``IntegerParameter``, reals as
    ``RealParameter``, switches as ``BooleanParameter``, presets as ``CategoricalParameter``.
    ``outcomes`` (see ``mutualsim.evidence.outcomes.OUTCOMES``) become ``ScalarOutcome`` s;
    ``replications``, ``seed`` and any ``constants`` (fixed scenario fields, e.g.
    ``{"councils": 20}``) are ``Constant`` s. Needs ``pip install ema_workbench``.
    """
    ema = require("ema_workbench", "ema_model")
    unknown = [o for o in outcomes if o not in OUTCOMES]
    if unknown or not outcomes:
        raise InputError(f"unknown outcome {unknown[0] if unknown else None!r}; allowed: "
                         f"{', '.join(OUTCOMES)}", source="ema_model")
    constants = dict(constants or {})
    for key, value in constants.items():
        check_value(key, value, "ema_model constants")

    def parameters(specs: Sequence[str] | Mapping[str, Any], source: str) -> list[Any]:
        if not specs:
            return []
        out = []
        for pname, f in _factors(specs, source).items():
            if f["kind"] == "float":
                out.append(ema.RealParameter(pname, float(f["low"]), float(f["high"])))
            elif f["kind"] == "int":
                out.append(ema.IntegerParameter(pname, int(f["low"]), int(f["high"])))
            elif f["kind"] == "bool":
                out.append(ema.BooleanParameter(pname))
            else:
                out.append(ema.CategoricalParameter(pname, f["choices"]))
        return out

    uncertainties = parameters(names, "ema_model names")
    lever_list = parameters(levers, "ema_model levers")
    clash = ({p.name for p in uncertainties} & {p.name for p in lever_list}) | (
        ({p.name for p in uncertainties} | {p.name for p in lever_list}) & set(constants))
    if clash:
        raise InputError(f"{sorted(clash)[0]!r} is given twice (names, levers, constants)",
                         source="ema_model")
    model = ema.Model(name, function=run_model)
    model.uncertainties = uncertainties
    model.levers = lever_list
    model.constants = [ema.Constant("replications", int(replications)),
                       ema.Constant("seed", int(seed)),
                       *(ema.Constant(k, v) for k, v in constants.items())]
    model.outcomes = [ema.ScalarOutcome(o) for o in outcomes]
    return model
