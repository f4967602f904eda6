"""Compile the kernel before the page server starts, on the first start after an install.

``mutualsim app`` runs this in a short-lived child process when the kernel's disk cache is
missing or stale (:func:`mutualsim.kernel.needs_compiling`): it compiles every compiled
entry point the page calls (a simulation's years, and the first year of the one-replication
view, :class:`~mutualsim.MutualMarket`) into numba's disk cache, saying so on the terminal,
and exits. The server then loads the cache in about a second, so the page answers at once
when the terminal says "serving on", instead of showing "Loading app" for minutes while its
first request compiles. Run it alone with ``python -m mutualsim.app.warmup``.
"""

from __future__ import annotations


def main() -> int:
    """Compile what the page needs into the disk cache (announced by the kernel); 0."""
    from .. import MutualMarket, Scenario, simulate

    small = Scenario(councils=2, years=2)
    simulate(small, 1, threads=1)                 # kernel.run_years (announces the compile)
    MutualMarket(councils=2, years=2).step()      # kernel.observe, the agents' views
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
