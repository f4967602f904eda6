"""Posterior-predictive comparisons (compare --uncertainty posterior) and the posterior file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualsim.analysis.uncertainty import (
    DEFAULT_DRAWS,
    MEASURES,
    PosteriorComparison,
    compare_posterior,
    draw_counts,
    draw_replications,
    estimates,
    unpaired_interval,
)
from mutualsim.cli import main
from mutualsim.errors import InputError
from mutualsim.evidence.posterior import (
    DEFAULT_PATH,
    Posterior,
    load_posterior,
    publish_posterior,
    write_posterior,
)
from mutualsim.params import Scenario

from conftest import TINY_CALIBRATION

SMALL = Scenario(councils=20, years=16, failure_deterrence=0.0)
SMALL_TOML = "councils = 20\nyears = 16\nfailure_deterrence = 0.0\n"
# Two parameter sets far apart on the cost of the back office (a share of contract value
# per year): survival differs by tens of points between them.
TOY = pd.DataFrame({"backoffice_overhead": [0.0, 0.25]})
REPS = 6
DRAWS = 12


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("post") / "toy.csv"
    write_posterior(TOY, [1.0, 1.0], path, label="toy: two parameter sets")
    return str(path)


@pytest.fixture(scope="module")
def toy(toy_file) -> PosteriorComparison:
    return compare_posterior(SMALL, "protection", (0, 5), replications=REPS, seed=3,
                             draws=DRAWS, posterior=toy_file)


def set_estimates(row: int, value: int, draw_index: int) -> dict[str, float]:
    """KM estimates of toy set ``row`` under protection ``value`` on the streams of draw
    ``draw_index`` (recomputed directly, not through compare_posterior)."""
    sc = SMALL.replace(**TOY.iloc[row].to_dict(), protection_years=value)
    counts = draw_counts(sc, draw_replications(draw_index, REPS), 3, sc.years, "spinout")
    return estimates(counts)


def test_round_trip_normalises_weights_and_keeps_label(tmp_path):
    path = write_posterior(pd.DataFrame({"reactive_prob": [0.05, 0.1, 0.2],
                                         "councils": [10, 20, 30]}), [1, 3, 0],
                           tmp_path / "p.csv", label="a calibration")
    post = load_posterior(path)
    assert post.label == "a calibration"
    assert np.allclose(post.weights, [0.25, 0.75, 0.0])
    assert post.params["councils"].tolist() == [10, 20, 30]
    assert post.row(1) == {"reactive_prob": 0.1, "councils": 20}
    # zero weight is never drawn; draws are reproducible
    drawn = post.draw(200, seed=5)
    assert set(drawn) <= {0, 1} and (drawn == post.draw(200, seed=5)).all()
    assert 0.6 < (drawn == 1).mean() < 0.9
    # weighted summary: the zero-weight row never counts
    summary = post.summary()
    assert summary.loc["reactive_prob", "mean"] == pytest.approx(0.25 * 0.05 + 0.75 * 0.1)
    assert summary.loc["reactive_prob", "q95"] == 0.1


def test_shipped_posterior_loads_with_scenario_columns():
    post = load_posterior()
    assert post.source == str(DEFAULT_PATH)
    assert len(post) >= 5 and abs(post.weights.sum() - 1) < 1e-12
    assert "calibration" in post.label
    for i in range(len(post)):
        post.scenario(Scenario(), i)  # every set is a valid scenario


@pytest.mark.parametrize("text, needle", [
    ("reactive_prob,colour,weight\n0.1,1,1\n", "unknown column 'colour'"),
    ("reactive_prob\n0.1\n", "no 'weight' column"),
    ("reactive_prob,weight\n0.1,-1\n", "'weight' must be finite and >= 0"),
    ("reactive_prob,weight\n0.1,0\n", "zero in every row"),
    ("reactive_prob,weight\n7,1\n", "reactive_prob"),
    ("reactive_prob,weight\n,1\n", "missing value"),
    ("years,weight\n10,1\n", "unknown column 'years'"),
])
def test_bad_posterior_file_is_one_clear_error(tmp_path, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=needle) as err:
        load_posterior(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_interval_covers_both_parameter_sets(toy):
    table = toy.table().set_index("value")
    rows = toy.draws.drop_duplicates("draw").set_index("draw")["row"]
    assert set(rows) == {0, 1}  # both sets drawn
    for value in (0, 5):
        for m in ("S10", f"rmst{15}"):
            # each set's own result: the median of its estimates over the draws that drew
            # it (recomputed directly); a single draw can be the extreme of 12, so it need
            # not lie inside a 5-95% interval, but each set's typical result must.
            for r in (0, 1):
                own = float(np.median([set_estimates(r, value, int(d))[m]
                                       for d in rows[rows == r].index]))
                assert table.loc[value, f"{m}_low"] <= own <= table.loc[value, f"{m}_high"]
    # and the two sets really differ: the posterior interval is wide, the KM one narrow
    ref = table.loc[0]
    a, b = (set_estimates(r, 0, int(rows[rows == r].index[0]))["S10"] for r in (0, 1))
    assert abs(a - b) > 0.10
    assert (ref["S10_high"] - ref["S10_low"]) > 2 * (ref["single_S10_high"]
                                                     - ref["single_S10_low"])


def test_draws_are_paired_across_policies(toy):
    wide = toy.draws.pivot(index="draw", columns="value_index", values="row")
    assert (wide[0] == wide[1]).all()  # same parameter set for every value
    # the reference value of draw d equals a direct run on that draw's streams
    d = 4
    row = int(wide.loc[d, 0])
    direct = set_estimates(row, 0, d)
    got = toy.draws.query("draw == @d and value_index == 0").iloc[0]
    for m in MEASURES:
        assert got[m] == pytest.approx(direct[m], rel=0, abs=1e-12)


def test_pairing_shrinks_the_difference_interval(toy):
    for m in ("S10", "rmst15"):
        x = toy.matrix(m)
        paired = np.quantile(x[:, 1] - x[:, 0], [0.05, 0.95])
        _, lo, hi = unpaired_interval(x[:, 1], x[:, 0])
        assert (paired[1] - paired[0]) < 0.5 * (hi - lo), m
    table = toy.unpaired("S10")
    assert (table["paired_high"] - table["paired_low"]
            < table["unpaired_high"] - table["unpaired_low"]).all()


def test_p_better_and_differences(toy):
    table = toy.table()
    ref, other = table.iloc[0], table.iloc[1]
    assert ref["dS10"] == 0 and np.isnan(ref["p_better_S10"])
    x = toy.matrix("rmst15")
    d = x[:, 1] - x[:, 0]
    assert other["p_better_rmst15"] == pytest.approx((d > 0).mean() + 0.5 * (d == 0).mean())
    assert other["drmst15"] == pytest.approx(np.median(d))
    # five years of protection lengthen the time traded in the typical draw (the median
    # paired difference; its 5% quantile over 12 draws of 6 replications is too noisy to
    # bound: it moved from above -0.5 to -0.51 years with a change of random streams)
    assert other["drmst15"] > 0 and other["p_better_rmst15"] > 0.5


def test_single_parameter_column_is_compare_without_uncertainty(toy):
    from mutualsim.analysis.compare import compare
    direct = compare(SMALL, "protection", (0, 5), replications=REPS, seed=3).table()
    table = toy.table()
    for m in MEASURES:  # equal number for number, an undefined (NaN) estimate included
        np.testing.assert_array_equal(table[f"single_{m}"].to_numpy(float),
                                      direct[m].to_numpy(float))
        np.testing.assert_array_equal(table[f"single_{m}_low"].to_numpy(float),
                                      direct[f"{m}_low"].to_numpy(float))


def test_same_seed_same_report(toy, toy_file):
    again = compare_posterior(SMALL, "protection", (0, 5), replications=REPS, seed=3,
                              draws=DRAWS, posterior=toy_file)
    pd.testing.assert_frame_equal(toy.table(), again.table())
    other = compare_posterior(SMALL, "protection", (0, 5), replications=REPS, seed=4,
                              draws=DRAWS, posterior=toy_file)
    assert not toy.draws[list(MEASURES)].equals(other.draws[list(MEASURES)])


def test_publish_from_a_calibration_folder(tmp_path):
    folder = tmp_path / "cal"
    folder.mkdir()
    pd.DataFrame({"reactive_prob": [0.05, 0.1], "S5": [0.6, 0.7], "distance": [1.0, 2.0],
                  "scenario": [3, 9]}).to_parquet(folder / "posterior.parquet")
    (folder / "calibration.json").write_text('{"label": "experiment x", "accepted": 2}')
    post = load_posterior(publish_posterior(folder, tmp_path / "p.csv"))
    assert post.names == ["reactive_prob"] and np.allclose(post.weights, 0.5)
    assert post.label.startswith("experiment x")
    with pytest.raises(InputError, match="no posterior.parquet"):
        publish_posterior(tmp_path, tmp_path / "q.csv")


def test_cli_posterior_report(tmp_path, toy_file, capsys):
    (tmp_path / "s.toml").write_text(SMALL_TOML)
    out = tmp_path / "cmp"
    status = main(["compare", str(tmp_path / "s.toml"), "--values", "0,5", "-n", "3",
                   "--draws", "4", "--posterior", toy_file, "--out", str(out), "--quiet"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "S(10) median (90%)" in printed and "P(better) S(10)" in printed
    assert "one parameter set, KM 95% CI" in printed
    assert "no number of replications removes" in printed  # why the interval is wider
    assert {"posterior_table.csv", "draws.csv", "report.html"} <= {p.name
                                                                  for p in out.iterdir()}
    assert "Posterior-predictive summary" in (out / "report.html").read_text()
    assert len(pd.read_csv(out / "draws.csv")) == 4 * 2


@pytest.mark.parametrize("args, needle", [
    (["--uncertainty", "foo"], "--uncertainty"),
    (["--draws", "0"], "--draws"),
    (["--uncertainty", "none", "--draws", "3"], "only with --uncertainty posterior"),
    (["--posterior", "{bad}"], "unknown column 'colour'"),
    (["--posterior", "{missing}"], "no such posterior file"),
])
def test_bad_input_one_line_exit_2(tmp_path, capsys, args, needle):
    bad = tmp_path / "bad.csv"
    bad.write_text("reactive_prob,colour,weight\n0.1,1,1\n")
    args = [a.format(bad=bad, missing=tmp_path / "nope.csv") for a in args]
    out = tmp_path / "cmp"
    try:
        status = main(["compare", "--values", "0,3", "-n", "2", "--out", str(out), "--quiet",
                       *args])
    except SystemExit as exc:
        status = int(exc.code)
    err = capsys.readouterr().err
    assert status == 2 and needle in err and err.count("\n") == 1
    assert not out.exists()


def test_api_rejects_bad_counts():
    for kwargs in ({"draws": 0}, {"replications": 0}, {"draws": 2.5}):
        with pytest.raises(InputError):
            compare_posterior(SMALL, "protection", (0, 5), **kwargs)
    assert DEFAULT_DRAWS >= 20
    assert isinstance(load_posterior(), Posterior)


# conftest's tiny calibration with three particles from batches of five, so that at least
# two weighted particles reach the posterior file.
TINY = TINY_CALIBRATION.replace("particles = 2", "particles = 3").replace("batch = 3",
                                                                          "batch = 5")


def test_calibrate_publish_posterior(tmp_path, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    target = tmp_path / "post.csv"
    base = ["calibrate", str(exp), "--out", str(tmp_path / "cal"), "--workers", "1",
            "--quiet"]
    # A file that is not a posterior: refused before any work, untouched.
    target.write_text("mine\n")
    assert main([*base, "--publish-posterior", str(target)]) == 2
    err = capsys.readouterr().err
    assert "not a previous posterior file" in err and err.count("\n") == 1
    assert target.read_text() == "mine\n" and not (tmp_path / "cal").exists()
    assert main([*base, "--publish-posterior", str(tmp_path / "p.txt")]) == 2
    target.unlink()
    assert main([*base, "--publish-posterior", str(target)]) == 0
    post = load_posterior(target)
    accepted = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    assert post.names == ["reactive_prob"] and len(post) == len(accepted) >= 2
    assert np.allclose(post.params["reactive_prob"], accepted["reactive_prob"])
    # ABC-SMC particles carry weights: the posterior file keeps them (normalised)
    assert np.allclose(post.weights, accepted["weight"] / accepted["weight"].sum())
    assert "tiny_calibration" in post.label
    # a previous posterior file is replaced by a re-run
    assert main([*base, "--publish-posterior", str(target)]) == 0
