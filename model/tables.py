"""A block's histories and panel as Arrow tables of the code's schemas, built from its
arrays without pandas: what ``mutualsim run`` streams to Parquet.

Each table is column for column what :func:`mutualsim.schema.to_table` makes of
:func:`mutualsim.simulate.histories_frame` and :func:`~mutualsim.simulate.panel_frame`
(the same Parquet bytes, checked by a test), without building the frames: whole numbers
``int64`` (missing ones masked, 0 beneath the mask), enumerations dictionary-encoded with
their full list of values, flags ``bool``, the rest ``float64``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .blocks import BlockResult
from .params import Scenario
from .schema import HISTORIES, PANEL, PANEL_COUNTS, PANEL_FLAGS, dictionary_array
from .spells import Spells


def _whole(values: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """int64 values; where ``present`` is False, missing (0 beneath the mask)."""
    if present is None or present.all():
        return pa.array(values.astype(np.int64), pa.int64())
    return pa.array(np.where(present, values, 0).astype(np.int64), pa.int64(), mask=~present)


def histories_table(block: BlockResult, scenario: Scenario) -> pa.Table:
    """One row per mutual ever proposed, schema :data:`mutualsim.schema.HISTORIES`."""
    st = block.state
    sp = Spells.of(block, scenario)
    r, m, spun = sp.r, sp.m, sp.spun
    columns = {
        "replication": _whole(block.replications[r]),
        "mutual_id": _whole(m),
        "council_id": _whole(m // scenario.services_per_council),
        "origin": dictionary_array(st.origin[r, m], "origin"),
        "proposal_year": _whole(st.proposal_year[r, m]),
        "incubation_outcome": dictionary_array(sp.incubation, "incubation_outcome"),
        "spinout_year": _whole(st.spinout_year[r, m], spun),
        "exit_year": _whole(st.exit_year[r, m], sp.exited),
        "exit_cause": dictionary_array(sp.cause, "exit_cause"),
        "censored": pa.array(sp.censored, pa.bool_()),
        "duration_years": _whole(sp.duration, spun),
        "at_risk_year": _whole(sp.at_risk, sp.has_risk),
        "at_risk_duration_years": _whole(sp.at_risk_duration, sp.has_risk),
        "parent_income_share": pa.array(np.where(spun, st.parent_share[r, m], np.nan)),
        "final_stage": dictionary_array(st.stage[r, m], "final_stage"),
        "tenders": _whole(st.tenders[r, m]),
        "tender_wins": _whole(st.tender_wins[r, m]),
        "capability": pa.array(st.capability[r, m]),
        "reserves": pa.array(st.reserves[r, m]),
        "social_value": pa.array(st.social_value[r, m]),
        "baseline_value": pa.array(st.v0[r, m]),
    }
    return pa.Table.from_arrays([columns[name] for name in HISTORIES.names], schema=HISTORIES)


def panel_table(block: BlockResult, scenario: Scenario) -> pa.Table:
    """One row per replication and year, schema :data:`mutualsim.schema.PANEL`."""
    R, T = len(block.replications), scenario.years
    columns = {
        "replication": _whole(np.repeat(block.replications, T)),
        "year": _whole(np.tile(np.arange(scenario.start_year, scenario.start_year + T), R)),
    }
    for name, values in block.panel.items():
        flat = values.reshape(-1)
        if name in PANEL_COUNTS:
            columns[name] = _whole(flat)
        elif name in PANEL_FLAGS:
            columns[name] = pa.array(flat.astype(bool), pa.bool_())
        else:
            columns[name] = pa.array(flat, pa.float64())
    return pa.Table.from_arrays([columns[name] for name in PANEL.names], schema=PANEL)
