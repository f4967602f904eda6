"""Shared test helpers: tiny scenarios, hand-built draws, kernel stepping; and a check that
the suite leaves no process of its own running."""

from __future__ import annotations

import os

import numpy as np
import pytest
from processes import command_line, descendants, is_resource_tracker, wait_gone

from mutualsim.kernel import Context, Recorder, initial_state, step
from mutualsim.params import Scenario
from mutualsim.rng import Draws, Layout, draw_year, generators


@pytest.fixture
def tiny() -> Scenario:
    """Small enough for rule tests to read every number."""
    return Scenario(councils=2, services_per_council=2, private_bidders=3,
                    citizens_per_council=2, years=10)


def make_draws(sc: Scenario, R: int = 1, u: float = 0.5, n: float = 0.0,
               **named: np.ndarray | float) -> Draws:
    """Draws with every uniform = u and every normal = n, except the named slices."""
    layout = Layout.for_scenario(sc)
    d = Draws(layout, np.full((R, layout.n_uniform), u), np.full((R, layout.n_normal), n))
    M, B, L = layout.n_keys, layout.bidders, layout.lots
    bid, score = np.full((R, M, B), u), np.full((R, M, B + 1, L), n)
    for name, value in named.items():
        target = {"bid": bid, "score": score}.get(name)
        if target is None:
            target = d.u[name] if name in d.u else d.n[name]
        target[...] = value
    d.fixed_tender = (bid, score)
    return d


def fresh(sc: Scenario, R: int = 1, seed: int = 0):
    """Context, generators and initial state of R replications."""
    ctx = Context.for_scenario(sc)
    gens = generators(seed, range(R))
    return ctx, gens, initial_state(ctx, gens)


def run_years(sc: Scenario, R: int, seed: int, on_step=None):
    """Step the kernel year by year; ``on_step(before, after, t)`` sees each year."""
    ctx, gens, st = fresh(sc, R, seed)
    layout = Layout.for_scenario(sc)
    rec = Recorder(R, sc.years)
    for t in range(sc.years):
        before = st.take(slice(None))
        step(st, ctx, draw_year(gens, layout), rec, t)
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
