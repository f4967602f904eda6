"""Our PRIM (mutualsim.evidence.prim, used by ``mutualsim robust``) against EMA Workbench's.

Both peel with the original objective of Friedman & Fisher (1999): each step removes the
``alpha`` slice of one input whose removal leaves the densest box, until the box holds
``mass_min`` of the points. On one dataset (1,000 points in the unit cube, the box
a > 0.5 and b < 0.6 with 10% of labels flipped, seed 11) the two peeling trajectories and the
box each picks (the densest with coverage >= 0.8) must agree:

* coverage and density at every one of the first 25 peeling steps within 0.01 (the two
  compute the alpha-quantile slightly differently, which shows late in the trajectory, where
  few points are left);
* the chosen box's bounds within 0.01 on each input (unit scale) and its coverage and
  density within 0.01.

EMA pastes only its last box, we paste the chosen one, so the pasted boxes are not compared.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

from mutualsim.evidence.prim import peel, select

ema_prim = pytest.importorskip(
    "ema_workbench.analysis.prim",
    reason="ema_workbench (in the test extra: pip install 'mutualsim[test]') is not installed")

TOL = 0.01
STEPS = 25
MIN_COVERAGE = 0.8


def _dataset() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.random((1000, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.5) & (x["b"] < 0.6)).to_numpy()
    flip = rng.random(len(x)) < 0.1
    return x, np.where(flip, ~y, y).astype(int)


def _ema_box(x: pd.DataFrame, y: np.ndarray):
    kwargs = {"obj_function": ema_prim.PRIMObjectiveFunctions.ORIGINAL, "peel_alpha": 0.05,
              "paste_alpha": 0.05, "mass_min": 0.05}
    if "threshold" in inspect.signature(ema_prim.Prim.__init__).parameters:  # 2.x API
        kwargs["threshold"] = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ema_prim.Prim(x, y, **kwargs).find_box()


def test_peeling_trajectory_and_chosen_box_match_ema_workbench():
    x, y = _dataset()
    ema = _ema_box(x, y)
    theirs = ema.peeling_trajectory
    ours = peel(x.to_numpy(float), y.astype(float), alpha=0.05, min_support=0.05)
    assert len(ours) > STEPS and len(theirs) > STEPS
    for i in range(STEPS):
        assert abs(ours[i].coverage - theirs["coverage"].iloc[i]) <= TOL, i
        assert abs(ours[i].density - theirs["density"].iloc[i]) <= TOL, i

    mine = ours[select(ours, MIN_COVERAGE)]
    ok = [i for i in range(len(theirs)) if theirs["coverage"].iloc[i] >= MIN_COVERAGE]
    k = max(ok, key=lambda i: (theirs["density"].iloc[i], -i))
    lims = ema.box_lims[k]
    np.testing.assert_allclose(mine.lower, lims.iloc[0].to_numpy(float), atol=TOL)
    np.testing.assert_allclose(mine.upper, lims.iloc[1].to_numpy(float), atol=TOL)
    assert abs(mine.coverage - theirs["coverage"].iloc[k]) <= TOL
    assert abs(mine.density - theirs["density"].iloc[k]) <= TOL
    # The box found is the planted one: a >= ~0.5 and b <= ~0.6, c unrestricted.
    assert abs(mine.lower[0] - 0.5) < 0.03 and abs(mine.upper[1] - 0.6) < 0.03
