"""What a Mesa user hands to ``MutualMarket``, mapped onto our random streams and parameters.

Mesa 3.5's ``Model`` takes ``rng`` (an int, a numpy ``Generator`` or ``BitGenerator``, a
``SeedSequence``, a sequence of ints, or None for OS entropy), the deprecated ``seed``, and a
``scenario`` (a :class:`mesa.experimental.scenarios.Scenario`). Our random streams are keyed
by an integer seed and a replication index (``SeedSequence(seed, spawn_key=(replication,))``,
see :mod:`mutualsim.rng`), so :func:`resolve_stream` maps every accepted ``rng`` to the
(seed, replication) pair the model records and reproduces from. :data:`MarketScenario` is the
Mesa Scenario class whose fields are our parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from mesa.experimental.scenarios import Scenario as MesaScenario

from .errors import InputError
from .params import FIELD_NAMES, FIELDS, Scenario

RNG_ALLOWED = ("an int >= 0, a numpy Generator or BitGenerator, a numpy SeedSequence, "
               "a sequence of ints >= 0, or None")
_SEED_HIGH = int(np.iinfo(np.int64).max)
_DEFAULT_POOL = np.random.SeedSequence(0).pool_size


def _draw_seed(generator: np.random.Generator) -> int:
    """One integer seed in [0, 2**63 - 1) drawn from ``generator``."""
    return int(generator.integers(_SEED_HIGH))


def _check_replication(replication: Any) -> int | None:
    if replication is None:
        return None
    if isinstance(replication, bool) or not isinstance(replication, int | np.integer) \
            or replication < 0:
        raise InputError(f"must be an integer >= 0, got {replication!r}", source="replication")
    return int(replication)


def resolve_stream(rng: Any, replication: Any = None) -> tuple[int, int]:
    """The (seed, replication) of the stream that ``rng`` selects.

    Parameters
    ----------
    rng : int, numpy.random.Generator, numpy.random.BitGenerator, numpy.random.SeedSequence,
        sequence of int, or None
        What ``mesa.Model(rng=...)`` accepts. An int ``s`` is seed ``s``.
        ``SeedSequence(s)`` is seed ``s`` too, and ``SeedSequence(s, spawn_key=(i,))`` (e.g.
        ``SeedSequence(s).spawn(n)[i]``) is exactly replication ``i`` of seed ``s``. A
        Generator, BitGenerator, sequence of ints or any other SeedSequence gives one integer
        seed drawn from it (as ``mesa.Model`` draws its own ``_seed`` from such an ``rng``).
        None draws that seed from OS entropy, as Mesa does.
    replication : int >= 0, optional
        Replication index (default 0, or the SeedSequence's spawn key).

    Returns
    -------
    (seed, replication) : tuple of int
        ``replication_generator(seed, replication)`` is the stream; both are recorded by the
        model so any run, including one seeded from entropy, can be reproduced.

    Raises
    ------
    InputError
        ``rng`` of another type or negative; ``replication`` not an integer >= 0, or different
        from the spawn key of the SeedSequence given as ``rng``.
    """
    rep = _check_replication(replication)
    if rng is None:
        seed = _draw_seed(np.random.default_rng())
    elif isinstance(rng, int | np.integer):
        if rng < 0:
            raise InputError(f"must be {RNG_ALLOWED}; got {rng!r}", source="rng")
        seed = int(rng)
    elif isinstance(rng, np.random.SeedSequence):
        if isinstance(rng.entropy, int) and len(rng.spawn_key) <= 1 \
                and rng.pool_size == _DEFAULT_POOL:
            seed = rng.entropy
            if rng.spawn_key:
                key = int(rng.spawn_key[0])
                if rep is not None and rep != key:
                    raise InputError(f"{rep} differs from the spawn key ({key},) of the "
                                     "SeedSequence given as rng, which is replication "
                                     f"{key}", source="replication")
                rep = key
        else:
            seed = _draw_seed(np.random.default_rng(rng))
    elif isinstance(rng, np.random.Generator | np.random.BitGenerator):
        seed = _draw_seed(np.random.default_rng(rng))
    elif isinstance(rng, Sequence) and not isinstance(rng, str | bytes) and len(rng) > 0 \
            and all(isinstance(x, int | np.integer) and not isinstance(x, bool) and x >= 0
                    for x in rng):
        seed = _draw_seed(np.random.default_rng(list(rng)))
    else:
        raise InputError(f"must be {RNG_ALLOWED}; got {rng!r}", source="rng")
    return seed, 0 if rep is None else rep


def _market_scenario_class() -> type[MesaScenario]:
    """A Mesa Scenario subclass with one typed field per mutualsim parameter."""
    base = Scenario()
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": "MarketScenario",
        "__annotations__": {name: FIELDS[name].type for name in FIELD_NAMES},
        "__doc__": (
            "Mesa's Scenario for :class:`~mutualsim.MutualMarket`: ``rng`` plus one field per "
            "mutualsim parameter (defaults: the baseline; units, ranges and sources in "
            "docs/ODD.md). ``MutualMarket(scenario=MarketScenario(rng=42, "
            "protection_years=7))`` is Mesa's way of writing ``MutualMarket(rng=42, "
            "protection_years=7)``; values are validated when the model is built."),
    }
    namespace.update(base.to_dict())
    return type("MarketScenario", (MesaScenario,), namespace)


#: Mesa Scenario class whose fields are our parameters (``mesa.experimental.scenarios``).
MarketScenario = _market_scenario_class()


def params_of(scenario: Any) -> Scenario:
    """Our parameters from a Mesa Scenario's fields (all but ``rng``); unknown names refused.

    Raises
    ------
    InputError
        ``scenario`` is not a Mesa Scenario (a mutualsim :class:`Scenario` is named and sent
        to ``params=``), or one of its fields is not a mutualsim parameter or out of range.
    """
    if isinstance(scenario, Scenario):
        raise InputError("is Mesa's Scenario (mesa.experimental.scenarios.Scenario, e.g. "
                         "mutualsim.MarketScenario); pass a mutualsim.Scenario as params=",
                         source="scenario")
    if not isinstance(scenario, MesaScenario):
        raise InputError("must be a mesa.experimental.scenarios.Scenario (e.g. "
                         f"mutualsim.MarketScenario), got {type(scenario).__name__}",
                         source="scenario")
    values = {k: v for k, v in scenario if k != "rng"}
    unknown = sorted(set(values) - set(FIELD_NAMES))
    if unknown:
        raise InputError(f"{unknown[0]!r} is not a mutualsim parameter (see docs/ODD.md)",
                         source="scenario")
    try:
        return Scenario(**values)
    except InputError as err:
        raise InputError(str(err), source="scenario") from None
