"""Private helpers shared by the survival modules: input resolution, z values, results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .counts import SurvivalCounts

__all__ = ["Estimate", "resolve_counts", "z_value", "check_alpha"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and a two-sided confidence interval.

    Attributes
    ----------
    estimate : float or numpy.ndarray
        The point estimate.
    se : float or numpy.ndarray
        Its standard error (NaN where the method gives none).
    ci_low, ci_high : float or numpy.ndarray
        Bounds of the ``1 - alpha`` confidence interval.
    """

    estimate: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray


def check_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float, raising ``ValueError`` unless ``0 < alpha < 1``."""
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    return alpha


def z_value(alpha: float) -> float:
    """Two-sided normal quantile, computed exactly as ``scipy.stats.ecdf`` does.

    scipy uses ``ndtri(1/2 + confidence_level/2)``; repeating the expression keeps the
    bands bit-compatible with scipy's rather than merely close.
    """
    confidence_level = 1.0 - check_alpha(alpha)
    from scipy import special  # imported here: scipy loads only for a band

    return float(special.ndtri(1 / 2 + confidence_level / 2))


def resolve_counts(durations, events, counts: SurvivalCounts | None) -> SurvivalCounts:
    """Turn ``(durations, events)`` or ``counts=`` into a :class:`SurvivalCounts`.

    Exactly one of the two routes must be used, so a caller cannot pass data twice and
    silently have one copy ignored.
    """
    if counts is not None:
        if durations is not None or events is not None:
            raise ValueError("pass either durations/events or counts=, not both")
        if not isinstance(counts, SurvivalCounts):
            raise ValueError(
                f"counts must be a SurvivalCounts instance, got {type(counts).__name__}"
            )
        return counts
    if durations is None:
        raise ValueError("durations is required when counts= is not given")
    return SurvivalCounts.from_durations(durations, events)


def require_observations(counts: SurvivalCounts) -> None:
    """Raise ``ValueError`` if ``counts`` holds no histories at all."""
    if counts.n == 0:
        raise ValueError("counts holds no observations (durations was empty)")
