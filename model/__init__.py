"""mutualsim: do public service mutuals survive once they spin out of their councils?

Public API::

    load_scenario(path) -> Scenario        typed, validated parameters
    Scenario(...).replace(**changes)       vary in code
    simulate(scenario, replications, seed) -> Results (histories, panel)
    MutualMarket(scenario=..., seed=..., replication=i)   the Mesa model of one replication
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mutualsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from .agents import Citizen, Council, Mutual, PrivateBidder  # noqa: E402
from .errors import InputError  # noqa: E402
from .market import MutualMarket  # noqa: E402
from .params import Scenario, load_scenario  # noqa: E402
from .simulate import Results, simulate  # noqa: E402

__all__ = [
    "Citizen", "Council", "InputError", "Mutual", "MutualMarket", "PrivateBidder", "Results",
    "Scenario", "__version__", "load_scenario", "open_sweep", "simulate",
]


def __getattr__(name: str):
    """``mutualsim.open_sweep``, imported on first use so ``import mutualsim`` stays light."""
    if name == "open_sweep":
        from .sweep import open_sweep
        return open_sweep
    raise AttributeError(f"module 'mutualsim' has no attribute {name!r}")
