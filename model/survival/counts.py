"""Per-year event and censoring counts: the sufficient statistic for every estimator here.

Every estimator in :mod:`mutualsim.survival` depends on the data only through how many
histories failed (per cause) and how many were censored at each whole year. Reducing the
raw rows to those counts with :func:`numpy.bincount` is O(n), everything after it is
O(T), and counts from chunks, workers or replications combine by plain addition — so a
simulation never has to hold all its histories in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ORIGINS", "TAKEN_BACK_CAUSE", "SurvivalCounts", "cause_names"]

#: Where survival time can start: spin-out, or the start of the at-risk period (Teckal
#: incubation if the service was incubated, else spin-out).
ORIGINS = ("spinout", "incubation")


def _taken_back_cause() -> int:
    from ..state import CAUSE_NAMES

    return len(CAUSE_NAMES)


#: Cause code of a take-back at the end of incubation (``origin="incubation"`` only): the
#: one after the exit causes of ``mutualsim.state.CAUSE_NAMES``.
TAKEN_BACK_CAUSE = _taken_back_cause()


def cause_names(origin: str = "spinout") -> dict[int, str]:
    """Cause code -> name of the counts :meth:`SurvivalCounts.from_histories` builds for
    ``origin`` (``taken_back`` is a cause only from the start of incubation)."""
    from ..state import CAUSE_NAMES

    names = {k: name for k, name in enumerate(CAUSE_NAMES) if k > 0}
    if origin == "incubation":
        names[TAKEN_BACK_CAUSE] = "taken_back"
    return names


def _as_1d(name: str, values) -> np.ndarray:
    """A 1-d numpy array; pandas' nullable arrays (``Int64``, ``boolean``) become float with
    NaN for a missing value, as every supported pandas does (2.1 gives ``object`` otherwise)."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and not isinstance(dtype, np.dtype) and hasattr(values, "to_numpy"):
        kind = getattr(dtype, "kind", "O")
        if kind in "iub":
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
            if not np.isnan(values).any():
                values = values.astype(np.int64)
        elif kind == "f":
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _as_whole_numbers(name: str, values, *, allow_negative: bool = False) -> np.ndarray:
    """Validate that ``values`` are whole numbers and return them as ``int64``."""
    arr = _as_1d(name, values)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64, copy=False)
    elif arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains infinite values")
        if (arr != np.floor(arr)).any():
            raise ValueError(f"{name} must be whole numbers (integer years)")
        out = arr.astype(np.int64)
    else:
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if not allow_negative and out.size and out.min() < 0:
        raise ValueError(f"{name} must be >= 0, found {out.min()}")
    return out


def _check_count_array(name: str, arr, ndim: int) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    out = _as_whole_numbers(name, arr.ravel()).reshape(arr.shape)
    return out


def _pad(arr: np.ndarray, length: int, rows: int | None = None) -> np.ndarray:
    """Zero-pad the last axis to ``length`` (and the first axis to ``rows`` for 2-D)."""
    if arr.ndim == 1:
        return np.pad(arr, (0, length - arr.shape[0]))
    return np.pad(arr, ((0, rows - arr.shape[0]), (0, length - arr.shape[1])))


@dataclass(frozen=True, eq=False)
class SurvivalCounts:
    """Failures and censorings per whole year since spin-out.

    Parameters
    ----------
    events : numpy.ndarray of int, shape (T + 1,)
        ``events[t]`` = histories that exited with ``duration == t``.
    censored : numpy.ndarray of int, shape (T + 1,)
        ``censored[t]`` = histories still trading at the horizon with ``duration == t``.
    events_by_cause : numpy.ndarray of int, shape (n_causes, T + 1), optional
        Row ``k - 1`` counts exits of cause code ``k``; rows must add up to ``events``.

    Notes
    -----
    Counts are additive: ``a + b`` (and ``sum(chunks)``) equals the counts of the pooled
    data, padding the shorter time axis (and cause axis) with zeros.
    """

    events: np.ndarray
    censored: np.ndarray
    events_by_cause: np.ndarray | None = None

    def __post_init__(self) -> None:
        events = _check_count_array("events", self.events, 1)
        censored = _check_count_array("censored", self.censored, 1)
        if events.shape != censored.shape:
            raise ValueError(
                f"events and censored must have the same length, got {events.shape[0]} "
                f"and {censored.shape[0]}"
            )
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "censored", censored)
        if self.events_by_cause is not None:
            by_cause = _check_count_array("events_by_cause", self.events_by_cause, 2)
            if by_cause.shape[1] != events.shape[0]:
                raise ValueError(
                    "events_by_cause must have shape (n_causes, len(events)), got "
                    f"{by_cause.shape} for len(events) = {events.shape[0]}"
                )
            if not np.array_equal(by_cause.sum(axis=0), events):
                raise ValueError("events_by_cause must sum over causes to events")
            object.__setattr__(self, "events_by_cause", by_cause)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_durations(
        cls,
        durations,
        events=None,
        causes=None,
        max_time: int | None = None,
        *,
        n_causes: int | None = None,
    ) -> SurvivalCounts:
        """Count failures and censorings per year with :func:`numpy.bincount`.

        Parameters
        ----------
        durations : array_like of int, shape (n,)
            Whole years since spin-out, ``>= 0``.
        events : array_like of {0, 1} or bool, shape (n,), optional
            1 = exited at ``duration``, 0 = censored. Defaults to ``causes > 0`` when
            ``causes`` is given, otherwise to all ones (no censoring).
        causes : array_like of int, shape (n,), optional
            Exit cause codes ``1, 2, ...``; ``0`` means censored. Enables
            ``events_by_cause``.
        max_time : int, optional
            Last year to tabulate (T). Fix it across chunks that may not all reach the
            horizon; defaults to ``max(durations)``.
        n_causes : int, optional
            Number of cause rows; defaults to ``max(causes)``. Fix it across chunks so
            they stay addable even if a rare cause is absent from one of them.

        Returns
        -------
        SurvivalCounts

        Raises
        ------
        ValueError
            Naming the argument, if values are negative, non-integer, NaN, of the wrong
            shape, or of mismatched lengths.
        """
        d = _as_whole_numbers("durations", durations)
        n = d.shape[0]
        if causes is not None:
            c = _as_whole_numbers("causes", causes)
            if c.shape[0] != n:
                raise ValueError(
                    f"causes must have the same length as durations ({n}), got {c.shape[0]}"
                )
        else:
            c = None
        if events is not None:
            e = _as_whole_numbers("events", events)
            if e.shape[0] != n:
                raise ValueError(
                    f"events must have the same length as durations ({n}), got {e.shape[0]}"
                )
            if e.size and e.max() > 1:
                raise ValueError("events must contain only 0 (censored) and 1 (exit)")
            if c is not None and not np.array_equal(e, (c > 0).astype(np.int64)):
                raise ValueError("events must equal (causes > 0) when both are given")
        elif c is not None:
            e = (c > 0).astype(np.int64)
        else:
            e = np.ones(n, dtype=np.int64)

        if max_time is None:
            length = int(d.max()) + 1 if n else 0
        else:
            if int(max_time) != max_time or max_time < 0:
                raise ValueError(f"max_time must be a whole number >= 0, got {max_time!r}")
            length = int(max_time) + 1
            if n and d.max() >= length:
                raise ValueError(
                    f"max_time ({max_time}) is smaller than the largest duration ({d.max()})"
                )

        ev = np.bincount(d, weights=None, minlength=length)
        failed = e.astype(bool)
        events_t = np.bincount(d[failed], minlength=length).astype(np.int64)
        censored_t = ev.astype(np.int64) - events_t
        by_cause = None
        if c is not None:
            k_max = int(c.max()) if n else 0
            if n_causes is None:
                n_causes = k_max
            elif k_max > n_causes:
                raise ValueError(f"n_causes ({n_causes}) is smaller than max(causes) ({k_max})")
            # One bincount over the flattened (cause, time) index keeps this O(n).
            flat = (c[failed] - 1) * length + d[failed]
            by_cause = (
                np.bincount(flat, minlength=n_causes * length)
                .reshape(n_causes, length)
                .astype(np.int64)
            )
        elif n_causes is not None:
            raise ValueError("n_causes requires causes")
        return cls(events_t, censored_t, by_cause)

    @classmethod
    def from_exits(cls, durations, exit_causes, max_time: int | None = None, *,
                   taken_back=None, origin: str = "spinout") -> SurvivalCounts:
        """Counts from each history's duration and how it ended: the one place that says
        how an ending becomes a cause (:meth:`from_histories` and
        :func:`mutualsim.simulate.block_counts` both end here).

        ``exit_causes`` (n,): the 1-based exit cause code (``CAUSE_NAMES``), 0 for a
        history still running at the horizon (censored). With ``origin="incubation"``,
        ``taken_back`` (n,) bool marks a venture taken back at the end of incubation: an
        event of cause :data:`TAKEN_BACK_CAUSE` unless it also exited. Cause rows: the
        exit causes (spin-out origin) or up to :data:`TAKEN_BACK_CAUSE` (incubation), so
        counts of any blocks stay addable.
        """
        from ..state import CAUSE_NAMES

        causes = np.asarray(exit_causes, dtype=np.float64)
        n_causes = len(CAUSE_NAMES) - 1
        if origin == "incubation":
            causes = np.where(causes > 0, causes,
                              np.where(np.asarray(taken_back, dtype=bool), TAKEN_BACK_CAUSE, 0))
            n_causes = TAKEN_BACK_CAUSE
        elif origin != "spinout":
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}")
        return cls.from_durations(durations, causes=causes, max_time=max_time,
                                  n_causes=n_causes)

    @classmethod
    def from_histories(
        cls, histories: pd.DataFrame, max_time: int | None = None, *,
        origin: str = "spinout",
    ) -> SurvivalCounts:
        """Counts of the spun-out mutuals in a histories table: the one adapter.

        Every report turns histories into survival data through this method, so they
        all agree on who is counted, for how long and how each one ended.

        With ``origin="incubation"`` time runs from the start of each venture's at-risk
        period instead (``at_risk_year``: the start of Teckal incubation if it was
        incubated, else spin-out), so incubation years count as time at risk (no
        immortal-time bias when incubation is compared with direct spin-out). A service
        taken back at the end of incubation is then a failure of the venture: an event at
        ``at_risk_duration_years`` with cause ``taken_back`` (code
        :data:`TAKEN_BACK_CAUSE`, after the exit causes); a company still incubating at the
        horizon is censored.

        Parameters
        ----------
        histories : pandas.DataFrame
            ``Results.histories`` or rows read from a sweep (any extra columns are
            ignored). Used columns: ``duration_years`` (whole years since spin-out, as
            :func:`mutualsim.simulate` writes it: ``exit_year - spinout_year + 1`` for an
            exit, ``end_year - spinout_year + 1`` for a mutual still trading; missing for
            proposals that never spun out, which are left out), ``censored`` (True = still
            trading at the horizon) and, optionally, ``exit_cause`` (``insolvency``,
            ``wind_down``, ``takeover``; fills ``events_by_cause`` with codes 1, 2, 3).
        max_time : int, optional
            Last year to tabulate; give the scenario's ``years`` so that counts of
            different tasks or arms stay addable and comparable.
        origin : {"spinout", "incubation"}
            Where time starts (see above). ``"incubation"`` needs the columns
            ``at_risk_duration_years``, ``exit_year`` and ``incubation_outcome``.

        Returns
        -------
        SurvivalCounts

        Raises
        ------
        ValueError
            Naming the column, if one is missing, ``censored`` is missing for a spun-out
            mutual, or an exit has no known cause; naming ``origin`` if it is neither
            ``"spinout"`` nor ``"incubation"``.
        """
        from ..state import CAUSE_NAMES

        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}")
        if origin == "incubation":
            return cls._from_at_risk(histories, max_time)
        missing = [c for c in ("duration_years", "censored") if c not in histories.columns]
        if missing:
            raise ValueError(f"histories is missing column(s) {', '.join(missing)}")
        spun = histories[histories["duration_years"].notna().to_numpy(bool)]
        durations = spun["duration_years"].to_numpy(dtype=np.float64)
        censored_col = spun["censored"]
        if censored_col.isna().any():
            raise ValueError("histories['censored'] is missing for a spun-out mutual")
        events = ~censored_col.to_numpy(dtype=bool)
        if "exit_cause" not in histories.columns:
            return cls.from_durations(durations, events.astype(np.int64), max_time=max_time)
        codes = {name: k for k, name in enumerate(CAUSE_NAMES) if k > 0}
        names = spun["exit_cause"].astype(object).where(events, None)
        causes = names.map(codes).where(events, 0)
        unknown = events & causes.isna().to_numpy(bool)
        if unknown.any():
            bad = names[unknown].iloc[0]
            raise ValueError(
                f"histories['exit_cause'] = {bad!r} for an exit; allowed "
                f"{', '.join(codes)}"
            )
        return cls.from_exits(durations, causes.to_numpy(dtype=np.float64), max_time)

    @classmethod
    def _from_at_risk(cls, histories: pd.DataFrame, max_time: int | None) -> SurvivalCounts:
        """``from_histories(origin="incubation")``: durations from ``at_risk_year``; exits
        keep their cause codes, a take-back is cause :data:`TAKEN_BACK_CAUSE`."""
        from ..state import CAUSE_NAMES

        need = ("at_risk_duration_years", "exit_year", "incubation_outcome")
        missing = [c for c in need if c not in histories.columns]
        if missing:
            raise ValueError(f"histories is missing column(s) {', '.join(missing)} "
                             "(needed for origin='incubation')")
        rows = histories[histories["at_risk_duration_years"].notna().to_numpy(bool)]
        durations = rows["at_risk_duration_years"].to_numpy(dtype=np.float64)
        exited = rows["exit_year"].notna().to_numpy(bool)
        taken_back = (rows["incubation_outcome"].astype(object) == "taken_back").to_numpy(bool)
        codes = {name: k for k, name in enumerate(CAUSE_NAMES) if k > 0}
        causes = np.zeros(len(rows), dtype=np.float64)
        if exited.any():
            if "exit_cause" not in rows.columns:
                raise ValueError("histories is missing column exit_cause")
            names = rows["exit_cause"].astype(object)[exited]
            mapped = names.map(codes)
            if mapped.isna().any():
                bad = names[mapped.isna().to_numpy(bool)].iloc[0]
                raise ValueError(f"histories['exit_cause'] = {bad!r} for an exit; allowed "
                                 f"{', '.join(codes)}")
            causes[exited] = mapped.to_numpy(dtype=np.float64)
        return cls.from_exits(durations, causes, max_time, taken_back=taken_back,
                              origin="incubation")

    # --------------------------------------------------------------- derived values
    @property
    def max_time(self) -> int:
        """Last tabulated year T (``-1`` for empty counts)."""
        return self.events.shape[0] - 1

    @property
    def times(self) -> np.ndarray:
        """The years ``0, 1, ..., T``."""
        return np.arange(self.events.shape[0])

    @property
    def n(self) -> int:
        """Total number of histories."""
        return int(self.events.sum() + self.censored.sum())

    @property
    def n_causes(self) -> int:
        """Number of cause rows (0 when causes were not recorded)."""
        return 0 if self.events_by_cause is None else self.events_by_cause.shape[0]

    @property
    def at_risk(self) -> np.ndarray:
        """Histories with ``duration >= t``: the reverse cumulative sum of all counts.

        Censored histories count as at risk in their last year (failures come before
        censorings at tied times).
        """
        total = self.events + self.censored
        return np.cumsum(total[::-1])[::-1]

    # ------------------------------------------------------------------ combination
    def __add__(self, other: SurvivalCounts) -> SurvivalCounts:
        if not isinstance(other, SurvivalCounts):
            return NotImplemented
        length = max(self.events.shape[0], other.events.shape[0])
        by_cause = None
        if self.events_by_cause is not None or other.events_by_cause is not None:
            parts = []
            for part in (self, other):
                if part.events_by_cause is None:
                    if part.events.any():
                        raise ValueError(
                            "cannot add counts with causes to counts with exits but no causes"
                        )
                    parts.append(np.zeros((0, part.events.shape[0]), dtype=np.int64))
                else:
                    parts.append(part.events_by_cause)
            rows = max(p.shape[0] for p in parts)
            by_cause = sum(_pad(p, length, rows) for p in parts)
        return SurvivalCounts(
            _pad(self.events, length) + _pad(other.events, length),
            _pad(self.censored, length) + _pad(other.censored, length),
            by_cause,
        )

    def __radd__(self, other):
        # Lets ``sum(chunks)`` start from the integer 0.
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented

    def __eq__(self, other) -> bool:
        if not isinstance(other, SurvivalCounts):
            return NotImplemented
        same = np.array_equal(self.events, other.events) and np.array_equal(
            self.censored, other.censored
        )
        if self.events_by_cause is None or other.events_by_cause is None:
            return same and self.events_by_cause is None and other.events_by_cause is None
        return same and np.array_equal(self.events_by_cause, other.events_by_cause)

    __hash__ = None  # mutable arrays inside: not hashable

    def extend(self, max_time: int) -> SurvivalCounts:
        """Return the same counts zero-padded to ``max_time`` (no-op if already as long)."""
        if max_time < self.max_time:
            raise ValueError(f"max_time ({max_time}) is smaller than counts' T ({self.max_time})")
        return self + SurvivalCounts(
            np.zeros(max_time + 1, dtype=np.int64), np.zeros(max_time + 1, dtype=np.int64)
        )

    # ---------------------------------------------------------------------- storage
    def to_frame(self) -> pd.DataFrame:
        """One row per year: ``time, events, censored`` and ``events_cause_<k>`` columns.

        Plain int64 columns, so the frame round-trips through Parquet/CSV unchanged.
        """
        data = {"time": self.times, "events": self.events, "censored": self.censored}
        for k in range(self.n_causes):
            data[f"events_cause_{k + 1}"] = self.events_by_cause[k]
        return pd.DataFrame(data)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> SurvivalCounts:
        """Inverse of :meth:`to_frame` (rows may come in any order, gaps count as zero)."""
        missing = {"time", "events", "censored"} - set(frame.columns)
        if missing:
            raise ValueError(f"frame is missing columns {sorted(missing)}")
        time = _as_whole_numbers("frame['time']", frame["time"].to_numpy())
        if np.unique(time).size != time.size:
            raise ValueError("frame['time'] has duplicate years")
        length = int(time.max()) + 1 if time.size else 0

        def column(name: str) -> np.ndarray:
            values = _as_whole_numbers(f"frame[{name!r}]", frame[name].to_numpy())
            out = np.zeros(length, dtype=np.int64)
            out[time] = values
            return out

        cause_cols = sorted(
            (c for c in frame.columns if str(c).startswith("events_cause_")),
            key=lambda c: int(str(c).rsplit("_", 1)[1]),
        )
        by_cause = None
        if cause_cols:
            n_causes = int(str(cause_cols[-1]).rsplit("_", 1)[1])
            by_cause = np.zeros((n_causes, length), dtype=np.int64)
            for col in cause_cols:
                by_cause[int(str(col).rsplit("_", 1)[1]) - 1] = column(col)
        return cls(column("events"), column("censored"), by_cause)
