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

import pandas as pd

from ..analysis.compare import HORIZONS, Comparison, Group, simulate_group
from ..analysis.uncertainty import PosteriorComparison, compare_posterior
from ..params import Scenario
from ..survival import Estimate
from .settings import Settings

CACHE_SIZE = 32
#: Posterior mode: parameter sets drawn from the calibrated posterior, and each draw's
#: replications as a share of the page's (at the default 100: 20 draws x 10 = 200
#: replications per arm, twice the one-parameter-set work; docs/WORKSHOP.md gives the time).
POSTERIOR_DRAWS = 20
POSTERIOR_SHARE = 10
MIN_DRAW_REPLICATIONS = 5
BASELINE_LABEL = "Baseline"  # current practice
CHOSEN_LABEL = "Chosen"


@lru_cache(maxsize=CACHE_SIZE)
def arm(scenario: Scenario, replications: int, seed: int) -> Group:
    """One scenario simulated and summarised; keyed on the full scenario, size and seed.
    Block by block (:func:`mutualsim.analysis.compare.simulate_group`: the same Group as
    summarising :func:`mutualsim.simulate`'s results, without a histories table of every
    replication, the kernel one block ahead of the tabulation)."""
    return simulate_group(scenario, value=None, label="", replications=replications,
                          seed=seed, max_time=scenario.years)


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


def replications_per_draw(settings: Settings) -> int:
    """Replications per posterior draw in posterior mode: the page's, divided by
    :data:`POSTERIOR_SHARE` (at least :data:`MIN_DRAW_REPLICATIONS`)."""
    return max(MIN_DRAW_REPLICATIONS, settings.replications // POSTERIOR_SHARE)


@lru_cache(maxsize=CACHE_SIZE)
def posterior_arm(scenario: Scenario, draws: int, replications: int,
                  seed: int) -> PosteriorComparison:
    """One scenario over ``draws`` posterior draws x ``replications`` (cached, as
    :func:`arm`): :func:`~mutualsim.analysis.uncertainty.compare_posterior` with the
    scenario's own protection length as its one value. The draws and every replication
    stream depend on the seed only, so two arms with the same seed and sizes are paired
    draw by draw (same parameter set, same random numbers)."""
    return compare_posterior(scenario, "protection_years", [scenario.protection_years],
                             replications, seed, draws=draws, origin="spinout")


def compute_posterior(settings: Settings) -> PosteriorComparison:
    """Baseline and chosen setting over the same posterior draws and streams, as one
    :class:`PosteriorComparison` (baseline first: the reference of the paired differences
    and P(better)); each arm comes from the cache when seen."""
    draws, reps = POSTERIOR_DRAWS, replications_per_draw(settings)
    arms = [posterior_arm(scenario, draws, reps, settings.seed)
            for scenario in (settings.baseline(), settings.scenario())]
    labels = [BASELINE_LABEL, CHOSEN_LABEL]
    frames = [a.draws.assign(value_index=j, value=label, label=label)
              for j, (a, label) in enumerate(zip(arms, labels, strict=True))]
    single = Comparison(factor="setting", groups=[
        _labelled(a.single.groups[0], label) for a, label in zip(arms, labels, strict=True)],
        scenario=settings.scenario(), replications=reps, seed=settings.seed)
    first = arms[0]
    return PosteriorComparison(
        factor="setting", values=labels, labels=labels,
        draws=pd.concat(frames, ignore_index=True), single=single, n_draws=draws,
        replications=reps, seed=settings.seed, origin=first.origin,
        posterior=first.posterior, posterior_label=first.posterior_label, level=first.level,
        elapsed=sum(a.elapsed for a in arms))
