"""``mutualsim compare`` and ``mutualsim plot``: outputs, help, and one-line errors."""

from __future__ import annotations

import importlib.util
import json
import textwrap

import pytest

from mutualsim.cli import build_parser, main

SMALL_TOML = "councils = 20\nyears = 16\n"
OUTPUTS = {"survival_curves.png", "survival_curves.svg", "hazard.png", "table.csv",
           "table.md", "report.html"}


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML)
    return path


def test_compare_writes_outputs_and_prints_table(small, tmp_path, capsys):
    out = tmp_path / "cmp"
    status = main(["compare", str(small), "--values", "0,5", "-n", "8", "--out", str(out),
                   "--quiet", "--uncertainty", "none"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "| 0 years |" in printed and "| 5 years |" in printed
    assert "wrote" in printed and " s\n" in printed
    assert OUTPUTS <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize("args, needle", [
    (["--factor", "colour"], "unknown factor"),
    (["--values", "0,abc"], "takes numbers"),
    (["--values", "0,51"], "out of range"),
    (["--values", ""], "comma-separated"),
    (["--factor", "style", "--values", "cost_led,cheap"], "must be one of"),
    (["--factor", "style"], "give --values"),
    (["--factor", "mentoring", "--values", "yes,maybe"], "true/false"),
    (["--replications", "0"], "whole number"),
])
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args,
                                                               needle):
    out = tmp_path / "cmp"
    status = _status(["compare", *args, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert needle in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse errors
        return int(exc.code)


def test_help_explains_every_option():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in ("compare", "plot"):
        for action in sub[name]._actions:
            assert action.help, (name, action.dest)


def test_plot_on_a_missing_folder_is_one_line(tmp_path, capsys):
    assert _status(["plot", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.skipif(importlib.util.find_spec("mutualsim.sweep.results") is None,
                    reason="the sweep layer (mutualsim.sweep) is not installed")
def test_plot_a_tiny_sweep(tmp_path, capsys):
    from concurrent.futures import ThreadPoolExecutor

    from mutualsim.sweep import SweepStore, load_experiment, run_sweep

    experiment = tmp_path / "tiny.toml"
    experiment.write_text(textwrap.dedent("""
        name = "tiny"
        seed = 1
        replications = 10
        block_size = 5
        [base_overrides]
        councils = 10
        years = 12
        [design]
        kind = "grid"
        [factors]
        protection_years = [0, 5]
    """))
    sweep_dir = tmp_path / "sweep"
    with ThreadPoolExecutor(2) as pool:
        run_sweep(load_experiment(experiment), SweepStore(sweep_dir), pool)
    out = tmp_path / "plots"
    assert main(["plot", str(sweep_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 0 years |" in printed and "| 5 years |" in printed
    assert OUTPUTS <= {p.name for p in out.iterdir()}
    # A previous plot is replaced; the sweep itself, or a folder of other files, never is.
    assert main(["plot", str(sweep_dir), "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["command"] == "plot"
    sweep_files = sorted(p.relative_to(sweep_dir) for p in sweep_dir.rglob("*"))
    capsys.readouterr()
    assert main(["plot", str(sweep_dir), "--out", str(sweep_dir)]) == 2
    assert main(["plot", str(sweep_dir), "--out", str(sweep_dir), "--force"]) == 2
    (out / "my-notes.md").write_text("mine")
    assert main(["plot", str(sweep_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "input" in err[0] and "my-notes.md" in err[2]
    assert sorted(p.relative_to(sweep_dir) for p in sweep_dir.rglob("*")) == sweep_files
    assert (out / "my-notes.md").read_text() == "mine"
