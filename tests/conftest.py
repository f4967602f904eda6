"""Shared test helpers: tiny scenarios, hand-built draws, kernel stepping; and a check that
the suite leaves no process of its own running."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest
from processes import command_line, descendants, is_resource_tracker, wait_gone

from mutualsim.kernel import Recorder, context, initial_state, step
from mutualsim.kernel.context import FLOWS
from mutualsim.params import Scenario
from mutualsim.rng import N_SLOT_UNIFORMS, SLOT_NUMBERS, Draws, Layout, generators


@pytest.fixture
def tiny() -> Scenario:
    """Small enough for rule tests to read every number; one policy imposed on every
    council (the strategic style, the mean support and austerity, every council backing
    spin-outs alike, single lots), so a rule's numbers follow from the scenario alone."""
    return Scenario(councils=2, services_per_council=2, private_bidders=3,
                    citizens_per_council=2, years=10, **IMPOSED)


# Scenario values that give every council the same policy (see docs/ODD.md 'Councils').
IMPOSED = dict(commissioning_style="strategic", support_level_sd=0.0, austerity_rate_sd=0.0,
               unsupportive_council_share=0.0, spinout_propensity_sdlog=0.0,
               lot_split_share=0.0)


def ledger() -> np.ndarray:
    """An empty ledger for calling a rule from a test: one entry per flow (``led[Flow.x]``)."""
    return np.zeros(len(FLOWS))


def make_draws(sc: Scenario, u: float = 0.5, n: float = 0.0,
               **named: np.ndarray | float) -> Draws:
    """One replication's year of draws with every uniform = u and every normal = n, except
    the named parts (``shock=...``, ``citizen=...``, a slot's yearly numbers by their name
    in ``rng.SLOT_NUMBERS`` (``propose=...``, ``pension=...``, (M,) or a number), and
    ``bid`` (M, B) / ``score`` (M, B+1, L) tender numbers), all hand-set in place of the
    slot keys' expansions."""
    layout = Layout.for_scenario(sc)
    M, B, L = layout.n_keys, layout.bidders, layout.lots
    parts = {name: np.full(int(np.prod(shape)), u) for name, shape in layout.uniform}
    parts |= {name: np.full(int(np.prod(shape)), n) for name, shape in layout.normal}
    parts["bid"], parts["score"] = np.full((M, B), u), np.full((M, B + 1, L), n)
    slot = parts["slot"] = np.full((M, len(SLOT_NUMBERS)), n)
    slot[:, :N_SLOT_UNIFORMS] = u
    for name, value in named.items():
        if name in SLOT_NUMBERS:
            slot[:, SLOT_NUMBERS.index(name)] = value
        else:
            parts[name][...] = np.reshape(value, parts[name].shape) if np.ndim(value) else value
    return Draws(keys=np.zeros(M, dtype=np.uint64), **parts)


def fresh(sc: Scenario, R: int = 1, seed: int = 0):
    """Constants, generators and initial state of R replications."""
    k = context(sc)
    gens = generators(seed, range(R))
    return k, gens, initial_state(k, gens)


def run_years(sc: Scenario, R: int, seed: int, on_step=None):
    """Step the kernel year by year; ``on_step(before, after, t)`` sees each year."""
    k, gens, st = fresh(sc, R, seed)
    rec = Recorder(R, sc.years)
    for t in range(sc.years):
        before = st.take(slice(None))
        step(st, k, gens, rec, t)
        if on_step is not None:
            on_step(before, st, t)
    return st, rec


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_suite():
    """Fail the session if a process the tests started (a server, a pool worker, a browser)
    is still running at its end. multiprocessing's resource tracker is allowed: it serves
    pytest itself and ends with it."""
    yield
    left = [p for p in descendants(os.getpid()) if not is_resource_tracker(p)]
    left = wait_gone(left, timeout=10.0)
    if left:
        pytest.fail("processes started by the tests are still running: " + "; ".join(
            f"{p} {command_line(p)[:120]}" for p in left), pytrace=False)


#: A calibration experiment small enough for a test: 8 councils, 8 years, one factor, a
#: two-generation ABC-SMC (tests of calibrate, its CLI and --publish-posterior).
TINY_CALIBRATION = textwrap.dedent("""
    name = "tiny_calibration"
    replications = 2
    seed = 5
    block_size = 2
    [base_overrides]
    councils = 8
    years = 8
    [design]
    kind = "lhs"
    samples = 6
    [factors]
    reactive_prob = { low = 0.02, high = 0.10 }
    [abc]
    particles = 2
    batch = 3
    generations = 2
    max_simulations = 12
    predictive = 2
""")
