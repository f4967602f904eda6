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


def test_compiled_year_draws_follow_the_layout():
    """The kernel's yearly draws are the Layout's blocks, in order, from the same stream the
    per-agent reference reads (numba's Generator reproduces numpy's streams)."""
    from mutualsim import Scenario
    from mutualsim.jit import python_callable
    from mutualsim.rng import Layout, draw_year

    sc = Scenario(councils=4, services_per_council=3, citizens_per_council=5,
                  private_bidders=3, lots=2)
    layout = Layout.for_scenario(sc)
    gen = replication_generator(5, 3)
    gen.random(7)                                   # any earlier use of the stream
    drawn = python_callable(draw_year)(gen, sc.councils, layout.n_keys,
                                       sc.citizens_per_council, sc.private_bidders, sc.lots)
    ref = replication_generator(5, 3)
    ref.random(7)
    u, z = ref.random(layout.n_uniform), ref.standard_normal(layout.n_normal)
    keys = ref.bit_generator.random_raw(layout.n_keys)
    for block, parts in ((u, layout.uniform), (z, layout.normal)):
        start = 0
        for name, shape in parts:
            size = int(np.prod(shape))
            np.testing.assert_array_equal(getattr(drawn, name), block[start:start + size],
                                          err_msg=name)
            start += size
    np.testing.assert_array_equal(drawn.keys, keys)
    assert gen.random() == ref.random()             # both streams are at the same place


def test_ported_ndtri_equals_scipy():
    """The kernel's inverse normal CDF (a Cephes port) gives scipy's values bit for bit."""
    from scipy.special import ndtri as scipy_ndtri

    from mutualsim.rng import ndtri
    grid = np.random.default_rng(0).random(20_000)
    y = np.concatenate([grid, grid ** 40, 1 - grid ** 30, [1e-300, 0.5, np.exp(-2),
                                                            1 - np.exp(-2), 2.0 ** -54]])
    np.testing.assert_array_equal([ndtri(v) for v in y], scipy_ndtri(y))
    assert ndtri(0.0) == -np.inf and ndtri(1.0) == np.inf and np.isnan(ndtri(1.5))


def test_slot_numbers_have_the_right_distribution_and_depend_on_their_key_only():
    """A slot's yearly numbers (``rng.slot_draws``): uniforms on [0, 1) and standard normals
    (KS at alpha = 0.001 over 20,000 fixed keys), unrelated to each other and to the same
    key's tender numbers, and the same for a key alone or in a batch."""
    from mutualsim.rng import N_SLOT_UNIFORMS, SLOT_NUMBERS, slot_draws
    keys = _keys(20_000)
    slot = slot_draws(keys)
    assert slot.shape == (20_000, len(SLOT_NUMBERS))
    u, z = slot[:, :N_SLOT_UNIFORMS], slot[:, N_SLOT_UNIFORMS:]
    assert (u >= 0).all() and (u < 1).all()
    for j in range(u.shape[1]):
        assert stats.kstest(u[:, j], "uniform").pvalue > 1e-3, SLOT_NUMBERS[j]
    for j in range(z.shape[1]):
        assert stats.kstest(z[:, j], "norm").pvalue > 1e-3, SLOT_NUMBERS[N_SLOT_UNIFORMS + j]
    corr = np.corrcoef(slot.T)
    assert np.abs(corr[~np.eye(len(SLOT_NUMBERS), dtype=bool)]).max() < 0.04
    bid, _ = tender_draws(keys, 8, 2)
    assert abs(np.corrcoef(bid[:, 0], u[:, 0])[0, 1]) < 0.04
    for i in (0, 4_321, 19_999):
        np.testing.assert_array_equal(slot_draws(keys[i:i + 1])[0], slot[i])
