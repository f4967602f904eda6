"""The data contract: one explicit Arrow schema per kind of table mutualsim writes.

Every Parquet file of a kind — ``histories``, ``panel`` and ``counts``, written by
``mutualsim run`` or by a sweep task — carries exactly the schema below, whatever its rows
(none included), whichever pandas or pyarrow is installed. Counts are ``int64``, flags
``bool``, money and shares ``float64``, every enumeration (``origin``, ``incubation_outcome``,
``exit_cause``, ``final_stage``, ``stage``) one dictionary type with its full, fixed list of
values, and text one ``string`` type. Tables are built column by column from the code's own
types, never inferred from a DataFrame, and carry no pandas metadata, so the bytes of a file
depend only on the data and on the pyarrow version.

Reading back (:func:`to_frame`) gives the same pandas dtypes as the frames
:func:`mutualsim.simulate` returns: ``int64``, nullable ``Int64`` where a value can be
missing, ``bool``, ``float64``, and ``Categorical`` with the full list of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .kernel.record import FLOWS, STOCKS
from .state import CAUSE_NAMES, INCUBATION_NAMES, ORIGIN_NAMES, STAGE_NAMES
from .versions import library_versions

if TYPE_CHECKING:  # pandas is imported only when a frame is built
    import pandas as pd

#: The values of each enumeration, in code order (the dictionary every file carries).
ENUMERATIONS: dict[str, tuple[str, ...]] = {
    "origin": ORIGIN_NAMES,
    "incubation_outcome": (*INCUBATION_NAMES, "incubating"),
    "exit_cause": CAUSE_NAMES[1:],
    "final_stage": STAGE_NAMES,
    "stage": STAGE_NAMES,
}
# int32 indices: what every supported pyarrow reads back from Parquet (15 gives int32 for any).
ENUM_TYPE = pa.dictionary(pa.int32(), pa.string())
STRING = pa.string()

_I, _F, _B = pa.int64(), pa.float64(), pa.bool_()


def _field(name: str, type_: pa.DataType, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable)


HISTORIES = pa.schema([
    _field("replication", _I),
    _field("mutual_id", _I),
    _field("council_id", _I),
    _field("origin", ENUM_TYPE),
    _field("proposal_year", _I),
    _field("incubation_outcome", ENUM_TYPE),
    _field("spinout_year", _I, nullable=True),
    _field("exit_year", _I, nullable=True),
    _field("exit_cause", ENUM_TYPE, nullable=True),
    _field("censored", _B),
    _field("duration_years", _I, nullable=True),
    # The at-risk period: from the start of incubation if incubated, else from spin-out
    # (missing for a proposal that neither); a take-back ends it as an event.
    _field("at_risk_year", _I, nullable=True),
    _field("at_risk_duration_years", _I, nullable=True),
    _field("parent_income_share", _F, nullable=True),
    _field("final_stage", ENUM_TYPE),
    _field("tenders", _I),
    _field("tender_wins", _I),
    _field("capability", _F),
    _field("reserves", _F),
    _field("social_value", _F),
    _field("baseline_value", _F),
])

#: Panel columns that count things (mutuals, proposals, exits, tenders, disruptions).
PANEL_COUNTS = ("mutuals_trading", "mutuals_protected", "mutuals_incubating",
                "mutuals_in_surplus",
                "proposals_pending", "proposals", "abandoned", "taken_back", "spinouts",
                "exits_insolvency", "exits_wind_down", "exits_takeover", "tenders",
                "mutual_tender_wins", "service_disruptions", "tenders_contested",
                "lots_won_local", "contract_extensions", "break_clauses", "teckal_capped")
#: Panel columns that are yes/no.
PANEL_FLAGS = ("recession",)


def _panel_type(name: str) -> pa.DataType:
    return _I if name in PANEL_COUNTS else _B if name in PANEL_FLAGS else _F


PANEL = pa.schema([
    _field("replication", _I),
    _field("year", _I),
    # Means over trading mutuals are missing in a year with none trading.
    *(_field(name, _panel_type(name), nullable=_panel_type(name) == _F)
      for name in (*STOCKS, *FLOWS)),
])

#: Survival counts per year; cause columns follow ``CAUSE_NAMES[1:]`` (1-based).
COUNTS = pa.schema([
    _field("time", _I),
    _field("events", _I),
    _field("censored", _I),
    *(_field(f"events_cause_{k}", _I) for k in range(1, len(CAUSE_NAMES))),
])

SCHEMAS: dict[str, pa.Schema] = {"histories": HISTORIES, "panel": PANEL, "counts": COUNTS}
SCENARIO_ID = _field("scenario_id", STRING)


def schema(kind: str, *, scenario_id: bool = False) -> pa.Schema:
    """The schema of a ``kind`` table; a sweep's task files start with ``scenario_id``.

    Raises:
        KeyError: ``kind`` is not one of ``histories``, ``panel``, ``counts``.
    """
    base = SCHEMAS[kind]
    return pa.schema([SCENARIO_ID, *base]) if scenario_id else base


def _enum_array(name: str, values: Any) -> pa.DictionaryArray:
    """Codes into ``ENUMERATIONS[name]``; missing values (None/NaN/NA) stay missing."""
    import pandas as pd

    names = ENUMERATIONS[name]
    series = pd.Series(values, copy=False)
    if isinstance(series.dtype, pd.CategoricalDtype) and tuple(series.cat.categories) == names:
        codes = series.cat.codes.to_numpy()
    else:
        codes = pd.Index(list(names), dtype=object).get_indexer(series.astype(object))
    missing = codes < 0
    unknown = missing & series.notna().to_numpy()
    if unknown.any():
        value = series[unknown].iloc[0]
        raise ValueError(f"column {name!r}: {value!r} is not one of {', '.join(names)}")
    return dictionary_array(codes, name)


def dictionary_array(codes: np.ndarray, kind: str) -> pa.DictionaryArray:
    """Codes into ``ENUMERATIONS[kind]`` (-1 = missing) as :data:`ENUM_TYPE`, the full
    list of values as the dictionary."""
    missing = codes < 0
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(missing, 0, codes).astype(np.int32), pa.int32(),
                 mask=missing if missing.any() else None),
        pa.array(ENUMERATIONS[kind], STRING))


def _array(field: pa.Field, values: Any) -> pa.Array:
    import pandas as pd

    if field.type == ENUM_TYPE:
        return _enum_array(field.name, values)
    series = pd.Series(values, copy=False)
    missing = series.isna().to_numpy()
    if missing.any() and not field.nullable:
        raise ValueError(f"column {field.name!r} has missing values and must not")
    if field.type == STRING:
        return pa.array(series.astype(object).to_numpy(), STRING, mask=missing)
    dtype = {pa.int64(): np.int64, pa.float64(): np.float64, pa.bool_(): np.bool_}[field.type]
    if field.type == pa.float64():
        return pa.array(series.to_numpy(dtype=np.float64, na_value=np.nan), field.type)
    if field.type == pa.int64() and series.dtype.kind in "iu":
        # Whole numbers already (numpy or nullable pandas integers): no check, no objects.
        data = series.to_numpy(dtype=np.int64, na_value=0)
        return pa.array(data, field.type, mask=missing if missing.any() else None)
    filled = series.to_numpy(dtype=object, na_value=0) if missing.any() else series.to_numpy()
    data = np.asarray(filled).astype(dtype)
    if field.type == pa.int64() and not np.array_equal(data, np.asarray(filled, dtype=float)):
        raise ValueError(f"column {field.name!r} holds values that are not whole numbers")
    return pa.array(data, field.type, mask=missing if missing.any() else None)


def to_table(frame: pd.DataFrame, kind: str, *, scenario_id: bool = False) -> pa.Table:
    """A frame of ``kind`` as an Arrow table of exactly :func:`schema` ``(kind)``.

    Args:
        frame: the columns of the schema (any order; extra columns are an error).
        kind: ``"histories"``, ``"panel"`` or ``"counts"``.
        scenario_id: the table starts with a ``scenario_id`` column (sweep task files).

    Raises:
        ValueError: a column is missing or unexpected, an enumeration holds an unknown
            value, a whole-number column holds a fraction, or a required value is missing.
    """
    target = schema(kind, scenario_id=scenario_id)
    expected, given = list(target.names), list(frame.columns)
    if sorted(expected) != sorted(given):
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        raise ValueError(f"{kind} table: missing columns {missing}, unexpected {extra}")
    arrays = [_array(field, frame[field.name]) for field in target]
    return pa.Table.from_arrays(arrays, schema=target)


def dictionary_columns(target: pa.Schema) -> list[str]:
    """Columns worth Parquet's dictionary encoding: enumerations and whole numbers (few
    distinct values). Floats (capability, reserves...) are nearly all distinct: trying a
    dictionary on them first costs about half the writing time and makes files larger."""
    return [f.name for f in target
            if pa.types.is_dictionary(f.type) or pa.types.is_integer(f.type)
            or f.type == STRING]


def write_options(target: pa.Schema) -> dict[str, Any]:
    """The Parquet writer options of every file mutualsim writes with a schema: zstd, a CRC
    on every page, dictionaries only where they pay (:func:`dictionary_columns`)."""
    return {"compression": "zstd", "write_page_checksum": True,
            "use_dictionary": dictionary_columns(target)}


def empty_table(kind: str, *, scenario_id: bool = False) -> pa.Table:
    """A table of ``kind`` with no rows and the full schema."""
    return schema(kind, scenario_id=scenario_id).empty_table()


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table written with these schemas, as the frames ``simulate`` returns.

    Whole-number columns that may be missing become nullable ``Int64``, enumerations
    ``Categorical`` with their full list of values (in code order), whatever subset of the
    rows or columns was read.
    """
    import pandas as pd

    columns: dict[str, Any] = {}
    for field in table.schema:
        chunked = table.column(field.name)
        if pa.types.is_dictionary(field.type):
            values = chunked.cast(STRING).to_pandas().astype(object)
            names = ENUMERATIONS.get(field.name)
            columns[field.name] = pd.Categorical(
                values.where(values.notna(), None),
                categories=list(names) if names else None)
        elif pa.types.is_integer(field.type) and field.nullable:
            missing = np.asarray(chunked.is_null().to_numpy(), dtype=bool)
            values = chunked.fill_null(0).to_numpy().astype(np.int64)
            columns[field.name] = pd.arrays.IntegerArray(values, missing)
        else:
            columns[field.name] = chunked.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


def check_table(table: pa.Table, kind: str, *, scenario_id: bool = False,
                source: str = "table") -> None:
    """Raise ``ValueError`` naming ``source`` unless ``table`` has exactly the schema."""
    target = schema(kind, scenario_id=scenario_id)
    if not table.schema.remove_metadata().equals(target):
        raise ValueError(f"{source}: schema differs from the {kind} schema")


def describe(kind: str) -> Mapping[str, str]:
    """Column name -> type, for docs and error messages."""
    return {f.name: str(f.type) + (" (nullable)" if f.nullable else "")
            for f in schema(kind)}


__all__ = ["COUNTS", "ENUMERATIONS", "ENUM_TYPE", "HISTORIES", "PANEL", "PANEL_COUNTS",
           "PANEL_FLAGS", "SCHEMAS", "check_table", "describe", "dictionary_columns",
           "empty_table",
           "library_versions", "schema", "to_frame", "to_table", "write_options"]
