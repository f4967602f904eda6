"""``MutualMarket``: the Mesa model of one replication, stepping the shared kernel.

It owns the kernel state for one replication (a batch of one), exposes its rows as Mesa
agents and collects data with Mesa's DataCollector. Replication ``i`` with seed ``s`` follows
exactly the trajectory it has inside :func:`mutualsim.simulate`.
"""

from __future__ import annotations

import warnings
from typing import Any

import mesa
import numpy as np

from .agents import Citizen, Council, Mutual, PrivateBidder
from .collector import DataCollector
from .errors import InputError
from .kernel import COLUMNS, Recorder, context, initial_state, observe, step
from .kernel.context import FLOWS
from .mesa_inputs import MarketScenario, params_of, resolve_stream
from .params import FIELD_NAMES, Scenario
from .rng import replication_generator
from .state import ABANDONED, EXITED, TAKEN_BACK

#: Stages after which a slot is no longer a mutual: its agent leaves the model's agent sets.
ENDED = (EXITED, ABANDONED, TAKEN_BACK)
AGENT_TYPES = (Council, PrivateBidder, Citizen, Mutual)
#: Mesa's own deprecation message for ``seed=`` (mesa.Model, 3.5).
SEED_DEPRECATED = ("The use of the `seed` keyword argument is deprecated, use `rng` instead. "
                   "No functional changes.")


class MutualMarket(mesa.Model):
    """Councils, mutuals, private bidders and citizens of one replication.

    Parameters
    ----------
    params : mutualsim.Scenario, optional
        Our parameters (default: the baseline). Keyword overrides of its fields are applied on
        top, so ``mesa.batch_run(MutualMarket, parameters={"protection_years": [3, 7]})``
        works. (Renamed from ``scenario=``, which is Mesa's.)
    rng : int, numpy Generator or BitGenerator, SeedSequence, sequence of ints, or None
        Mesa's argument, accepting what ``mesa.Model`` accepts; it selects the random stream
        (see :func:`mutualsim.mesa_inputs.resolve_stream`). An int ``s`` is the stream of
        ``simulate(..., seed=s)``; ``SeedSequence(s).spawn(n)[i]`` is its replication ``i``.
        A Generator (and the like) gives one integer seed drawn from it; None draws that seed
        from OS entropy, as Mesa does. The seed used is recorded as ``model.seed``.
    seed : int, optional
        Deprecated as in Mesa (``FutureWarning``, same message); the same as ``rng``. Giving
        both is an error (``ValueError``), as in Mesa.
    replication : int >= 0, optional
        Which replication of seed ``model.seed`` this model is (default 0, or the spawn key of
        a SeedSequence ``rng``). Recorded as ``model.replication``.
    scenario : mesa.experimental.scenarios.Scenario, optional
        Mesa's Scenario (e.g. :data:`mutualsim.MarketScenario`): its fields are our parameters
        and its ``rng`` the model's, with Mesa's rule that an ``rng`` given as well must be the
        same. Not combined with ``params`` or keyword overrides (an error, never ignored).
    **overrides
        Parameter values (names of :class:`mutualsim.Scenario` fields).

    Attributes
    ----------
    params : mutualsim.Scenario
        The parameters in force. ``model.scenario`` is Mesa's Scenario: the one given, else a
        ``MarketScenario`` holding ``params`` and ``rng=model.seed``.
    seed, replication : int
        The stream used: ``MutualMarket(rng=model.seed, replication=model.replication,
        params=model.params)`` reproduces the run. Both are DataCollector columns.
    former_mutuals : list of Mutual
        Mutuals that exited, were abandoned or taken back, in the order they left. They are
        removed from ``model.agents`` and ``agents_by_type[Mutual]`` (as a Mesa model removes
        dead agents), so ``len(model.agents_by_type[Mutual])`` counts the live ones: proposed,
        incubating, protected or competing.

    Raises
    ------
    InputError (a ValueError)
        Unknown parameter name or bad value; bad ``rng`` or ``replication``; ``seed`` with
        ``rng``; ``rng`` different from ``scenario.rng``; ``scenario`` with ``params`` or
        overrides, or a ``scenario`` that is not a Mesa Scenario.
    """

    def __init__(self, params: Scenario | None = None, *, replication: int | None = None,
                 scenario: Any = None, **overrides: Any) -> None:
        # rng and seed arrive through **overrides rather than as named parameters: if the
        # signature named ``seed``, mesa.batch_run would pass its seeds as seed= (and None over
        # a seed given in ``parameters``); if it named ``rng``, SolaraViz's Reset would pass
        # the page's rng beside a MarketScenario whose rng is None, which Mesa refuses.
        rng = overrides.pop("rng", None)
        seed = overrides.pop("seed", None)
        self.params: Scenario = _parameters(params, scenario, overrides)
        # Mesa's order: the scenario's rng, then seed versus rng.
        if scenario is not None:
            if rng is not None and scenario.rng != rng:
                raise InputError("rng and scenario.rng must be the same", source="MutualMarket")
            rng = scenario.rng
        if seed is not None:
            if rng is not None:
                raise InputError("pass either rng or seed, not both (seed is deprecated: use "
                                 "rng)", source="MutualMarket")
            warnings.warn(SEED_DEPRECATED, FutureWarning, stacklevel=2)
            rng = seed
        self.seed, self.replication = resolve_stream(rng, replication)
        super().__init__(rng=self.seed)
        self.scenario = scenario if scenario is not None else MarketScenario(
            rng=self.seed, **self.params.to_dict())

        self._ctx = context(self.params)
        self._gens = [replication_generator(self.seed, self.replication)]
        self.state = initial_state(self._ctx, self._gens)
        self.recorder = Recorder(1, self.params.years)
        self.year_index = 0

        # Every agent type has its (possibly empty) AgentSet from the start, so
        # ``agents_by_type[Mutual]`` before the first proposal is empty, not a KeyError.
        for kind in AGENT_TYPES:
            self.agents_by_type.setdefault(kind, type(self.agents)([], random=self.random))
        for i in range(self._ctx.C):
            Council(self, i)
        for i in range(self._ctx.B):
            PrivateBidder(self, i)
        for i in range(self._ctx.C * self._ctx.K):
            Citizen(self, i)
        self._mutual_of_slot: dict[int, Mutual] = {}
        self.former_mutuals: list[Mutual] = []

        self._row = self._initial_row()
        self.datacollector = DataCollector(
            model_reporters={"seed": "seed", "replication": "replication",
                             **{name: _panel_reporter(name) for name in ("year", *COLUMNS)}},
            agenttype_reporters={Mutual: {"stage": "stage", "reserves": "reserves",
                                          "capability": "capability",
                                          "parent_income_share": "parent_income_share"}},
        )
        self.datacollector.collect(self)  # step 0, as Mesa models do

    @property
    def year(self) -> int:
        """Calendar year of the next step."""
        return int(self.state.year)

    def step(self) -> None:
        """One year: the kernel advances the state, then agents follow the mutuals' stages."""
        if self.year_index >= self.params.years:
            self.running = False
            return
        step(self.state, self._ctx, self._gens, self.recorder, self.year_index)
        self.year_index += 1
        self._row = {"year": self.params.start_year + self.year_index - 1,
                     **{k: float(v[0, self.year_index - 1]) for k, v in self.recorder.data.items()}}
        self._follow_mutuals()
        self.datacollector.collect(self)
        if self.year_index >= self.params.years:
            self.running = False

    def _follow_mutuals(self) -> None:
        """A new proposal gets an agent; an exited, abandoned or taken-back one leaves."""
        stage = self.state.stage[0]
        for m in np.flatnonzero(self.state.proposal_year[0] >= 0).tolist():
            if m not in self._mutual_of_slot:
                self._mutual_of_slot[m] = Mutual(self, m)
        for mutual in list(self.agents_by_type[Mutual]):
            if stage[mutual.index] in ENDED:
                mutual.remove()
                self.former_mutuals.append(mutual)

    def panel_row(self) -> dict[str, float]:
        """The panel values of the last step (step 0: the initial state, flows 0)."""
        return dict(self._row)

    def _initial_row(self) -> dict[str, float]:
        """Step 0: the kernel's stocks of the initial state, no flows, year before the first."""
        rec = Recorder(1, 1)
        observe(self.state.arrays(), 0, self._ctx, 0, rec.panel)
        row = {"year": self.params.start_year - 1}
        row.update({k: 0.0 if k in FLOWS else float(v[0, 0]) for k, v in rec.data.items()})
        return row


def _parameters(params: Any, scenario: Any, overrides: dict[str, Any]) -> Scenario:
    """Our parameters from ``params`` + overrides, or from a Mesa ``scenario``."""
    unknown = sorted(set(overrides) - set(FIELD_NAMES))
    if unknown:
        raise InputError(f"unknown parameter {unknown[0]!r}", source="MutualMarket")
    if params is not None and not isinstance(params, Scenario):
        raise InputError("must be a mutualsim.Scenario (a Mesa Scenario goes to scenario=), "
                         f"got {type(params).__name__}", source="params")
    if scenario is None:
        base = params if params is not None else Scenario()
        return base.replace(**overrides) if overrides else base
    if params is not None or overrides:
        given = "params" if params is not None else repr(sorted(overrides)[0])
        raise InputError(f"give parameters either in scenario= (Mesa's Scenario) or as "
                         f"params=/keywords, not both (got scenario= and {given})",
                         source="MutualMarket")
    return params_of(scenario)


def _panel_reporter(name: str):
    def report(model: MutualMarket) -> float:
        return model._row[name]
    report.__name__ = name
    return report
