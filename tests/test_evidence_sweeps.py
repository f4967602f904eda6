"""Evidence stages as sweeps: explicit design points (kind = "points") and their outcomes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from mutualsim.errors import InputError
from mutualsim.evidence.outcomes import run_model
from mutualsim.evidence.sweeps import point_outcomes, points_experiment, run_stage
from mutualsim.sweep import parse_experiment


def _data(factors, kind="points"):
    return {"name": "p", "seed": 1, "replications": 2, "design": {"kind": kind},
            "base_overrides": {"councils": 6, "years": 8}, "factors": factors}


def test_points_design_takes_the_ith_value_of_every_list_and_allows_repeats():
    exp = parse_experiment(_data({"protection_years": [0, 3, 0],
                                  "commissioning_style": ["cost_led", "strategic",
                                                          "cost_led"]}), "x.toml")
    assert [p.values for p in exp.points] == [
        {"protection_years": 0, "commissioning_style": "cost_led"},
        {"protection_years": 3, "commissioning_style": "strategic"},
        {"protection_years": 0, "commissioning_style": "cost_led"}]
    assert len(exp.scenarios) == 2 and exp.points[0].scenario_id == exp.points[2].scenario_id


@pytest.mark.parametrize("factors, match", [
    ({"protection_years": [0, 3], "lots": [1]}, "lists of one length"),
    ({"protection_years": []}, "non-empty list"),
    ({"protection_years": [0, 99]}, "out of range"),
    ({"no_such_field": [1]}, "unknown key"),
    ({}, "at least one factor"),
])
def test_points_design_is_validated_like_any_experiment(factors, match):
    with pytest.raises(InputError, match=match):
        parse_experiment(_data(factors), "x.toml")


def test_points_experiment_is_described_in_full_by_its_design():
    points = [{"reactive_prob": 0.05, "lots": 2, "mentoring_clauses": True},
              {"reactive_prob": 0.1, "lots": 1, "mentoring_clauses": False}]
    exp = points_experiment("stage", {"councils": 6, "years": 8}, points, seed=3,
                            replications=2)
    assert [p.values for p in exp.points] == points
    # What a sweep's manifest stores (base, design) rebuilds the same experiment.
    design = exp.design.to_dict()
    again = parse_experiment({"name": "stage", "seed": 3, "replications": 2, "block_size": 2,
                              "base_overrides": {"councils": 6, "years": 8},
                              "design": {"kind": design["kind"]},
                              "factors": design["factors"]}, "manifest")
    assert again.hash == exp.hash
    base_only = points_experiment("noise", {"councils": 6}, [{}], seed=3, replications=4,
                                  block_size=2)
    assert len(base_only.points) == 1 and base_only.points[0].values == {}
    with pytest.raises(InputError, match="out of range"):
        points_experiment("bad", {}, [{"lots": 2}, {"lots": 0}], seed=0, replications=1)
    zero = dict.fromkeys(("price_weight", "quality_weight", "social_weight",
                          "financial_weight"), 0.0)
    with pytest.raises(InputError, match="design point 1"):      # a cross-field rule
        points_experiment("bad", {}, [{**zero, "price_weight": 1.0}, zero], seed=0,
                          replications=1)


def test_point_outcomes_equal_run_model(tmp_path):
    points = [{"protection_years": 0}, {"protection_years": 5}, {"protection_years": 0}]
    base = {"councils": 6, "years": 8}
    exp = points_experiment("stage", base, points, seed=4, replications=3)
    with ThreadPoolExecutor(1) as pool:
        assert run_stage(exp, tmp_path / "s", pool, 2).ok
    frame = point_outcomes(tmp_path / "s", exp)
    assert frame["design_index"].tolist() == [0, 1, 2]
    for i, p in enumerate(points):
        direct = run_model(seed=4, replications=3, **base, **p)
        for name, value in direct.items():
            assert frame.loc[i, name] == pytest.approx(value, nan_ok=True), (i, name)
    # Blocks of replications as independent repeats of a point.
    noise = points_experiment("noise", base, [{}], seed=4, replications=4, block_size=2)
    with ThreadPoolExecutor(1) as pool:
        assert run_stage(noise, tmp_path / "n", pool, 2).ok
    repeats = point_outcomes(tmp_path / "n", noise, blocks=2)
    assert repeats["block"].tolist() == [0, 1]
    assert repeats.loc[0, "council_spend"] == pytest.approx(
        run_model(seed=4, replications=2, **base)["council_spend"])
