"""The experiment and scenario files shipped with mutualsim (package data).

``experiments/*.toml`` and ``scenarios/*.toml`` are installed inside the package, so a
documented command such as ``mutualsim calibrate`` or ``mutualsim sweep
experiments/protection_periods.toml`` works from any folder: a path that does not exist
where the command runs, and is a bare name (``calibration``), a file name
(``calibration.toml``) or ``experiments/<name>.toml``, is taken from the shipped files. A path
that exists is always used as given.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
KINDS = ("experiments", "scenarios")


def shipped_dir(kind: str) -> Path:
    """The installed folder of shipped ``kind`` files (``experiments`` or ``scenarios``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return PACKAGE / kind


def shipped_names(kind: str) -> list[str]:
    """Names (without ``.toml``) of the shipped files of ``kind``, sorted."""
    return sorted(p.stem for p in shipped_dir(kind).glob("*.toml"))


def resolve(path: str | Path, kind: str) -> Path:
    """``path`` if it exists, else the shipped file it names, else ``path`` unchanged."""
    path = Path(path)
    if path.exists():
        return path
    parent = path.parent
    if path.suffix not in ("", ".toml") or parent.parts not in ((), (kind,)):
        return path
    candidate = shipped_dir(kind) / f"{path.stem}.toml"
    return candidate if candidate.is_file() else path
