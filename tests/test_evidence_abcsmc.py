"""ABC-SMC (mutualsim.evidence.abcsmc) on toy models with a known posterior, against pyabc,
and its resumability."""

from __future__ import annotations

import numpy as np
import pytest

from mutualsim.errors import InputError
from mutualsim.evidence.abcsmc import (
    Prior,
    SmcSettings,
    identification,
    parse_settings,
    run_smc,
    systematic_resample,
    weighted_quantile,
)

OBSERVED, N_OBS = 1.3, 10          # a sample mean of 10 draws from N(mu, 1)
EXACT_SD = 1 / np.sqrt(N_OBS)     # posterior of mu under a flat prior: N(1.3, 0.316^2)


def normal_mean(seed: int):
    """Simulator: the mean of N_OBS draws from N(mu, 1); distance |mean - observed|.

    The second parameter ``nuisance`` does not enter the model: its posterior is its prior.
    """
    def simulate(t: int, b: int, theta: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([seed, t, b])
        return np.abs(rng.normal(theta[:, 0], EXACT_SD) - OBSERVED)
    return simulate


PRIOR = Prior.from_ranges({"mu": (-5.0, 5.0), "nuisance": (0.0, 1.0)})
SETTINGS = SmcSettings(particles=500, initial=2000, batch=1000, generations=6,
                       max_simulations=12_000, seed=3)


def _moments(result, j: int) -> tuple[float, float]:
    g = result.final
    x = g.theta[:, j]
    mean = float(g.weights @ x)
    return mean, float(np.sqrt(g.weights @ (x - mean) ** 2))


def test_normal_mean_posterior_matches_the_analytic_one():
    result = run_smc(normal_mean(11), PRIOR, SETTINGS)
    eps = [g.epsilon for g in result.generations]
    assert len(eps) >= 4 and all(a > b for a, b in zip(eps, eps[1:], strict=False))
    mean, sd = _moments(result, 0)
    # Exact posterior N(1.3, 0.316): with 500 particles the mean's Monte Carlo error is
    # ~0.014 and the final tolerance (< 0.1) adds < 5% to the s.d. Tolerances: 0.06, 15%.
    assert mean == pytest.approx(OBSERVED, abs=0.06)
    assert sd == pytest.approx(EXACT_SD, rel=0.15)
    # The importance weights keep the parameter the data ignore at its prior U(0, 1)
    # (mean 0.5, s.d. 0.289); unweighted perturbed particles would not.
    n_mean, n_sd = _moments(result, 1)
    assert n_mean == pytest.approx(0.5, abs=0.05) and n_sd == pytest.approx(0.2887, rel=0.12)
    verdict = identification(result)["verdict"]
    assert verdict["mu"] == "identified"
    assert verdict["nuisance"].startswith("not identified")
    assert np.all(result.final.weights >= 0) and result.final.weights.sum() == pytest.approx(1)


@pytest.mark.slow  # pyabc simulates one particle at a time: ~20 s
def test_agrees_with_pyabc_on_the_toy_model(tmp_path):
    pyabc = pytest.importorskip("pyabc")
    settings = SmcSettings(particles=300, initial=1200, batch=600, generations=4,
                           max_simulations=12_000, seed=4)
    ours = run_smc(normal_mean(12), PRIOR, settings)

    gen = np.random.default_rng(21)  # the single-core sampler calls the model in order

    def model(p):
        return {"y": gen.normal(p["mu"], EXACT_SD)}

    np.random.seed(5)  # noqa: NPY002 -- pyabc proposes from numpy's global generator
    prior = pyabc.Distribution(mu=pyabc.RV("uniform", -5, 10),
                               nuisance=pyabc.RV("uniform", 0, 1))
    abc = pyabc.ABCSMC(model, prior, lambda a, b: abs(a["y"] - b["y"]), population_size=300,
                       sampler=pyabc.SingleCoreSampler(),
                       eps=pyabc.QuantileEpsilon(alpha=0.5, weighted=False))
    abc.new(f"sqlite:///{tmp_path / 'abc.db'}", {"y": OBSERVED})
    history = abc.run(max_nr_populations=len(ours.generations))
    frame, w = history.get_distribution(m=0)
    theirs = {n: (float(w @ frame[n]), float(np.sqrt(w @ (frame[n] - w @ frame[n]) ** 2)))
              for n in ("mu", "nuisance")}
    # Same model, prior, distance, epsilon schedule and kernel family; both are Monte Carlo
    # with 300 particles: means within 0.08, s.d.s within 20% of each other; both near the
    # exact posterior of mu (0.316 plus what the tolerance adds).
    for j, name in enumerate(("mu", "nuisance")):
        mean, sd = _moments(ours, j)
        assert mean == pytest.approx(theirs[name][0], abs=0.08), name
        assert sd == pytest.approx(theirs[name][1], rel=0.2), name
    assert theirs["mu"][0] == pytest.approx(OBSERVED, abs=0.08)


def test_an_interrupted_run_resumes_with_the_same_result():
    """A simulator that keeps its runs (as calibrate's sweep stages do) and is killed after
    three batches: the re-run simulates only the rest and ends exactly where one run ends."""
    settings = SmcSettings(particles=50, initial=200, batch=60, generations=4,
                           max_simulations=1000, seed=8)
    base = normal_mean(13)
    store: dict[tuple[int, int], np.ndarray] = {}
    calls: list[tuple[int, int]] = []

    def stored(t, b, theta):
        if (t, b) not in store:
            if len(store) == 3 and not calls:
                calls.append((t, b))
                raise KeyboardInterrupt
            store[(t, b)] = base(t, b, theta)
        return store[(t, b)]

    with pytest.raises(KeyboardInterrupt):
        run_smc(stored, PRIOR, settings)
    done = set(store)
    resumed = run_smc(stored, PRIOR, settings)
    once = run_smc(base, PRIOR, settings)
    assert done < set(store)
    np.testing.assert_array_equal(resumed.final.theta, once.final.theta)
    np.testing.assert_array_equal(resumed.final.weights, once.final.weights)
    assert resumed.proposals.equals(once.proposals)


@pytest.mark.parametrize("budget, kept", [(260, False), (300, True), (400, False)])
def test_budget_stops_and_keeps_a_last_generation_only_if_half_full(budget, kept):
    settings = SmcSettings(particles=50, initial=200, batch=40, generations=10,
                           max_simulations=budget, seed=2)
    result = run_smc(normal_mean(1), PRIOR, settings)
    assert result.stopped == "budget" and result.simulations <= budget
    last = result.proposals["generation"].max()
    accepted_last = int(result.proposals.loc[result.proposals["generation"] == last,
                                             "accepted"].sum())
    assert (result.final.index == last) == kept
    if kept:
        assert 25 <= len(result.final.weights) == accepted_last <= 50
    else:
        assert accepted_last == 0 and len(result.final.weights) == 50
    assert result.final.weights.sum() == pytest.approx(1)
    assert result.proposals.groupby("generation")["accepted"].sum().le(50).all()


def test_missing_distances_are_never_accepted():
    def half_missing(t, b, theta):
        d = normal_mean(4)(t, b, theta)
        d[::2] = np.nan
        return d
    settings = SmcSettings(particles=30, initial=200, batch=100, generations=3,
                           max_simulations=1000, seed=1)
    result = run_smc(half_missing, PRIOR, settings)
    assert not result.proposals.loc[result.proposals["distance"].isna(), "accepted"].any()
    assert result.generations[0].missing == 100


def test_weighted_helpers():
    x = np.arange(5.0)
    assert weighted_quantile(x, np.ones(5), 0.5) == 2.0
    assert weighted_quantile(x, np.array([0, 0, 0, 0, 1.0]), 0.5) == 4.0
    idx = systematic_resample(np.array([0.5, 0.0, 0.5]), 10, np.random.default_rng(0))
    assert np.bincount(idx, minlength=3).tolist() == [5, 0, 5]


@pytest.mark.parametrize("table, message", [
    ({"particles": 0}, "particles must be a whole number >= 1"),
    ({"quantile": 1.5}, "quantile must be a number strictly between 0 and 1"),
    ({"particles": 500}, "must not exceed the prior sample"),
    ({"bogus": 1}, "abc.bogus: unknown key"),
    ({"max_simulations": 5}, "max_simulations (5) must be at least"),
])
def test_bad_settings_name_the_key(table, message):
    with pytest.raises(InputError) as err:
        parse_settings(table, "cal.toml [abc]", initial=100, seed=0)
    assert message in str(err.value) and str(err.value).startswith("cal.toml [abc]: ")
