"""Experiment files: designs, stable scenario ids, and every kind of bad input via the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mutualsim import Scenario
from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.sweep import load_experiment, parse_experiment, scenario_id

ROOT = Path(__file__).resolve().parents[1]
HEAD = """name = "tiny"
replications = 12
seed = 3
block_size = 4
[base_overrides]
councils = 8
years = 8
"""
GRID = HEAD + '[design]\nkind = "grid"\n[factors]\nprotection_years = [0, 5]\n'


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_grid_is_full_factorial_in_file_order(tmp_path):
    exp = load_experiment(write(tmp_path, HEAD + '[design]\nkind = "grid"\n[factors]\n'
                                "incubation_years = [0, 2, 3]\nprotection_years = [0, 3]\n"))
    assert [p.values for p in exp.points] == [
        {"incubation_years": i, "protection_years": p} for i in (0, 2, 3) for p in (0, 3)]
    assert exp.factors == ("incubation_years", "protection_years")
    base = Scenario(councils=8, years=8)
    assert exp.points[3].scenario == base.replace(incubation_years=2, protection_years=3)
    assert (exp.replications, exp.seed, exp.block_size) == (12, 3, 4)


def test_scenario_ids_hash_all_parameters_and_survive_a_growing_grid(tmp_path):
    small = load_experiment(write(tmp_path, GRID))
    grown = load_experiment(write(tmp_path, GRID.replace("[0, 5]", "[7, 5, 0, 15]"), "g.toml"))
    ids_small = {p.values["protection_years"]: p.scenario_id for p in small.points}
    ids_grown = {p.values["protection_years"]: p.scenario_id for p in grown.points}
    assert ids_grown[0] == ids_small[0] and ids_grown[5] == ids_small[5]
    assert len(set(ids_grown.values())) == 4
    # The id is the scenario's, whatever experiment or base it came from.
    assert ids_small[5] == scenario_id(Scenario(councils=8, years=8, protection_years=5))
    assert scenario_id(Scenario(councils=9, years=8)) != scenario_id(Scenario(councils=8,
                                                                              years=8))
    # Same parameters through a different route (int vs float literal) -> same id.
    a = load_experiment(write(tmp_path, GRID.replace("protection_years = [0, 5]",
                                                     "support_level = [0, 1]"), "a.toml"))
    b = load_experiment(write(tmp_path, GRID.replace("protection_years = [0, 5]",
                                                     "support_level = [0.0, 1.0]"), "b.toml"))
    assert [p.scenario_id for p in a.points] == [p.scenario_id for p in b.points]
    assert a.hash == b.hash


def test_experiment_hash_is_of_the_resolved_content_not_the_file(tmp_path):
    if not (ROOT / "scenarios" / "baseline.toml").is_file():
        pytest.skip("scenarios/baseline.toml is not written yet")
    plain = load_experiment(write(tmp_path, GRID))
    text = f'# a comment\nbase = "{ROOT / "scenarios" / "baseline.toml"}"\n' + GRID.replace(
        'name = "tiny"', 'name = "renamed"\ndescription = "same runs"')
    assert load_experiment(write(tmp_path, text, "other.toml")).hash == plain.hash
    assert load_experiment(write(tmp_path, GRID.replace("seed = 3", "seed = 4"),
                                 "s.toml")).hash != plain.hash
    assert load_experiment(write(tmp_path, GRID.replace("block_size = 4", "block_size = 3"),
                                 "b.toml")).hash != plain.hash


def test_experiment_hash_covers_the_sampled_points(tmp_path, monkeypatch):
    """A sampler that changes (another scipy) must not resume into old results."""
    from mutualsim.sweep import designs
    text = (HEAD + '[design]\nkind = "lhs"\nsamples = 4\n[factors]\n'
            "dowry = { low = 0.0, high = 0.5 }\n")
    before = load_experiment(write(tmp_path, text)).hash
    real = designs.latin_hypercube
    monkeypatch.setattr(designs, "latin_hypercube",
                        lambda ranges, n, rng: real(ranges, n, np.random.default_rng(99)))
    assert load_experiment(write(tmp_path, text)).hash != before


def test_lhs_is_stratified_seeded_and_rounds_whole_numbers(tmp_path):
    text = (HEAD + '[design]\nkind = "lhs"\nsamples = 20\n[factors]\n'
            "dowry = { low = 0.0, high = 0.5 }\nprotection_years = { low = 0, high = 9 }\n")
    exp = load_experiment(write(tmp_path, text))
    dowry = np.array([p.values["dowry"] for p in exp.points])
    years = np.array([p.values["protection_years"] for p in exp.points])
    # one sample in each of the 20 equal strata of the float range
    assert sorted(np.floor(dowry / 0.5 * 20).astype(int)) == list(range(20))
    # whole numbers 0..9, each exactly twice (20 strata over 10 levels)
    assert all(type(p.values["protection_years"]) is int for p in exp.points)
    assert np.bincount(years, minlength=10).tolist() == [2] * 10
    assert exp.points[0].scenario.protection_years == years[0]
    again = load_experiment(write(tmp_path, text, "again.toml"))
    assert [p.scenario_id for p in again.points] == [p.scenario_id for p in exp.points]
    other_seed = load_experiment(write(tmp_path, text.replace("seed = 3", "seed = 4"), "o.toml"))
    assert [p.values for p in other_seed.points] != [p.values for p in exp.points]
    fixed = text.replace('samples = 20\n', 'samples = 20\nseed = 3\n')
    assert [p.values for p in load_experiment(write(tmp_path, fixed, "f.toml")).points] == \
        [p.values for p in exp.points]


def test_morris_and_sobol_through_salib(tmp_path):
    pytest.importorskip("SALib")
    factors = ("[factors]\nsupport_level = { low = 0.0, high = 0.8 }\n"
               "lots = { low = 1, high = 4 }\n")
    morris = load_experiment(write(tmp_path, HEAD + '[design]\nkind = "morris"\n'
                                   "trajectories = 3\n" + factors))
    assert len(morris.points) == 3 * (2 + 1)
    assert {p.values["lots"] for p in morris.points} <= {1, 2, 3, 4}
    sobol = load_experiment(write(tmp_path, HEAD + '[design]\nkind = "sobol"\nsamples = 8\n'
                                  "second_order = false\n" + factors, "s.toml"))
    assert len(sobol.points) == 8 * (2 + 2)
    assert all(0.0 <= p.values["support_level"] <= 0.8 for p in sobol.points)


def test_missing_salib_is_a_clear_input_error(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_salib(name, *args, **kwargs):
        if name.startswith("SALib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_salib)
    path = write(tmp_path, HEAD + '[design]\nkind = "morris"\ntrajectories = 3\n'
                 "[factors]\nlots = { low = 1, high = 4 }\n")
    with pytest.raises(InputError, match=r"needs SALib.*mutualsim\[sensitivity\]"):
        load_experiment(path)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "experiments").glob("*.toml")))
def test_shipped_experiments_are_valid(name):
    if not (ROOT / "scenarios" / "baseline.toml").is_file():
        pytest.skip("scenarios/baseline.toml is not written yet")
    if name.startswith("morris"):
        pytest.importorskip("SALib")
    exp = load_experiment(ROOT / "experiments" / name)
    assert exp.points and exp.replications >= 1 and exp.base == Scenario()
    text = (ROOT / "experiments" / name).read_text()
    assert text.lstrip().startswith("#"), "each experiment file starts with a comment"


def test_shipped_protection_experiment_is_the_five_periods():
    exp_path = ROOT / "experiments" / "protection_periods.toml"
    if not (ROOT / "scenarios" / "baseline.toml").is_file():
        pytest.skip("scenarios/baseline.toml is not written yet")
    exp = load_experiment(exp_path)
    assert [p.values["protection_years"] for p in exp.points] == [0, 3, 5, 7, 15]


BAD = {
    "unknown top key": ("replication = 3\n" + GRID, "exp.toml: unknown key 'replication'"),
    "unknown factor": (GRID.replace("protection_years = [0, 5]", "protect = [0, 5]"),
                       "exp.toml [factors]: unknown key 'protect'"),
    "factor out of range": (GRID.replace("[0, 5]", "[0, 60]"),
                            "exp.toml [factors]: key 'protection_years' = 60 is out of range"),
    "factor wrong type": (GRID.replace("[0, 5]", '[0, "five"]'),
                          "exp.toml [factors]: key 'protection_years' must be a number"),
    "factor not whole": (GRID.replace("[0, 5]", "[0, 2.5]"),
                         "key 'protection_years' must be a whole number"),
    "empty factor list": (GRID.replace("[0, 5]", "[]"),
                          "exp.toml [factors]: key 'protection_years' has an empty list"),
    "factor not a list": (GRID.replace("[0, 5]", "5"),
                          "key 'protection_years' must be a list of values"),
    "duplicate value": (GRID.replace("[0, 5]", "[0, 5, 0]"), "lists the value 0 twice"),
    "bad style": (GRID.replace("protection_years = [0, 5]",
                               'commissioning_style = ["cost_led", "thrifty"]'),
                  "key 'commissioning_style' must be one of"),
    "bad override": (GRID.replace("years = 8", "years = 0"),
                     "exp.toml [base_overrides]: key 'years' = 0 is out of range"),
    "unknown design kind": (GRID.replace('kind = "grid"', 'kind = "random"'),
                            "exp.toml [design]: key 'kind' must be one of"),
    "grid with samples": (GRID.replace('kind = "grid"', 'kind = "grid"\nsamples = 3'),
                          "exp.toml [design]: unknown key 'samples'"),
    "lhs without samples": (GRID.replace('kind = "grid"', 'kind = "lhs"'),
                            "missing key 'samples'"),
    "lhs with a list": (GRID.replace('kind = "grid"', 'kind = "lhs"\nsamples = 4'),
                        "must be a range {low = .., high = ..}"),
    "lhs low above high": (HEAD + '[design]\nkind = "lhs"\nsamples = 4\n[factors]\n'
                           "dowry = { low = 0.5, high = 0.1 }\n", "needs low < high"),
    "lhs on a switch": (HEAD + '[design]\nkind = "lhs"\nsamples = 4\n[factors]\n'
                        "asset_lock = { low = 0, high = 1 }\n", "is not numeric"),
    "no seed": (GRID.replace("seed = 3\n", ""), "missing key 'seed'"),
    "bad replications": (GRID.replace("replications = 12", "replications = 0"),
                         "key 'replications' must be a whole number >= 1"),
    "bool block size": (GRID.replace("block_size = 4", "block_size = true"),
                        "key 'block_size' must be a whole number >= 1"),
    "missing base file": ('base = "nowhere.toml"\n' + GRID, "scenario file 'nowhere.toml' not"),
    "factor also overridden": (GRID.replace("years = 8", "years = 8\nprotection_years = 2"),
                               "is both a factor and in [base_overrides]"),
    "not toml": ("replications = = 3\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_is_one_line_status_2_and_nothing_written(case, tmp_path, capsys):
    text, expected = BAD[case]
    path = write(tmp_path, text)
    out = tmp_path / "out"
    status = main(["sweep", str(path), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("mutualsim sweep: error: ")
    assert expected in err, err
    assert str(path) in err
    assert not out.exists()


@pytest.mark.parametrize("args", [["--shard", "3/2"], ["--shard", "0/2"], ["--shard", "a/b"],
                                  ["--shard", "1"], ["--workers", "0"], ["-n", "0"],
                                  ["--cluster", "remote"],
                                  ["--cluster", "local", "--scheduler", "tcp://x:1"]])
def test_bad_arguments_are_one_line_status_2_and_nothing_written(args, tmp_path, capsys):
    path = write(tmp_path, GRID)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        main(["sweep", str(path), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.count("\n") == 1 and "error: argument" in err, err
    assert not out.exists()


def test_missing_experiment_file(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "none.toml: experiment file not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path, capsys):
    path = write(tmp_path, GRID)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["sweep", str(path), "--out", str(afile), "--quiet"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(["sweep", str(path), "--out", str(foreign), "--quiet"]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_dask_options_without_dask_are_a_clear_error(tmp_path, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    path = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--cluster", "local"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mutualsim[distributed]" in err
    assert not out.exists()


def test_parse_experiment_accepts_a_mapping_and_an_override_of_replications():
    data = {"seed": 1, "design": {"kind": "grid"}, "factors": {"lots": [1, 2]},
            "base_overrides": {"run": {"councils": 8, "years": 8}}}
    exp = parse_experiment(data, source="inline", replications=5)
    assert exp.replications == 5 and exp.base.councils == 8 and len(exp.points) == 2
    assert exp.with_replications(6).hash != exp.hash
    with pytest.raises(InputError, match="missing key 'replications'"):
        parse_experiment(data, source="inline")
    no_factors = parse_experiment({**data, "factors": {}}, source="inline", replications=2)
    assert len(no_factors.points) == 1 and no_factors.points[0].scenario == exp.base
