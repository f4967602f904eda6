"""Optional extras: import them, or say in one line which extra to install.

SALib (``mutualsim[sensitivity]``), Dask (``mutualsim[distributed]``) and EMA Workbench
(``ema_workbench``, not an extra of ours) are imported only by the commands and bridges that
need them, so the rest of mutualsim works without them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import InputError

EXTRAS = {
    "SALib": "pip install 'mutualsim[sensitivity]'",
    "distributed": "pip install 'mutualsim[distributed]'",
    "ema_workbench": "pip install ema_workbench",
}


def require(module: str, what: str) -> ModuleType:
    """Import ``module`` or raise an :class:`InputError` naming the install command.

    ``what`` names the thing that needs it (a command or an option), e.g. ``"sensitivity"``.
    Only a missing module is translated; an installed module that fails to import raises
    its own error.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = module.split(".")[0]
        if err.name is not None and err.name.split(".")[0] != top:
            raise
        raise InputError(f"needs {top}, which is not installed; install it with "
                         f"{EXTRAS.get(top, f'pip install {top}')}", source=what) from None
