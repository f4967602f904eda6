"""``mutualsim robust``: parsing and bad input, regret, failure boxes, common random numbers
and a tiny end-to-end run that publishes its folder whole and resumes."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualsim.cli import main
from mutualsim.evidence.robust import (
    Condition,
    analyse,
    fails,
    failure_box,
    load_robust,
    regret,
    run_robust,
    sweeps_dir,
)

REPO = Path(__file__).resolve().parents[1]
TINY = textwrap.dedent("""
    # a tiny robustness experiment
    name = "tiny_robust"
    replications = 3
    seed = 4
    block_size = 3
    policy_names = ["short", "long", "incubate"]
    [base_overrides]
    councils = 6
    years = 16
    [design]
    kind = "points"
    [factors]
    protection_years = [0, 7, 0]
    incubation_years = [0, 0, 2]
    [futures]
    kind = "lhs"
    samples = 4
    [futures.factors]
    austerity_rate = { low = 0.0, high = 0.06 }
    recession_enter_prob = { low = 0.2, high = 0.6 }
    [threshold]
    S10 = { at_least = 0.6 }
""")


def write(tmp_path: Path, text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------ bad input
BAD = {
    "unknown lever": (("protection_years = [0, 7, 0]", "protektion_years = [0, 7, 0]"),
                      "[factors]: unknown lever 'protektion_years'"),
    "empty futures": (("[futures.factors]\nausterity_rate = { low = 0.0, high = 0.06 }\n"
                       "recession_enter_prob = { low = 0.2, high = 0.6 }\n", ""),
                      "[futures]: no futures"),
    "unknown outcome": (("S10 = { at_least", "S11 = { at_least"),
                        "[threshold]: unknown outcome 'S11'"),
    "bad bound": (("S10 = { at_least = 0.6 }", "S10 = { above = 0.6 }"),
                  "must be { at_least = x } or { at_most = x }"),
    "unknown uncertainty": (("recession_enter_prob = {", "recesion_enter_prob = {"),
                            "[futures.factors]: unknown uncertainty 'recesion_enter_prob'"),
    "lever as uncertainty": (("recession_enter_prob = {", "protection_years = {"),
                             "'protection_years' is both an uncertainty and a lever"),
    "layout lever": (("incubation_years = [0, 0, 2]", "services_per_council = [2, 3, 3]"),
                     "could not share common random numbers"),
    "names count": (('policy_names = ["short", "long", "incubate"]',
                     'policy_names = ["short", "long"]'), "has 2 names for 3 policies"),
    "missing threshold": (("[threshold]\nS10 = { at_least = 0.6 }\n", ""),
                          "missing table [threshold]"),
    "bad lhs": (("samples = 4", "samples = 0"), "[futures]: key 'samples' must be"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, case):
    (old, new), expected = BAD[case]
    assert old in TINY
    path = write(tmp_path, TINY.replace(old, new))
    out = tmp_path / "out"
    assert main(["robust", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("mutualsim robust: error: ") and expected in err, err
    assert not out.exists() and not out.with_name("out.sweeps").exists()


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["robust", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("common random numbers", "maximum regret", "PRIM box", "[threshold]",
                  "resumable"):
        assert words in text


def test_shipped_experiment_parses_and_pairs_every_policy_in_every_future():
    spec = load_robust("robustness")            # a bare name finds the shipped file
    n_pol, n_fut = len(spec.policies), len(spec.futures)
    assert n_pol >= 3 and n_fut >= 20 and len(spec.experiment.points) == n_pol * n_fut
    for f in range(n_fut):
        for p in range(n_pol):
            point = spec.experiment.points[spec.index(f, p)]
            assert point.values == {**spec.policies[p], **spec.futures[f]}


# ----------------------------------------------------------------------- the analysis
def _table(values: dict[str, list[list[float]]]) -> pd.DataFrame:
    """futures x policies lists per outcome -> the long table robust analyses."""
    names = ["a", "b", "c"]
    rows = []
    first = next(iter(values.values()))
    for f in range(len(first)):
        for p, name in enumerate(names):
            rows.append({"policy": name, "future": f, "u": f / 10,
                         **{o: v[f][p] for o, v in values.items()}})
    frame = pd.DataFrame(rows)
    frame["policy"] = pd.Categorical(frame["policy"], categories=names)
    return frame


def test_regret_is_the_shortfall_from_the_best_policy_in_each_future():
    s10 = [[0.5, 0.7, 0.6], [0.8, 0.4, 0.6], [np.nan, 0.5, 0.5]]
    spend = [[10.0, 12.0, 11.0], [9.0, 9.5, 8.0], [1.0, 2.0, 3.0]]
    table = _table({"S10": s10, "council_spend": spend})
    r, missing = regret(table, "S10", higher_is_better=True)
    assert missing == [2]                                  # left out, never filled in
    np.testing.assert_allclose(r.to_numpy(), [[0.2, 0.0, 0.1], [0.0, 0.4, 0.2]])
    assert r.max().to_dict() == pytest.approx({"a": 0.2, "b": 0.4, "c": 0.2})
    r, missing = regret(table, "council_spend", higher_is_better=False)
    assert missing == []
    np.testing.assert_allclose(r.to_numpy(), [[0.0, 2.0, 1.0], [1.0, 1.5, 0.0],
                                              [0.0, 1.0, 2.0]])


def test_fails_needs_every_condition_and_marks_missing_verdicts():
    table = pd.DataFrame({"S10": [0.7, 0.5, 0.7, np.nan], "council_spend": [5, 5, 9, 5]})
    threshold = (Condition("S10", "at_least", 0.6), Condition("council_spend", "at_most", 8))
    np.testing.assert_array_equal(fails(table, threshold).to_numpy(), [0, 1, 1, np.nan])


def test_failure_box_finds_where_a_policy_fails():
    rng = np.random.default_rng(2)
    n = 200
    rows = pd.DataFrame({"policy": pd.Categorical(["a"] * n), "u": rng.random(n),
                         "v": rng.random(n)})
    failed = pd.Series((rows["u"] > 0.7).astype(float))
    fb = failure_box(rows, "a", ["u", "v"], failed)
    assert set(fb.limits) == {"u"} and abs(fb.limits["u"][0] - 0.7) < 0.03
    assert fb.box.coverage > 0.9 and fb.box.density > 0.9
    ranges = {c: (rows[c].min(), rows[c].max()) for c in ("u", "v")}  # the data's range
    assert fb.describe(ranges).startswith("u >= 0.7")
    never = failure_box(rows, "a", ["u", "v"], failed * 0)
    assert never.box is None and never.describe() == "never fails"


# ------------------------------------------------------------------ end to end, tiny
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("robust")
    spec = load_robust(write(tmp))
    out = tmp / "out"
    with ThreadPoolExecutor(2) as pool:
        result = run_robust(spec, out, pool, 2)
    return spec, out, result


def test_same_future_and_replication_share_random_numbers_under_every_policy(tiny_run):
    """The recession path is drawn from the replication's stream and depends on the future
    (recession_enter_prob) but on no lever: it must be identical under every policy in the
    same future and replication, and differ between replications."""
    from mutualsim.sweep import open_sweep
    spec, out, _ = tiny_run
    sweep = open_sweep(sweeps_dir(spec, out))
    panel = sweep.panel(columns=["scenario_id", "replication", "year", "recession",
                                 "mutuals_trading"])
    ids = [p.scenario_id for p in spec.experiment.points]
    differs_by_policy = False
    for f in range(len(spec.futures)):
        paths = [panel[panel["scenario_id"] == ids[spec.index(f, p)]]
                 .sort_values(["replication", "year"]) for p in range(len(spec.policies))]
        for other in paths[1:]:
            np.testing.assert_array_equal(paths[0]["recession"].to_numpy(),
                                          other["recession"].to_numpy())
            differs_by_policy |= not np.array_equal(paths[0]["mutuals_trading"].to_numpy(),
                                                    other["mutuals_trading"].to_numpy())
        by_rep = paths[0].pivot(index="year", columns="replication", values="recession")
        assert by_rep.nunique(axis=1).max() > 1 or by_rep.to_numpy().sum() == 0
    assert differs_by_policy                      # the policies do act


def test_tiny_run_publishes_tables_and_figures(tiny_run):
    spec, out, result = tiny_run
    for name in ("robustness.md", "robustness.csv", "outcomes.csv", "regret_S10.csv",
                 "regret_RMST15.csv", "regret_council_spend.csv", "summary.json",
                 "outcomes.png", "regret.png", "prim.png", "manifest.json"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "robustness.csv")
    assert list(summary["policy"]) == list(spec.policy_names)
    table = pd.read_csv(out / "outcomes.csv")
    assert len(table) == len(spec.policies) * len(spec.futures)
    # Max regret is recomputed from the published outcomes, per the definition.
    wide = table.pivot(index="future", columns="policy", values="S10").dropna()
    expected = wide.rsub(wide.max(axis=1), axis=0).max()
    for _, row in summary.iterrows():
        assert row["S10_max_regret"] == pytest.approx(expected[row["policy"]], abs=1e-6)
        assert row["failing"] == int((table.loc[table["policy"] == row["policy"], "S10"]
                                      < 0.6).sum())
    info = json.loads((out / "summary.json").read_text())
    assert info["threshold"] == ["S10 >= 0.6"] and "regret" in info
    assert "| policy |" in (out / "robustness.md").read_text()


def test_rerun_resumes_and_a_stranger_folder_is_refused(tiny_run, tmp_path, capsys):
    spec, out, result = tiny_run
    again = analyse(spec, sweeps_dir(spec, out))        # from the kept model runs
    pd.testing.assert_frame_equal(again["summary"], result["summary"])
    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    path = Path(spec.source)
    assert main(["robust", str(path), "--out", str(stranger), "--quiet"]) == 2
    assert "mutualsim robust: error: --out" in capsys.readouterr().err
    assert (stranger / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in stranger.iterdir()) == ["notes.txt"]


class _Flaky(ThreadPoolExecutor):
    """A pool whose ``fail``-th submissions fail as a dead worker would."""

    def __init__(self, fail: set[int]) -> None:
        super().__init__(2)
        self.fail, self.count = fail, 0

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future
        self.count += 1
        if self.count in self.fail:
            future: Future = Future()
            future.set_exception(RuntimeError("worker died"))
            return future
        return super().submit(fn, *args, **kwargs)


def test_failed_tasks_publish_nothing_and_the_next_run_resumes(tmp_path):
    from mutualsim.evidence.robust import Incomplete
    spec = load_robust(write(tmp_path, TINY.replace("samples = 4", "samples = 2")))
    out = tmp_path / "out"
    with _Flaky({2, 5}) as pool, pytest.raises(Incomplete, match="2 tasks failed"):
        run_robust(spec, out, pool, 2)
    assert not out.exists()                                 # no half result
    with ThreadPoolExecutor(2) as pool:
        run_robust(spec, out, pool, 2)
    assert (out / "robustness.md").is_file()
    log = [json.loads(line) for line in
           (sweeps_dir(spec, out) / "log.jsonl").read_text().splitlines() if line.strip()]
    starts = [e for e in log if e["event"] == "start"]
    assert [s["pending"] for s in starts] == [6, 2]         # only the failed two re-ran
