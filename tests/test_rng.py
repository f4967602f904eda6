"""The tender numbers' counter-based hash: distribution and purity, checked with scipy."""

from __future__ import annotations

import numpy as np
from scipy import stats

from mutualsim.rng import replication_generator, tender_draws


def _keys(n: int) -> np.ndarray:
    return replication_generator(123, 0).bit_generator.random_raw(n)


def test_uniforms_and_normals_have_the_right_distribution():
    """KS tests at alpha = 0.001 on 20,000 keys x 8 bidders (fixed keys, so deterministic)."""
    bid, score = tender_draws(_keys(20_000), 8, 2)
    assert bid.shape == (20_000, 8) and score.shape == (20_000, 9, 2)
    assert (bid >= 0).all() and (bid < 1).all()
    assert stats.kstest(bid.ravel(), "uniform").pvalue > 1e-3
    assert stats.kstest(score.ravel(), "norm").pvalue > 1e-3
    # Neighbouring numbers of one key and the same number of neighbouring keys are unrelated.
    assert abs(np.corrcoef(bid[:, 0], bid[:, 1])[0, 1]) < 0.03
    assert abs(np.corrcoef(score[:-1, 0, 0], score[1:, 0, 0])[0, 1]) < 0.03


def test_each_key_expands_the_same_alone_or_in_a_batch():
    keys = _keys(50)
    bid, score = tender_draws(keys, 5, 3)
    for i in (0, 17, 49):
        b1, s1 = tender_draws(keys[i:i + 1], 5, 3)
        np.testing.assert_array_equal(b1[0], bid[i])
        np.testing.assert_array_equal(s1[0], score[i])
