"""The calibrated posterior as package data: weighted parameter sets to draw policies over.

Format (``model/data/posterior.csv``, installed with the package): one row per accepted
parameter set; columns are ``Scenario`` field names (docs/ODD.md) plus a ``weight`` column
(non-negative, not all zero; normalised to sum 1 on load). Lines starting with ``#`` are
comments; the first comment line names the calibration that produced the file. A rejection
ABC (``mutualsim calibrate``) writes equal weights; a sequential sampler (ABC-SMC) writes
its particles' importance weights in the same format.

Regenerate it from a finished calibration folder with
``mutualsim calibrate ... --publish-posterior`` (after the run) or
:func:`publish_posterior` (``posterior.parquet`` + ``calibration.json`` of that folder).

Source: the accepted set of the shipped calibration (experiments/calibration.toml, targets
from seed 004 and ONS Business Demography 2012; docs/CALIBRATION.md).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..params import FIELDS, Scenario, _type_of, check_value

__all__ = ["DEFAULT_PATH", "WEIGHT", "Posterior", "load_posterior", "publish_posterior",
           "write_posterior"]

#: The shipped posterior (package data).
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "posterior.csv"
WEIGHT = "weight"
#: Keys that are not parameters of a policy run (the horizon), never allowed in a posterior.
_NOT_PARAMETERS = ("start_year", "years")



def first_draw_replication(draw: int, replications: int) -> int:
    """First replication index of posterior draw ``draw`` (0-based) when every draw runs
    ``replications`` replications: ``(draw + 1) R``. Indices ``0 ... R - 1`` belong to the
    single-parameter run, so the single run and every draw use distinct streams, and the
    same draw index gets the same streams under every policy (the pairing of
    ``compare --uncertainty posterior``, posterior sweeps and ``run_model``)."""
    return (draw + 1) * replications


def draw_replications(draw: int, replications: int) -> np.ndarray:
    """Replication indices of posterior draw ``draw``: ``replications`` of them from
    :func:`first_draw_replication`."""
    first = first_draw_replication(draw, replications)
    return np.arange(first, first + replications, dtype=np.int64)

@dataclass
class Posterior:
    """Weighted parameter sets.

    Attributes
    ----------
    params : DataFrame
        One row per parameter set; columns are ``Scenario`` field names.
    weights : ndarray, shape (rows,)
        Normalised (sum 1), non-negative.
    source : str
        Where it was read from (for messages and manifests).
    label : str
        The calibration that produced it (the file's first comment line), or "".
    """

    params: pd.DataFrame
    weights: np.ndarray
    source: str = ""
    label: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.params)

    @property
    def names(self) -> list[str]:
        return list(self.params.columns)

    def draw(self, n: int, seed: int) -> np.ndarray:
        """``n`` row indices drawn with replacement in proportion to the weights.

        The generator is ``SeedSequence(seed, spawn_key=(2**31 - 1,))``: fixed by the
        experiment seed and apart from every replication stream (``(seed, i)``).
        """
        if n < 1:
            raise InputError(f"must be a whole number >= 1, got {n}", source="draws")
        gen = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(int(seed), spawn_key=(2**31 - 1,))))
        return gen.choice(len(self.params), size=int(n), replace=True, p=self.weights)

    def row(self, i: int) -> dict[str, Any]:
        """Parameter set ``i`` as Scenario keyword arguments (Python scalars)."""
        out = {}
        for name, value in self.params.iloc[int(i)].items():
            out[str(name)] = value.item() if hasattr(value, "item") else value
        return out

    def scenario(self, base: Scenario, i: int) -> Scenario:
        """``base`` with parameter set ``i`` (the whole-scenario rules checked)."""
        return base.replace(**self.row(i))

    def summary(self) -> pd.DataFrame:
        """Weighted mean and 5-50-95% quantiles of every numeric parameter."""
        rows = {}
        for name in self.names:
            col = self.params[name]
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                continue
            v = col.to_numpy(float)
            order = np.argsort(v, kind="stable")
            cum = np.cumsum(self.weights[order])
            q = {p: float(v[order][min(np.searchsorted(cum, p), len(v) - 1)])
                 for p in (0.05, 0.5, 0.95)}
            rows[name] = {"mean": float(np.dot(self.weights, v)), "q05": q[0.05],
                          "median": q[0.5], "q95": q[0.95]}
        return pd.DataFrame(rows).T.rename_axis("name")


def _coerce(name: str, column: pd.Series, source: str) -> pd.Series:
    """A column with each value checked against the Scenario field (type and range)."""
    kind = _type_of(FIELDS[name])
    values = []
    for j, raw in enumerate(column.tolist()):
        where = f"{source}, row {j + 1}, column {name!r}"
        value = raw
        if kind is int and isinstance(raw, float) and math.isfinite(raw) and raw == int(raw):
            value = int(raw)
        if kind is bool and isinstance(raw, str):
            value = {"true": True, "false": False}.get(raw.strip().lower(), raw)
        if isinstance(value, float) and math.isnan(value):
            raise InputError("missing value; every parameter set needs every column",
                             source=where)
        values.append(check_value(name, value, where))
    return pd.Series(values, name=name, index=column.index)


def check_frame(frame: pd.DataFrame, weights: Any, source: str) -> tuple[pd.DataFrame,
                                                                          np.ndarray]:
    """Validate parameter columns and weights; return them with weights normalised.

    Raises
    ------
    InputError
        One line naming ``source`` and the column or row: an unknown column, a missing
        value, a value out of range, a negative/missing weight, all weights zero, no rows.
    """
    allowed = "Scenario parameter names (docs/ODD.md) and 'weight'"
    for name in frame.columns:
        if name not in FIELDS or name in _NOT_PARAMETERS:
            raise InputError(f"unknown column {name!r}; columns must be {allowed}",
                             source=source)
    if len(frame.columns) == 0:
        raise InputError(f"no parameter columns; columns must be {allowed}", source=source)
    if len(frame) == 0:
        raise InputError("no parameter sets (rows)", source=source)
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(frame),):
        raise InputError(f"{w.size} weights for {len(frame)} parameter sets", source=source)
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("column 'weight' must be finite and >= 0 in every row",
                         source=source)
    if not w.sum() > 0:
        raise InputError("column 'weight' is zero in every row; nothing to draw",
                         source=source)
    checked = pd.DataFrame({n: _coerce(str(n), frame[n], source) for n in frame.columns})
    return checked.reset_index(drop=True), w / w.sum()


def _read(path: Path) -> tuple[pd.DataFrame, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such posterior file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read ({err.__class__.__name__})", source=str(path)) from None
    comments = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("#")]
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    try:
        frame = pd.read_csv(io.StringIO(body))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"not a CSV table ({str(err).splitlines()[0]})",
                         source=str(path)) from None
    return frame, (comments[0] if comments else "")


def load_posterior(path: str | Path | None = None) -> Posterior:
    """Read a posterior file (default: the shipped ``model/data/posterior.csv``).

    Raises
    ------
    InputError
        One line naming the file: missing, unreadable, no ``weight`` column, an unknown
        column, or a bad value (see :func:`check_frame`).
    """
    path = Path(DEFAULT_PATH if path is None else path)
    frame, label = _read(path)
    if WEIGHT not in frame.columns:
        raise InputError(f"no {WEIGHT!r} column; columns must be Scenario parameter names "
                         "(docs/ODD.md) and 'weight'", source=str(path))
    params, weights = check_frame(frame.drop(columns=[WEIGHT]), frame[WEIGHT], str(path))
    return Posterior(params, weights, source=str(path), label=label)


def to_csv_text(frame: pd.DataFrame, weights: Any, label: str = "") -> str:
    """The file's text: ``# label`` (if given), then the CSV with a ``weight`` column."""
    params, w = check_frame(frame, weights, "posterior")
    table = params.assign(**{WEIGHT: w})
    head = "".join(f"# {line}\n" for line in label.splitlines() if line.strip())
    return head + table.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def write_posterior(frame: pd.DataFrame, weights: Any, path: str | Path,
                    label: str = "") -> Path:
    """Write parameter sets and weights (normalised) to ``path`` atomically.

    ``frame`` has only Scenario-field columns; ``label`` becomes the comment header naming
    the calibration. Checks everything first (InputError, nothing written).
    """
    from ..io import write_bytes_atomic
    path = Path(path)
    text = to_csv_text(frame, weights, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path


def publish_posterior(calibration: str | Path, path: str | Path | None = None) -> Path:
    """Write the posterior of a finished calibration folder (``posterior.parquet``,
    ``calibration.json``) as a posterior file (default: the shipped one).

    Parameter columns are the posterior's columns that are Scenario fields (the
    calibration's factors); weights are its ``weight`` column if it has one (a sequential
    sampler), else equal (rejection ABC).
    """
    folder = Path(calibration)
    table = folder / "posterior.parquet"
    if not table.is_file():
        raise InputError("not a finished calibration folder (no posterior.parquet)",
                         source=str(folder))
    posterior = pd.read_parquet(table)
    info: dict[str, Any] = {}
    try:
        info = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        pass
    from .outcomes import OUTCOMES
    # Parameters: Scenario fields that are not model outcomes (an outcome such as
    # step_in_cost shares its name with a parameter; distance and targets are not fields).
    names = [c for c in posterior.columns
             if c in FIELDS and c not in _NOT_PARAMETERS and c not in OUTCOMES]
    weights = (posterior[WEIGHT].to_numpy(float) if WEIGHT in posterior.columns
               else np.ones(len(posterior)))
    label = info.get("label") or f"calibration in {folder}"
    if "simulations" in info and "accepted" in info:  # ABC-SMC
        label += (f"; {info['accepted']} weighted particles after {info.get('generations')} "
                  f"generations, {info['simulations']} points simulated, ESS "
                  f"{info.get('ess', float('nan')):.0f}")
    elif "accepted" in info:  # rejection ABC
        label += (f"; {info['accepted']} of {info.get('used_points', '?')} prior points "
                  "accepted")
    return write_posterior(posterior[names], weights,
                           DEFAULT_PATH if path is None else path, label)


def main(argv: list[str] | None = None) -> int:
    """``python -m mutualsim.evidence.posterior CALIBRATION_DIR [OUT.csv]``."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        sys.stderr.write("usage: python -m mutualsim.evidence.posterior CALIBRATION_DIR "
                         "[OUT.csv]\n")
        return 2
    try:
        out = publish_posterior(args[0], args[1] if len(args) == 2 else None)
    except InputError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
