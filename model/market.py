"""``MutualMarket``: the Mesa model of one replication, stepping the shared kernel.

It owns the kernel state for one replication (a batch of one), exposes its rows as Mesa
agents and collects data with Mesa's DataCollector. Replication ``i`` with seed ``s`` follows
exactly the trajectory it has inside :func:`mutualsim.simulate`.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from .agents import Citizen, Council, Mutual, PrivateBidder
from .errors import InputError
from .kernel import COLUMNS, Recorder, context, initial_state, step
from .params import FIELD_NAMES, Scenario
from .rng import replication_generator


class MutualMarket(mesa.Model):
    """Councils, mutuals, private bidders and citizens of one replication.

    Parameters
    ----------
    scenario : Scenario, optional
        Parameters (default: the baseline). Keyword overrides of scenario fields are applied
        on top, so ``mesa.batch_run(MutualMarket, parameters={"protection_years": [3, 7]})``
        works.
    seed : int, optional
        Seed of the experiment; with ``replication`` it fixes the random stream. ``rng``
        (Mesa's name, used by ``mesa.batch_run``) is accepted as the seed too.
    replication : int
        Which replication of the experiment this model is.
    """

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None,
                 replication: int = 0, rng: Any = None, **overrides: Any) -> None:
        if seed is None:
            seed = rng if isinstance(rng, int | np.integer) else None
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        super().__init__(rng=int(seed))
        unknown = sorted(set(overrides) - set(FIELD_NAMES))
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r}", source="MutualMarket")
        # Mesa's SolaraViz passes the model's *Mesa* scenario back on Reset; ours is
        # ``params``, so anything that is not a mutualsim Scenario means "the baseline".
        params = scenario if isinstance(scenario, Scenario) else Scenario()
        self.params: Scenario = params.replace(**overrides) if overrides else params
        self.seed = int(seed)
        self.replication = int(replication)
        self._ctx = context(self.params)
        self._gens = [replication_generator(self.seed, self.replication)]
        self.state = initial_state(self._ctx, self._gens)
        self.recorder = Recorder(1, self.params.years)
        self.year_index = 0

        for i in range(self._ctx.C):
            Council(self, i)
        for i in range(self._ctx.B):
            PrivateBidder(self, i)
        for i in range(self._ctx.C * self._ctx.K):
            Citizen(self, i)
        self._mutual_agents: dict[int, Mutual] = {}

        self.datacollector = mesa.DataCollector(
            model_reporters={name: _panel_reporter(name) for name in ("year", *COLUMNS)},
            agenttype_reporters={Mutual: {"stage": "stage", "reserves": "reserves",
                                          "capability": "capability",
                                          "parent_income_share": "parent_income_share"}},
        )

    # Mesa's Model sets ``self.scenario`` to its own Scenario; ours is ``params``.
    @property
    def scenario(self):  # type: ignore[override]
        return self._mesa_scenario

    @scenario.setter
    def scenario(self, value) -> None:
        self._mesa_scenario = value

    @property
    def year(self) -> int:
        """Calendar year of the next step."""
        return int(self.state.year)

    def step(self) -> None:
        """One year: the kernel advances the state, then new mutuals get agents."""
        if self.year_index >= self.params.years:
            self.running = False
            return
        step(self.state, self._ctx, self._gens, self.recorder, self.year_index)
        self.year_index += 1
        for m in np.nonzero(self.state.proposal_year[0] >= 0)[0]:
            if int(m) not in self._mutual_agents:
                self._mutual_agents[int(m)] = Mutual(self, int(m))
        self.datacollector.collect(self)
        if self.year_index >= self.params.years:
            self.running = False

    def panel_row(self) -> dict[str, float]:
        """The last simulated year's panel values."""
        t = self.year_index - 1
        row = {"year": self.params.start_year + t}
        row.update({k: float(v[0, t]) for k, v in self.recorder.data.items()})
        return row


def _panel_reporter(name: str):
    def report(model: MutualMarket) -> float:
        if model.year_index == 0:
            return float("nan")
        return model.panel_row()[name]
    report.__name__ = name
    return report
