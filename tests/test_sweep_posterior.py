"""Posterior sweeps ([uncertainty] kind = "posterior") and run_model(uncertainty="posterior").

Toy sizes throughout: 6 councils, 16 years (so S(15) is defined), 4 replications per draw,
3 draws of a toy posterior of two parameter sets far apart on the back-office cost.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualsim import Scenario, run_model
from mutualsim.analysis.posterior_sweep import posterior_from_sweep
from mutualsim.analysis.uncertainty import compare_posterior
from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.evidence.outcomes import OUTCOMES, outcomes_from
from mutualsim.evidence.posterior import draw_replications, load_posterior, write_posterior
from mutualsim.simulate import simulate
from mutualsim.sweep import SweepStore, load_experiment, open_sweep, plan_tasks, run_sweep
from mutualsim.sweep import tasks as sweep_tasks
from mutualsim.sweep.store import build_manifest, seal_manifest, verify_manifest

BASE = dict(councils=6, years=16)
REPS, DRAWS, SEED = 4, 3, 5
TOY = pd.DataFrame({"backoffice_overhead": [0.0, 0.25]})
HEAD = f"""name = "tiny_posterior"
replications = {REPS}
seed = {SEED}
block_size = 3
[base_overrides]
councils = 6
years = 16
"""
GRID = '[design]\nkind = "grid"\n[factors]\nprotection_years = [0, 5]\n'
UNCERTAINTY = f'[uncertainty]\nkind = "posterior"\ndraws = {DRAWS}\nposterior = "toy.csv"\n'


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    if not (folder / "toy.csv").exists():
        write_posterior(TOY, [1.0, 1.0], folder / "toy.csv", label="toy: two sets")
    path = folder / name
    path.write_text(text)
    return path


def sweep_in_threads(path: Path, out: Path):
    with ThreadPoolExecutor(2) as pool:
        return run_sweep(load_experiment(path), SweepStore(out), pool, capacity=3)


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("psweep")
    path = write(folder, HEAD + GRID + UNCERTAINTY)
    out = folder / "out"
    assert sweep_in_threads(path, out).ok
    return path, out


def test_design_is_expanded_over_paired_draws(swept):
    path, _ = swept
    exp = load_experiment(path)
    post = load_posterior(path.parent / "toy.csv")
    rows = post.draw(DRAWS, SEED)  # the same rows as compare --uncertainty posterior
    assert exp.uncertainty.rows == tuple(int(r) for r in rows)
    singles = [p for p in exp.points if p.draw is None]
    assert [(p.values, p.first) for p in singles] == [({"protection_years": 0}, 0),
                                                      ({"protection_years": 5}, 0)]
    for p in exp.points:
        if p.draw is None:
            continue
        want = Scenario(**BASE).replace(**post.row(rows[p.draw]), **p.values)
        assert p.scenario == want and p.first == (p.draw + 1) * REPS
    # Every draw's replication range, the same under both policies, cut into blocks.
    tasks = plan_tasks(exp)
    for d in range(DRAWS):
        for p in [q for q in exp.points if q.draw == d]:
            mine = [t for t in tasks if t.scenario_id == p.scenario_id
                    and (d + 1) * REPS <= t.start < (d + 2) * REPS]
            covered = np.concatenate([np.arange(t.start, t.stop) for t in mine])
            assert covered.tolist() == draw_replications(d, REPS).tolist()
    assert len(tasks) == 2 * (DRAWS + 1) * 2  # 4 replications in blocks of 3: 2 tasks
    # The manifest round-trips (the folder can be re-opened and resumed).
    manifest = json.loads(json.dumps(seal_manifest(build_manifest(exp))))
    assert verify_manifest(manifest, "m").hash == exp.hash
    assert manifest["design_points"][-1]["draw"] == DRAWS - 1


def test_section_absent_or_none_is_todays_sweep(tmp_path):
    plain = load_experiment(write(tmp_path, HEAD + GRID))
    none = load_experiment(write(tmp_path, HEAD + GRID + '[uncertainty]\nkind = "none"\n',
                                 "none.toml"))
    assert plain.uncertainty is None and none.hash == plain.hash
    manifest = build_manifest(plain)
    assert "uncertainty" not in manifest and "draw" not in manifest["design_points"][0]
    assert {t.start for t in plan_tasks(plain)} == {0, 3}


def test_summary_equals_compare_posterior(swept):
    """The cross-check: the sweep holds exactly compare_posterior's runs."""
    path, out = swept
    from_sweep = posterior_from_sweep(out)
    direct = compare_posterior(Scenario(**BASE), "protection_years", (0, 5), REPS, SEED,
                               draws=DRAWS, posterior=str(path.parent / "toy.csv"))
    pd.testing.assert_frame_equal(from_sweep.table(), direct.table())
    pd.testing.assert_frame_equal(from_sweep.draws, direct.draws, check_dtype=False)
    # Both toy sets were drawn, and the interval spans their different survival.
    table = from_sweep.table()
    assert set(from_sweep.draws["row"]) == {0, 1}
    assert (table["S10_high"] - table["S10_low"] > 0).all()


def test_a_lever_that_does_not_act_gives_exactly_zero(tmp_path):
    # step_in_cost is what a council pays after a failure: it moves spend, not survival.
    # Same draws and same streams under both policies: identical estimates in every draw.
    path = write(tmp_path, HEAD + '[design]\nkind = "grid"\n[factors]\n'
                 'step_in_cost = [1.0, 2.0]\n' + UNCERTAINTY)
    sweep_in_threads(path, tmp_path / "out")
    pc = posterior_from_sweep(tmp_path / "out")
    for m in ("S5", "S10", "rmst15"):
        x = pc.matrix(m)
        assert np.isfinite(x).all() and (x[:, 0] == x[:, 1]).all()
    row = pc.table().iloc[1]
    assert row["dS10"] == row["dS10_low"] == row["dS10_high"] == 0.0
    assert row["p_better_S10"] == 0.5 and row["p_better_rmst15"] == 0.5


def test_explicit_keys_override_the_draw(tmp_path):
    exp = load_experiment(write(tmp_path, HEAD + "backoffice_overhead = 0.1\n" + GRID
                                + UNCERTAINTY))
    assert all(p.scenario.backoffice_overhead == 0.1 for p in exp.points)
    assert all(s == {} for s in exp.uncertainty.sets)  # the toy's only column is set
    lever = load_experiment(write(tmp_path, HEAD + '[design]\nkind = "grid"\n[factors]\n'
                                  "backoffice_overhead = [0.05, 0.2]\n" + UNCERTAINTY,
                                  "lever.toml"))
    assert sorted({p.scenario.backoffice_overhead for p in lever.points}) == [0.05, 0.2]


def test_interrupted_posterior_sweep_resumes(swept, tmp_path, monkeypatch, capsys):
    path, complete = swept
    path = write(tmp_path, path.read_text())
    out = tmp_path / "out"
    exp = load_experiment(path)
    bad = next(p for p in exp.points if p.draw == 1 and p.values["protection_years"] == 5)
    real = sweep_tasks.run_block

    def flaky(scenario, seed, replications, on_year=None):
        if scenario == bad.scenario and replications[0] == bad.first:
            raise FloatingPointError("cut off")
        return real(scenario, seed, replications, on_year)

    monkeypatch.setattr(sweep_tasks, "run_block", flaky)
    first = sweep_in_threads(path, out)
    assert len(first.failed) == 1
    partial = posterior_from_sweep(out)
    assert partial.meta["unfinished_draw_runs"] == 1
    row = partial.table().iloc[1]
    assert row["S10_missing"] == 1 and row["rmst15_missing"] == 1  # counted, not imputed
    assert partial.draws["S10"].isna().sum() == 1
    monkeypatch.setattr(sweep_tasks, "run_block", real)
    second = sweep_in_threads(path, out)
    assert second.ok and second.finished == 1 and second.already_done == len(plan_tasks(exp)) - 1
    pd.testing.assert_frame_equal(posterior_from_sweep(out).table(),
                                  posterior_from_sweep(complete).table())
    assert open_sweep(out).complete


def test_plot_prints_the_posterior_table(swept, tmp_path, capsys):
    _, out = swept
    assert main(["plot", str(out), "--out", str(tmp_path / "plots")]) == 0
    text = capsys.readouterr().out
    assert "S(10) median (90%)" in text and "P(better) S(10)" in text
    assert "single-parameter KM 95% CI" in text and "no number of replications" in text
    files = {p.name for p in (tmp_path / "plots").iterdir()}
    assert {"posterior_table.md", "posterior_table.csv", "draws.csv", "report.html"} <= files
    assert "Posterior-predictive summary" in (tmp_path / "plots" / "report.html").read_text()


@pytest.mark.parametrize("section, needle", [
    ('[uncertainty]\nkind = "bayes"\ndraws = 3\n', "[uncertainty]: key 'kind' must be one"),
    ('[uncertainty]\nkind = "posterior"\n', "[uncertainty]: missing key 'draws'"),
    ('[uncertainty]\nkind = "posterior"\ndraws = 0\n', "key 'draws' must be a whole number"),
    ('[uncertainty]\nkind = "posterior"\ndraws = 2\nreplications = 5\n',
     "unknown key 'replications'; allowed: kind, draws, posterior (replications per draw"),
    ('[uncertainty]\nkind = "posterior"\ndraws = 2\nposterior = "nope.csv"\n',
     "[uncertainty]: key 'posterior': "),
    ('[uncertainty]\nkind = "none"\ndraws = 2\n', "key 'draws' applies only with kind"),
    ('uncertainty = "posterior"\n', "'uncertainty' must be a table"),
])
def test_bad_uncertainty_is_one_line_exit_2(tmp_path, capsys, section, needle):
    text = HEAD + GRID + section
    if section.startswith("uncertainty ="):  # a top-level key must come before the tables
        text = section + HEAD + GRID
    path = write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and needle in err, err
    assert not out.exists()


def test_calibrate_and_robust_refuse_the_section(tmp_path):
    from mutualsim.evidence.robust import load_robust
    path = write(tmp_path, HEAD + '[design]\nkind = "points"\n[factors]\n'
                 "protection_years = [0, 5]\n[futures]\nkind = \"grid\"\n"
                 "[futures.factors]\nausterity_rate = [0.0, 0.05]\n" + UNCERTAINTY)
    with pytest.raises(InputError, match="applies to mutualsim sweep only"):
        load_robust(path)


def test_run_model_posterior(tmp_path):
    toy = write_posterior(TOY, [1.0, 1.0], tmp_path / "toy.csv")
    params = dict(BASE, protection_years=5)
    out = run_model(SEED, 3, uncertainty="posterior", draws=2, posterior=toy, **params)
    post = load_posterior(toy)
    rows = post.draw(2, SEED)
    direct = []
    for d, r in enumerate(rows):  # the draws and streams compare_posterior would use
        sc = post.scenario(Scenario(**params), int(r)).replace(**params)
        res = simulate(sc, draw_replications(d, 3), seed=SEED)
        direct.append(outcomes_from(res.histories, res.panel, sc))
    for name in OUTCOMES:
        x = np.array([row[name] for row in direct], float)
        ok = x[np.isfinite(x)]
        assert out[f"{name}_missing"] == len(x) - len(ok)
        if len(ok):
            assert out[name] == pytest.approx(np.median(ok))
            assert out[f"{name}_q05"] == pytest.approx(np.quantile(ok, 0.05))
            assert out[f"{name}_q95"] == pytest.approx(np.quantile(ok, 0.95))
    # An explicit keyword overrides the draw: both draws then run one scenario.
    fixed = run_model(SEED, 3, uncertainty="posterior", draws=2, posterior=toy,
                      backoffice_overhead=0.1, **params)
    sc = Scenario(**params, backoffice_overhead=0.1)
    s10 = [outcomes_from(*(lambda r: (r.histories, r.panel))(
        simulate(sc, draw_replications(d, 3), seed=SEED)), sc)["S10"] for d in range(2)]
    assert fixed["S10"] == pytest.approx(np.median(s10))
    # The default is one parameter set, as before.
    assert run_model(SEED, 3, **params) == run_model(SEED, 3, uncertainty="none", **params)


@pytest.mark.parametrize("kwargs, needle", [
    ({"uncertainty": "bayes"}, "uncertainty: must be one of"),
    ({"draws": 3}, "apply only with uncertainty='posterior'"),
    ({"uncertainty": "posterior", "draws": 0}, "draws: must be a whole number"),
])
def test_run_model_bad_arguments(kwargs, needle):
    with pytest.raises(InputError, match=needle.replace("(", r"\(").replace("'", "'")):
        run_model(0, 2, **kwargs, **BASE)


def test_draws_option_overrides_the_file_and_needs_the_section(tmp_path, capsys):
    exp = load_experiment(write(tmp_path, HEAD + GRID + UNCERTAINTY), draws=2)
    assert exp.uncertainty.draws == 2 and len(exp.points) == 2 * (2 + 1)
    path = write(tmp_path, HEAD + GRID, "plain.toml")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--draws", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--draws: applies only to an experiment with " \
        "[uncertainty]" in err
    assert not out.exists()
