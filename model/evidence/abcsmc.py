"""ABC-SMC (population Monte Carlo ABC) over any batch simulator, resumable by construction.

The algorithm of Beaumont, Cornuet, Marin & Robert (2009), "Adaptive approximate Bayesian
computation", Biometrika 96(4):983-990, which corrects the weights of Sisson et al. (2007)
and is the ABC-SMC of Toni et al. (2009), J. R. Soc. Interface 6:187-202, with:

* generation 0: rejection ABC on a sample of the prior (``initial`` points), keeping the
  ``particles`` closest; epsilon_0 is the largest accepted distance;
* generation t >= 1: epsilon_t = the ``quantile`` (default median) of generation t-1's
  accepted distances (the adaptive schedule of Del Moral, Doucet & Jasra 2012 and of
  pyabc's ``QuantileEpsilon``); proposals theta* = theta_j + N(0, 2 Sigma), j drawn by
  weight, Sigma the weighted covariance of generation t-1 (Beaumont et al.'s kernel),
  proposals outside the (uniform, box) prior redrawn before any simulation; proposals are
  simulated in batches of ``batch`` until ``particles`` have distance <= epsilon_t (the
  first ``particles`` in proposal order are kept). A batch holds 1.2 x the proposals still
  needed at the acceptance rate seen so far in the generation (at first ``quantile``),
  at most ``batch``;
* weights w_i proportional to prior(theta_i) / sum_j w_j K(theta_i | theta_j); the prior is
  uniform on a box, so only the kernel mixture varies.

It stops after ``generations`` generations, when a generation's acceptance rate falls below
``min_acceptance`` (epsilon no longer buys precision), or when the simulation budget
``max_simulations`` is spent: an unfinished last generation is kept, with fewer particles,
if it has at least half of them (its accepted proposals are independent draws of its
importance sampler), and dropped otherwise.

**Resumable.** Every random number comes from a generator seeded by (seed, generation,
batch), and the proposals of a batch depend only on the finished generations before it.
So a re-run recomputes every batch's proposals bit for bit, and a simulator that stores its
runs (``calibrate``'s sweep stages) returns finished batches from disk: an interrupted
calibration resumes where it stopped.

The simulator is ``simulate(generation, batch, theta) -> distances``: ``theta`` has one row
per proposal and one column per parameter; a NaN distance (a missing outcome) is never
accepted and is counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from ..errors import InputError

Simulator = Callable[[int, int, np.ndarray], np.ndarray]
SIGNIFICANT = 6  # proposals are rounded to 6 significant figures (readable manifests)


@dataclass(frozen=True)
class Prior:
    """Independent uniform priors on ``[low, high]`` for each named parameter."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_ranges(cls, ranges: dict[str, tuple[float, float]]) -> Prior:
        names = tuple(ranges)
        low = np.array([float(ranges[n][0]) for n in names])
        high = np.array([float(ranges[n][1]) for n in names])
        if not np.all(high > low):
            raise ValueError("every prior range needs high > low")
        return cls(names, low, high)

    @property
    def sd(self) -> np.ndarray:
        """Standard deviation of each uniform: (high - low) / sqrt(12)."""
        return (self.high - self.low) / math.sqrt(12.0)

    def contains(self, theta: np.ndarray) -> np.ndarray:
        return np.all((theta >= self.low) & (theta <= self.high), axis=1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """A Latin hypercube of ``n`` points (stratified; each point uniform on the box)."""
        from scipy.stats import qmc
        unit = qmc.LatinHypercube(d=len(self.names), rng=rng).random(n)
        return snap(self.low + unit * (self.high - self.low))


def snap(theta: np.ndarray) -> np.ndarray:
    """Round to ``SIGNIFICANT`` significant figures (the values the simulator is given)."""
    out = np.array(theta, dtype=float)
    nonzero = out != 0
    mags = np.floor(np.log10(np.abs(out[nonzero])))
    scale = 10.0 ** (SIGNIFICANT - 1 - mags)
    out[nonzero] = np.round(out[nonzero] * scale) / scale
    return out


@dataclass(frozen=True)
class SmcSettings:
    """Sizes of an ABC-SMC run (see the module docstring); ``seed`` seeds every proposal."""

    particles: int = 100
    initial: int = 400
    batch: int = 200
    generations: int = 6
    quantile: float = 0.5
    min_acceptance: float = 0.02
    max_simulations: int = 2000
    predictive: int = 10  # replications per particle in the posterior-predictive stage
    seed: int = 0

    WHOLE = ("particles", "initial", "batch", "generations", "max_simulations", "predictive",
             "seed")

    def __post_init__(self) -> None:
        self.check("ABC-SMC settings")

    def check(self, source: str) -> None:
        """InputError naming the first bad setting (run before any work)."""
        for key in self.WHOLE:
            value = getattr(self, key)
            least = 0 if key == "seed" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InputError(f"{key} must be a whole number >= {least}, got {value!r}",
                                 source=source)
        for key, lo, hi in (("quantile", 0.0, 1.0), ("min_acceptance", 0.0, 1.0)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not lo < value < hi:
                raise InputError(f"{key} must be a number strictly between {lo:g} and "
                                 f"{hi:g}, got {value!r}", source=source)
        if self.particles > self.initial:
            raise InputError(f"particles ({self.particles}) must not exceed the prior sample "
                             f"(initial/samples = {self.initial})", source=source)
        if self.max_simulations < self.initial:
            raise InputError(f"max_simulations ({self.max_simulations}) must be at least the "
                             f"prior sample ({self.initial})", source=source)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


KEYS = tuple(f for f in SmcSettings.__dataclass_fields__ if f not in ("seed", "initial"))


def parse_settings(data: Any, source: str, **values: Any) -> SmcSettings:
    """An ``[abc]`` table (keys of :data:`KEYS`) plus ``values`` -> checked settings."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError("key 'abc' must be a table of ABC-SMC settings", source=source)
    for key in data:
        if key not in KEYS:
            raise InputError(f"abc.{key}: unknown key; allowed: {', '.join(KEYS)}",
                             source=source)
    merged = {**data, **{k: v for k, v in values.items() if v is not None}}
    try:
        return SmcSettings(**merged)
    except InputError as err:
        raise InputError(str(err).removeprefix("ABC-SMC settings: "), source=source) from None


@dataclass
class Generation:
    """One complete population: particles, normalised weights and their distances."""

    index: int
    epsilon: float
    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    proposals: int
    missing: int
    keys: list[tuple[int, int]] = field(default_factory=list)  # (batch, row) of each particle

    @property
    def acceptance(self) -> float:
        return len(self.weights) / self.proposals

    @property
    def ess(self) -> float:
        """Effective sample size 1 / sum(w^2) (Kish)."""
        return float(1.0 / np.sum(self.weights ** 2))


@dataclass
class SmcResult:
    prior: Prior
    settings: SmcSettings
    generations: list[Generation]
    proposals: pd.DataFrame  # every simulated proposal (generation, batch, row, ...)
    stopped: str

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    @property
    def simulations(self) -> int:
        return len(self.proposals)

    def table(self) -> pd.DataFrame:
        """One row per generation: epsilon, proposals, acceptance rate, ESS."""
        return pd.DataFrame([{"generation": g.index, "epsilon": g.epsilon,
                              "proposals": g.proposals, "accepted": len(g.weights),
                              "missing": g.missing, "acceptance": g.acceptance,
                              "ess": g.ess} for g in self.generations])


def weighted_cov(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mean = weights @ theta
    centred = theta - mean
    return np.atleast_2d((centred * weights[:, None]).T @ centred / (1 - np.sum(weights ** 2))
                         if len(weights) > 1 else np.zeros((theta.shape[1],) * 2))


def kernel_cholesky(prev: Generation, prior: Prior) -> np.ndarray:
    """Cholesky factor of 2 x the weighted covariance (plus a tiny ridge for safety)."""
    cov = 2.0 * weighted_cov(prev.theta, prev.weights)
    cov = cov + np.diag((1e-9 * (prior.high - prior.low)) ** 2)
    return np.linalg.cholesky(cov)


def propose(prev: Generation, chol: np.ndarray, prior: Prior, n: int,
            rng: np.random.Generator) -> np.ndarray:
    """``n`` perturbed particles inside the prior's support (outside ones are redrawn)."""
    out: list[np.ndarray] = []
    have = 0
    for _ in range(10_000):
        j = rng.choice(len(prev.weights), size=2 * n, p=prev.weights)
        cand = snap(prev.theta[j] + rng.standard_normal((2 * n, len(prior.names))) @ chol.T)
        cand = cand[prior.contains(cand)]
        out.append(cand)
        have += len(cand)
        if have >= n:
            return np.concatenate(out)[:n]
    raise RuntimeError("the perturbation kernel keeps leaving the prior's support")


def new_weights(theta: np.ndarray, prev: Generation, chol: np.ndarray) -> np.ndarray:
    """w_i proportional to 1 / sum_j w_j K(theta_i | theta_j) (uniform prior), normalised."""
    inv = np.linalg.inv(chol)
    diff = theta[:, None, :] - prev.theta[None, :, :]          # (n, m, k)
    z = diff @ inv.T
    log_k = -0.5 * np.sum(z * z, axis=2)                        # constants cancel
    log_w = -logsumexp(log_k + np.log(prev.weights)[None, :], axis=1)
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def _record(rows: list[pd.DataFrame], prior: Prior, t: int, b: int, theta: np.ndarray,
            d: np.ndarray, accepted: np.ndarray) -> None:
    frame = pd.DataFrame(theta, columns=list(prior.names))
    frame.insert(0, "row", np.arange(len(theta)))
    frame.insert(0, "batch", b)
    frame.insert(0, "generation", t)
    frame["distance"] = d
    frame["accepted"] = accepted
    rows.append(frame)


def run_smc(simulate: Simulator, prior: Prior, settings: SmcSettings,
            initial: np.ndarray | None = None) -> SmcResult:
    """Run ABC-SMC; ``initial`` (rows of parameters) replaces the prior sample of generation 0.

    Raises InputError if no proposal of generation 0 has a distance.
    """
    s = settings
    rows: list[pd.DataFrame] = []
    theta0 = (prior.sample(s.initial, np.random.default_rng([s.seed, 0, 0]))
              if initial is None else np.asarray(initial, dtype=float))
    d0 = np.asarray(simulate(0, 0, theta0), dtype=float)
    valid = np.flatnonzero(~np.isnan(d0))
    if valid.size == 0:
        raise InputError(f"none of the {len(d0)} prior points has every target outcome (all "
                         "distances missing); nothing to accept", source="calibration")
    keep = valid[np.argsort(d0[valid], kind="stable")[:s.particles]]
    accepted0 = np.zeros(len(d0), bool)
    accepted0[keep] = True
    _record(rows, prior, 0, 0, theta0, d0, accepted0)
    gens = [Generation(0, float(d0[keep].max()), theta0[keep], np.full(len(keep), 1 / len(keep)),
                       d0[keep], len(d0), int(np.isnan(d0).sum()), [(0, int(i)) for i in keep])]
    used = len(d0)
    stopped = "generations"
    for t in range(1, s.generations):
        prev = gens[-1]
        if prev.acceptance < s.min_acceptance:
            stopped = "acceptance"
            break
        eps = float(np.quantile(prev.distances, s.quantile))
        chol = kernel_cholesky(prev, prior)
        thetas, dists, keys = [], [], []
        proposed = missing = 0
        b = 0
        pending: list[pd.DataFrame] = []
        while sum(len(x) for x in thetas) < len(prev.weights):
            have = sum(len(x) for x in thetas)
            rate = have / proposed if proposed else s.quantile
            n = math.ceil(1.2 * (len(prev.weights) - have) / max(rate, 0.05))
            n = min(n, s.batch, s.max_simulations - used)
            if n <= 0:
                break
            theta = propose(prev, chol, prior, n, np.random.default_rng([s.seed, t, b]))
            d = np.asarray(simulate(t, b, theta), dtype=float)
            used += n
            proposed += n
            missing += int(np.isnan(d).sum())
            ok = ~np.isnan(d) & (d <= eps)
            _record(pending, prior, t, b, theta, d, ok)
            thetas.append(theta[ok])
            dists.append(d[ok])
            keys.extend((b, int(i)) for i in np.flatnonzero(ok))
            b += 1
        need = len(prev.weights)
        theta_t = np.concatenate(thetas) if thetas else np.empty((0, len(prior.names)))
        if len(theta_t) < need:
            # The budget ran out. The particles accepted so far are still independent draws
            # of this generation's importance sampler: kept if at least half the population
            # (with fewer particles), dropped otherwise.
            stopped = "budget"
            if len(theta_t) < math.ceil(need / 2):
                for frame in pending:
                    frame["accepted"] = False
                rows.extend(pending)
                break
            need = len(theta_t)
        # The first ``need`` accepted in proposal order: later acceptances are not used, and
        # the proposals after the last one used still count (they were simulated).
        theta_t, d_t, keys = theta_t[:need], np.concatenate(dists)[:need], keys[:need]
        kept = set(keys)
        for frame in pending:
            frame["accepted"] = [(int(bb), int(r)) in kept
                                 for bb, r in zip(frame["batch"], frame["row"], strict=True)]
        rows.extend(pending)
        gens.append(Generation(t, eps, theta_t, new_weights(theta_t, prev, chol), d_t,
                               proposed, missing, keys))
        if stopped == "budget" or s.max_simulations - used < 1:
            stopped = "budget"
            break
    proposals = pd.concat(rows, ignore_index=True)
    weight = np.zeros(len(proposals))
    for g in gens:
        lookup = {k: w for k, w in zip(g.keys, g.weights, strict=True)}
        mask = (proposals["generation"] == g.index).to_numpy()
        idx = np.flatnonzero(mask)
        for i in idx:
            key = (int(proposals.at[i, "batch"]), int(proposals.at[i, "row"]))
            weight[i] = lookup.get(key, 0.0)
    proposals["weight"] = weight
    return SmcResult(prior, settings, gens, proposals, stopped)


def weighted_quantile(values: np.ndarray, weights: np.ndarray,
                      q: float | np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted CDF, midpoint rule)."""
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    ok = ~np.isnan(values)
    values, weights = values[ok], weights[ok]
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` draws by systematic resampling (low variance, each weight honoured)."""
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)


IDENTIFIED, WEAK = 0.5, 0.8  # posterior sd / prior sd below: identified; above WEAK: not


def identification(result: SmcResult) -> pd.DataFrame:
    """Per parameter: prior and posterior spread and a plain verdict.

    ``sd_ratio`` = weighted posterior s.d. / prior s.d.; ``width_ratio`` = posterior 5-95%
    width / prior 5-95% width (0.9 x range). Below 0.5: "identified"; 0.5-0.8: "weakly";
    above 0.8: "not identified (posterior ~ prior)".
    """
    g = result.final
    prior = result.prior
    rows = []
    for j, name in enumerate(prior.names):
        x = g.theta[:, j]
        mean = float(g.weights @ x)
        sd = float(np.sqrt(g.weights @ (x - mean) ** 2))
        q05, q50, q95 = weighted_quantile(x, g.weights, np.array([0.05, 0.5, 0.95]))
        ratio = sd / prior.sd[j]
        width = (q95 - q05) / (0.9 * (prior.high[j] - prior.low[j]))
        verdict = ("identified" if ratio < IDENTIFIED else
                   "weakly identified" if ratio < WEAK else "not identified (posterior ~ prior)")
        rows.append({"name": name, "prior_low": prior.low[j], "prior_high": prior.high[j],
                     "prior_sd": prior.sd[j], "mean": mean, "median": q50, "q05": q05,
                     "q95": q95, "sd": sd, "sd_ratio": ratio, "width_ratio": width,
                     "verdict": verdict})
    return pd.DataFrame(rows).set_index("name")
