"""PRIM recovers a known box on synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualsim.errors import InputError
from mutualsim.evidence.prim import paste, peel, prim


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(3)
    x = rng.random((3000, 4))
    y = ((x[:, 0] > 0.6) & (x[:, 2] < 0.4)).astype(float)
    box, traj = prim(pd.DataFrame(x, columns=list("abcd")), y, min_coverage=0.8)
    restricted = box.restricted(x, list("abcd"))
    assert set(restricted) == {"a", "c"}
    assert abs(restricted["a"][0] - 0.6) < 0.03 and abs(restricted["c"][1] - 0.4) < 0.03
    assert box.density > 0.95 and box.coverage > 0.9
    assert traj["coverage"].iloc[0] == 1.0 and traj["coverage"].is_monotonic_decreasing


def test_prim_handles_discrete_levels():
    rng = np.random.default_rng(4)
    x = np.column_stack([rng.integers(0, 4, 2000), rng.random(2000)])
    y = ((x[:, 0] == 3) & (x[:, 1] > 0.2)).astype(float)
    box, _ = prim(pd.DataFrame(x, columns=["lots", "u"]), y, min_coverage=0.8)
    assert box.restricted(x, ["lots", "u"])["lots"] == (3.0, 3.0)


def test_pasting_never_lowers_density():
    rng = np.random.default_rng(5)
    x = rng.random((800, 2))
    y = (x[:, 0] + 0.2 * rng.random(800) > 0.7).astype(float)
    boxes = peel(x, y, alpha=0.1)
    for b in boxes[::3]:
        assert paste(x, y, b, alpha=0.1).density >= b.density


def test_prim_refuses_missing_values_instead_of_reading_them_as_bad():
    x = pd.DataFrame({"a": [0.1, 0.2, 0.3, np.nan], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InputError, match="1 outcome values and 0 rows"):
        prim(x.fillna(0.5), np.array([1.0, np.nan, 0.0, 1.0]))
    with pytest.raises(InputError, match="0 outcome values and 1 rows"):
        prim(x, np.array([1.0, 0.0, 0.0, 1.0]))
