"""The chosen setting against the baseline, computed with the batch kernel and cached.

Both arms use the same seed, so replication ``i`` sees the same random draws in each
(common random numbers): differences on the page come from the levers, not from luck.
Each arm is reduced to a small summary (survival counts and an income-share band) and
kept in a bounded LRU cache, so going back to a setting already seen is instant and
memory stays bounded whatever a session does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ..analysis.compare import HORIZONS, Comparison, Group, summarise
from ..params import Scenario
from ..simulate import simulate
from ..survival import Estimate
from .settings import Settings

CACHE_SIZE = 32
BASELINE_LABEL = "Baseline"  # current practice
CHOSEN_LABEL = "Chosen"


@lru_cache(maxsize=CACHE_SIZE)
def arm(scenario: Scenario, replications: int, seed: int) -> Group:
    """One scenario simulated and summarised; keyed on the full scenario, size and seed."""
    results = simulate(scenario, replications, seed=seed)
    return summarise(results, value=None, label="", max_time=scenario.years)


def _labelled(group: Group, label: str) -> Group:
    """A relabelled shallow copy, so the cached summary itself is never changed."""
    return replace(group, value=label, label=label)


@dataclass(frozen=True)
class PageResults:
    """What the survival views show for one :class:`Settings`."""

    settings: Settings
    comparison: Comparison

    @property
    def baseline(self) -> Group:
        return self.comparison.groups[0]

    @property
    def chosen(self) -> Group:
        return self.comparison.groups[1]

    def survival_at(self) -> dict[str, dict[int, Estimate]]:
        """S(t) with 95% intervals at 5, 10 and 15 years, per arm label."""
        return {g.label: {t: g.survival_at(t) for t in HORIZONS}
                for g in self.comparison.groups}


def compute(settings: Settings) -> PageResults:
    """Baseline and chosen arms for a setting (each reused from the cache when seen)."""
    base = _labelled(arm(settings.baseline(), settings.replications, settings.seed),
                     BASELINE_LABEL)
    chosen = _labelled(arm(settings.scenario(), settings.replications, settings.seed),
                       CHOSEN_LABEL)
    comparison = Comparison(factor="setting", groups=[base, chosen],
                            scenario=settings.scenario(), replications=settings.replications,
                            seed=settings.seed,
                            meta={"title": "setting"})
    return PageResults(settings=settings, comparison=comparison)


def format_estimate(e: Estimate) -> str:
    """``62% (58-66%)``, or ``n/a`` beyond follow-up."""
    if e.estimate != e.estimate:
        return "n/a"
    low = "?" if e.ci_low != e.ci_low else f"{e.ci_low:.0%}"
    high = "?" if e.ci_high != e.ci_high else f"{e.ci_high:.0%}"
    return f"{e.estimate:.1%} ({low}-{high})"
