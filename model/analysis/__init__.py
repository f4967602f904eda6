"""Comparing policy options: survival tables, figures and a hand-out report.

Public API::

    compare(scenario, factor, values, replications, seed) -> Comparison
    write_report(comparison, out_dir) -> list of file names
    comparison_from_sweep(sweep_dir) -> Comparison

Everything is imported on demand, so ``import mutualsim.analysis`` stays light.
"""

import sys
import types

__all__ = ["Comparison", "Group", "compare", "comparison_from_sweep", "write_report"]

# Everything is imported on first use (PEP 562), so the command line's parser stays light.
_LAZY = {"Comparison": ".compare", "Group": ".compare", "compare": ".compare",
         "write_report": ".report", "comparison_from_sweep": ".from_sweep"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'mutualsim.analysis' has no attribute {name!r}")


class _Package(types.ModuleType):
    """``mutualsim.analysis.compare`` is both a submodule and the function it defines;
    importing the submodule would replace the lazy name with the module, so the name is a
    property that always gives the function (``from mutualsim.analysis.compare import ...``
    still reaches the module)."""

    @property
    def compare(self):
        from .compare import compare
        return compare

    @compare.setter
    def compare(self, _module) -> None:   # set by the import system: keep the function
        pass


sys.modules[__name__].__class__ = _Package
