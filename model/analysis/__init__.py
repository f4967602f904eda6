"""Comparing policy options: survival tables, figures and a hand-out report.

Public API::

    compare(scenario, factor, values, replications, seed) -> Comparison
    compare(..., uncertainty="posterior", draws=40) -> PosteriorComparison
    compare_posterior(scenario, factor, values, replications, seed, draws=40)
    write_report(comparison, out_dir) -> list of file names
    comparison_from_sweep(sweep_dir) -> Comparison

Everything is imported on demand, so ``import mutualsim.analysis`` stays light.
"""

from ..lazy import keep_function

__all__ = ["Comparison", "Group", "PosteriorComparison", "compare", "compare_posterior",
           "comparison_from_sweep", "write_report"]

# Everything is imported on first use (PEP 562), so the command line's parser stays light.
_LAZY = {"Comparison": ".compare", "Group": ".compare", "compare": ".compare",
         "write_report": ".report", "compare_posterior": ".uncertainty",
         "PosteriorComparison": ".uncertainty", "comparison_from_sweep": ".from_sweep"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'mutualsim.analysis' has no attribute {name!r}")


# ``mutualsim.analysis.compare`` is both a submodule and the function: keep the function.
keep_function(__name__, "compare")
