"""mutualsim: do public service mutuals survive once they spin out of their councils?

Public API::

    load_scenario(path) -> Scenario        typed, validated parameters
    Scenario(...).replace(**changes)       vary in code
    salib_problem(names), salib_points(problem, X)   a SALib problem from the metadata
    ema_model(names, outcomes)             an EMA Workbench Model of run_model
    run_model(seed, replications, **params) -> dict of outcomes (uncertainty="posterior":
                                           posterior median and 5-95% across draws)
    simulate(scenario, replications, seed) -> Results (histories, panel)
    MutualMarket(params, rng=seed, replication=i)   the Mesa model of one replication
    MarketScenario(rng=..., **parameters)    Mesa's Scenario for MutualMarket(scenario=...)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mutualsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from .errors import InputError  # noqa: E402
from .lazy import keep_function  # noqa: E402

# Everything else is imported on first use: the kernel (numba) and pandas only when a model
# runs, Mesa (and through it networkx) only when the Mesa face of the model is used, so
# ``mutualsim --version`` and ``--help`` start fast and sweep workers start small.
_LAZY = {"Scenario": ".params", "load_scenario": ".params", "Results": ".simulate",
         "simulate": ".simulate", "MutualMarket": ".market",
         "MarketScenario": ".mesa_inputs", "Citizen": ".agents",
         "Council": ".agents", "Mutual": ".agents", "PrivateBidder": ".agents",
         "open_sweep": ".sweep", "run_model": ".evidence.outcomes"}

__all__ = [
    "Citizen", "Council", "InputError", "MarketScenario", "Mutual", "MutualMarket",
    "PrivateBidder", "Results", "Scenario", "__version__", "load_scenario", "open_sweep",
    "run_model", "simulate",
]

# The SALib and EMA Workbench bridges (generated from the parameter metadata), on first use.
_BRIDGES = ("ema_model", "salib_points", "salib_problem")
_LAZY.update(dict.fromkeys(_BRIDGES, ".evidence.bridges"))
__all__ += _BRIDGES


def __getattr__(name: str):
    """Names imported on first use (PEP 562) so ``import mutualsim`` stays light."""
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'mutualsim' has no attribute {name!r}")


# ``mutualsim.simulate`` is both a submodule and the function it defines: keep the function.
keep_function(__name__, "simulate")
