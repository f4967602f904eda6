"""The library versions a result depends on, for every manifest (no heavy imports)."""

from __future__ import annotations

import platform
from importlib import metadata

#: Everything that can change a simulated number or the bytes of a written file.
LIBRARIES = ("numpy", "pandas", "pyarrow", "mesa", "numba")


def library_versions() -> dict[str, str]:
    """``{"python": "3.12.1", "numpy": ..., ...}`` for the installed libraries in
    :data:`LIBRARIES` (one that is not installed is left out)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
