"""Docs and scenario files answer to the code: they are generated from, or checked against, it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualsim import Scenario, load_scenario
from mutualsim.paramdocs import parameter_table, scenario_toml
from mutualsim.params import FIELD_NAMES

ROOT = Path(__file__).resolve().parents[1]


def test_baseline_file_is_the_embedded_default():
    assert load_scenario(ROOT / "scenarios" / "baseline.toml") == Scenario()
    assert (ROOT / "scenarios" / "baseline.toml").read_text() == scenario_toml() + "\n"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_shipped_scenario_loads_and_is_commented(path):
    load_scenario(path)
    assert path.read_text().lstrip().startswith("#")


def test_odd_lists_every_parameter_with_source():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert parameter_table() in odd, "regenerate the table: python -m mutualsim.paramdocs --odd"
    for name in FIELD_NAMES:
        assert f"`{name}`" in odd


def test_odd_sections_map_onto_kernel_modules():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for module in sorted((ROOT / "model" / "kernel").glob("*.py")):
        if module.name != "__init__.py":
            assert f"kernel/{module.name}" in odd, module.name


def test_odd_style_presets_match_code():
    from mutualsim.params import STYLE_PRESETS
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for style, p in STYLE_PRESETS.items():
        row = (f"| {style} | {p['price_weight']:.2f} | {p['quality_weight']:.2f} | "
               f"{p['social_weight']:.2f} | {p['financial_weight']:.2f} | "
               f"{p['coproduction']:.2f} | {p['risk_aversion']:.2f} |")
        assert row in odd, row
