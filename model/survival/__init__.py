"""Survival analysis of simulated mutuals: how long they keep trading after spin-out.

Data: one row per spun-out mutual. ``duration`` is whole years since spin-out (int >= 0);
``event`` is 1 if the mutual exited at that duration and 0 if it was censored (still
trading at the simulation horizon, known to have survived ``duration`` years); ``cause``
is 0 for censored, otherwise a positive exit-cause code (in the simulation
1 = insolvency, 2 = wind_down, 3 = takeover; names can be passed as a mapping).

Definitions, for each whole year t = 0, 1, ..., T (T = largest duration):

* ``at_risk(t)``  = number of histories with ``duration >= t``;
* ``events(t)``   = failures with ``duration == t``;
* ``censored(t)`` = censored histories with ``duration == t``;
* ``S(t) = P(T > t)`` = share still trading t years after spin-out, estimated by
  Kaplan–Meier as ``prod_{s <= t} (1 - events(s) / at_risk(s))``.

Histories censored at t are at risk at t: at tied times failures come before
censorings, the standard Kaplan–Meier convention, and the one ``scipy.stats.ecdf`` uses
(a right-censored value c in ``scipy.stats.CensoredData`` means T > c).

Every estimator depends on the data only through these per-year counts
(:class:`SurvivalCounts`), tabulated with :func:`numpy.bincount` in O(n); all later work
is O(T). Counts from chunks, workers or replications are combined by addition.

S(t) at chosen years is read with :func:`survival_at` (and :func:`survival_estimates_at`
for bands): the one definition every report uses, over the one histories adapter
:meth:`SurvivalCounts.from_histories`. :func:`to_lifelines` hands counts to lifelines as
exact weighted rows.

Functions take ``(durations, events)`` arrays or ``counts=`` and return arrays,
DataFrames or small result objects. Plotting lives in :mod:`mutualsim.survival.plots`,
imported on demand so that matplotlib is not loaded with this package.
"""

from typing import TYPE_CHECKING

from ..lazy import keep_function
from ._common import Estimate
from .bridges import to_lifelines
from .counts import ORIGINS, TAKEN_BACK_CAUSE, SurvivalCounts, cause_names
from .cumulative_incidence import cumulative_incidence
from .effects import median_difference, rmst_difference, survival_difference
from .hazard import hazard, nelson_aalen
from .kaplan_meier import kaplan_meier, survival_at, survival_estimates_at
from .median import median_survival
from .rmst import rmst

if TYPE_CHECKING:
    from .logrank import LogRankResult, logrank

# The log-rank test loads on first use (it needs scipy.stats, which ``mutualsim run`` does
# not): ``logrank`` names the function even once its submodule is imported.
keep_function(__name__, "logrank")


def __getattr__(name: str):
    if name == "LogRankResult":
        from .logrank import LogRankResult
        return LogRankResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Estimate",
    "LogRankResult",
    "ORIGINS",
    "SurvivalCounts",
    "TAKEN_BACK_CAUSE",
    "cause_names",
    "cumulative_incidence",
    "hazard",
    "kaplan_meier",
    "logrank",
    "median_difference",
    "median_survival",
    "nelson_aalen",
    "rmst",
    "rmst_difference",
    "survival_at",
    "survival_difference",
    "survival_estimates_at",
    "to_lifelines",
]
