"""Comparing policy options: survival tables, figures and a hand-out report.

Public API::

    compare(scenario, factor, values, replications, seed) -> Comparison
    write_report(comparison, out_dir) -> list of file names
    comparison_from_sweep(sweep_dir) -> Comparison

Plotting and the sweep reader are imported on demand, so ``import mutualsim.analysis``
stays light.
"""

from .compare import Comparison, Group, compare

__all__ = ["Comparison", "Group", "compare", "comparison_from_sweep", "write_report"]


def __getattr__(name: str):
    if name == "write_report":
        from .report import write_report
        return write_report
    if name == "comparison_from_sweep":
        from .from_sweep import comparison_from_sweep
        return comparison_from_sweep
    raise AttributeError(name)
