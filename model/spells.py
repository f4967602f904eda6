"""Each proposal of a block as survival data (:class:`Spells`): who is counted, from when,
for how long and how it ended. Numpy only (no pandas), so the histories table
(:func:`mutualsim.simulate.histories_frame`, :func:`mutualsim.tables.histories_table`) and
the survival counts of a block (:func:`mutualsim.simulate.block_counts`) read one
computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blocks import BlockResult
from .params import Scenario
from .state import COMPETING, INC_TAKEN_BACK, INCUBATING, INCUBATION_NAMES, PROTECTED


@dataclass(frozen=True)
class Spells:
    """Each proposal of a block (slot with a proposal year; rows in (replication, slot)
    order) as survival data: the columns of :func:`histories_frame` that say who is
    counted, from when, for how long and how it ended. One computation, read by
    :func:`histories_frame` and :func:`block_counts`, so the two always agree.

    Years are calendar years, durations whole years (int arrays); masks are bool arrays
    over the proposals; ``cause`` is the 0-based index into ``CAUSE_NAMES[1:]`` of an exit,
    -1 otherwise; ``incubation`` the code of ``schema.ENUMERATIONS["incubation_outcome"]``.
    """

    r: np.ndarray
    m: np.ndarray
    spun: np.ndarray
    exited: np.ndarray
    censored: np.ndarray       # spun out and still trading at the horizon
    duration: np.ndarray       # years from spin-out to exit or the horizon (where spun)
    has_risk: np.ndarray       # incubated or spun out
    at_risk: np.ndarray        # start of incubation if incubated, else spin-out
    at_risk_duration: np.ndarray
    taken_back: np.ndarray
    cause: np.ndarray
    incubation: np.ndarray     # index into INCUBATION_NAMES, then "incubating" (still so)

    @staticmethod
    def of(block: BlockResult, scenario: Scenario) -> Spells:
        st = block.state
        r, m = np.nonzero(st.proposal_year >= 0)
        spinout = st.spinout_year[r, m]
        spun = spinout >= 0
        exited = st.exit_year[r, m] >= 0
        trading = np.isin(st.stage[r, m], (PROTECTED, COMPETING))
        end = scenario.end_year
        duration = np.where(exited, st.exit_year[r, m] - spinout + 1, end - spinout + 1)
        # At risk from the start of incubation (teckal_end - incubation_years) if
        # incubated, else from spin-out; a take-back (in year teckal_end) ends the
        # venture like an exit.
        teckal_end = st.teckal_end[r, m]
        incubated = teckal_end >= 0
        at_risk = np.where(incubated, teckal_end - scenario.incubation_years, spinout)
        taken_back = st.incubation_outcome[r, m] == INC_TAKEN_BACK
        risk_end = np.where(exited, st.exit_year[r, m], np.where(taken_back, teckal_end, end))
        # exit_cause codes are 1-based in the state (0 = none), 0-based in the enumeration.
        cause = np.where(exited, st.exit_cause[r, m].astype(np.int8) - 1, -1)
        incubation = st.incubation_outcome[r, m].astype(np.int8)
        incubation[st.stage[r, m] == INCUBATING] = len(INCUBATION_NAMES)  # "incubating"
        return Spells(r, m, spun, exited, spun & trading, duration, incubated | spun,
                      at_risk, risk_end - at_risk + 1, taken_back, cause, incubation)
