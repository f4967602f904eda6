"""Lazy package names (PEP 562) that keep naming a function whose submodule has the same
name (``mutualsim.simulate``, ``mutualsim.analysis.compare``)."""

from __future__ import annotations

import sys
import types
from importlib import import_module


def keep_function(package: str, name: str) -> None:
    """Make ``package.name`` always the function ``name`` of submodule ``package.name``.

    Importing the submodule makes the import system set the package attribute to the
    module, hiding the function; here the attribute is a property whose setter ignores
    that, so ``from package import name`` gives the function however the submodule got
    imported (``from package.name import x`` still reaches the module).
    """
    def get(_self: types.ModuleType):
        return getattr(import_module(f"{package}.{name}"), name)

    def ignore(_self: types.ModuleType, _module: object) -> None:
        pass

    module = sys.modules[package]
    module.__class__ = type(f"_{name}_package", (type(module),),
                            {name: property(get, ignore)})
