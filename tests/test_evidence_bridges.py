"""salib_problem / salib_points / ema_model: generated from the Scenario metadata."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mutualsim
from mutualsim.errors import InputError
from mutualsim.evidence.outcomes import run_model
from mutualsim.params import FIELDS, Scenario


def test_salib_problem_takes_ranges_from_the_metadata():
    problem = mutualsim.salib_problem(["support_level", "protection_years", "reference_lot"])
    assert problem["names"] == ["support_level", "protection_years", "reference_lot"]
    meta = {n: FIELDS[n].metadata for n in problem["names"]}
    assert problem["bounds"][0] == [meta["support_level"]["lo"], meta["support_level"]["hi"]]
    # A whole number lo..hi spans [lo, hi + 1): flooring gives every value an equal share.
    assert problem["bounds"][1] == [0.0, 51.0] and meta["protection_years"]["hi"] == 50
    assert problem["bounds"][2] == [0.01, 1000.0]
    given = mutualsim.salib_problem({"protection_years": (0, 7), "austerity_rate": (0, 0.06)})
    assert given["bounds"] == [[0.0, 8.0], [0.0, 0.06]]


@pytest.mark.parametrize("names, match", [
    (["no_such_field"], "unknown parameter"),
    ({"protection_years": (0, 99)}, "out of range"),
    ({"support_level": (0.5, 0.5)}, "low < high"),
    ({"support_level": 0.5}, "needs a range"),
    ([], "at least one"),
])
def test_salib_problem_refuses_bad_names_and_ranges(names, match):
    with pytest.raises(InputError, match=match):
        mutualsim.salib_problem(names)


def test_whole_numbers_get_equal_weight_at_the_ends():
    problem = mutualsim.salib_problem({"protection_years": (0, 7)})
    # A uniform grid over the bounds: every whole number 0..7 exactly 100 times.
    lo, hi = problem["bounds"][0]
    x = lo + (hi - lo) * (np.arange(800) + 0.5) / 800
    values = [p["protection_years"] for p in mutualsim.salib_points(problem, x[:, None])]
    assert np.bincount(values).tolist() == [100] * 8
    # What int(round(x)) on [0, 7] would do: the ends get half the weight of the others.
    rounded = np.bincount(np.round(7 * (np.arange(800) + 0.5) / 800).astype(int))
    assert rounded[0] == rounded[7] == 57 and rounded[1:7].min() == 114
    # The top of the bounds (Morris' last level) maps to the highest value, not beyond.
    assert mutualsim.salib_points(problem, np.array([[8.0]]))[0]["protection_years"] == 7


def test_salib_sample_maps_to_valid_scenarios_with_switches_and_presets():
    from SALib.sample import sobol
    problem = mutualsim.salib_problem({"lots": (1, 4), "support_level": (0.0, 1.0),
                                       "mentoring_clauses": None,
                                       "commissioning_style": None})
    x = sobol.sample(problem, 256, calc_second_order=False, seed=4)
    points = mutualsim.salib_points(problem, x)
    assert len(points) == len(x)
    for p in points[:50]:
        Scenario().replace(**p)                     # every point is a valid scenario
    lots = np.array([p["lots"] for p in points])
    shares = np.bincount(lots, minlength=5)[1:] / len(lots)
    assert np.allclose(shares, 0.25, atol=0.03)     # 1536 quasi-random rows: within 3 points
    styles = {p["commissioning_style"] for p in points}
    assert styles == {"mixed", "cost_led", "strategic", "cooperative"}
    assert {p["mentoring_clauses"] for p in points} == {False, True}
    with pytest.raises(InputError, match="columns"):
        mutualsim.salib_points(problem, x[:, :2])


def test_ema_model_runs_a_real_perform_experiments():
    ema = pytest.importorskip("ema_workbench")
    model = mutualsim.ema_model({"protection_years": (0, 3), "support_level": (0.0, 1.0)},
                                ["S5", "council_spend"],
                                levers={"commissioning_style": None},
                                constants={"councils": 5, "years": 8}, replications=2, seed=3)
    assert isinstance(model.uncertainties["protection_years"], ema.IntegerParameter)
    assert isinstance(model.levers["commissioning_style"], ema.CategoricalParameter)
    experiments, outcomes = ema.perform_experiments(model, scenarios=3, policies=2)
    assert len(experiments) == 6 and set(outcomes) == {"S5", "council_spend"}
    years = experiments["protection_years"].to_numpy()
    assert np.all((years >= 0) & (years <= 3) & (years == np.floor(years)))
    row = experiments.iloc[4]
    direct = run_model(seed=3, replications=2, councils=5, years=8,
                       protection_years=int(row["protection_years"]),
                       support_level=float(row["support_level"]),
                       commissioning_style=str(row["commissioning_style"]))
    assert outcomes["council_spend"][4] == pytest.approx(direct["council_spend"])


def test_ema_model_checks_its_arguments():
    pytest.importorskip("ema_workbench")
    with pytest.raises(InputError, match="unknown outcome"):
        mutualsim.ema_model(["support_level"], ["S11"])
    with pytest.raises(InputError, match="given twice"):
        mutualsim.ema_model(["support_level"], levers=["support_level"])
    with pytest.raises(InputError, match="out of range"):
        mutualsim.ema_model(["support_level"], constants={"councils": 0})


def test_ema_model_without_ema_workbench_names_what_to_install():
    code = ("import sys; sys.modules['ema_workbench'] = None\n"
            "import mutualsim\n"
            "try:\n    mutualsim.ema_model(['support_level'])\n"
            "except mutualsim.InputError as err:\n    print(err)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == ("ema_model: needs ema_workbench, which is not installed; "
                                   "install it with pip install ema_workbench"), done.stderr
