"""Render the parameter definitions as TOML (scenario files) and Markdown (docs/ODD.md).

Both renderings come from the metadata in :mod:`mutualsim.params`, so the baseline scenario
file, the ODD parameter table and the code cannot drift apart (tests compare them).
"""

from __future__ import annotations

from dataclasses import fields

from .params import SECTIONS, Scenario


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


def scenario_toml(sc: Scenario | None = None, title: str = "baseline") -> str:
    """A complete, commented scenario file; optional (None) style overrides are left out."""
    sc = sc or Scenario()
    lines = [f"# mutualsim scenario: {title}",
             "# Every key: value, then its unit, allowed range and source (docs/ODD.md).", ""]
    for section in SECTIONS:
        lines.append(f"[{section}]")
        for f in fields(Scenario):
            m = f.metadata
            if m["section"] != section:
                continue
            value = getattr(sc, f.name)
            rng = (f"one of {', '.join(m['choices'])}" if m["choices"] else
                   "true/false" if m["lo"] is None else f"{m['lo']}..{m['hi']}")
            lines.append(f"# {m['doc']} [{m['unit']}; {rng}] Source: {m['source']}.")
            if value is None:
                lines.append(f"# {f.name} = (from commissioning_style preset)")
            else:
                lines.append(f"{f.name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def parameter_table() -> str:
    """Markdown table of every parameter for docs/ODD.md."""
    rows = ["| section | parameter | default | unit | allowed | meaning | source |",
            "|---|---|---|---|---|---|---|"]
    default = Scenario()
    for f in fields(Scenario):
        m = f.metadata
        value = getattr(default, f.name)
        shown = "preset" if value is None else _toml_value(value)
        allowed = (", ".join(m["choices"]) if m["choices"] else
                   "true/false" if m["lo"] is None else f"{m['lo']} to {m['hi']}")
        rows.append(f"| {m['section']} | `{f.name}` | {shown} | {m['unit']} | {allowed} | "
                    f"{m['doc']} | {m['source']} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(parameter_table() if "--odd" in sys.argv else scenario_toml())
