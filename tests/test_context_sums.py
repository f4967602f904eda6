"""The kernel's sums and means in numpy's order: bit-identical to ``ndarray.sum``/``mean``."""

import numba
import numpy as np
import pytest

from mutualsim.jit import python_callable
from mutualsim.kernel.context import mean, segment_mean, total

_total, _mean = python_callable(total), python_callable(mean)


@numba.njit(error_model="numpy")
def _segment_mean(a, lo, n):  # an inlined helper needs a named caller
    return segment_mean(a, lo, n)


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 17, 128, 129, 300, 450, 750, 1000, 1030,
                               2000, 2100, 4099])
def test_total_and_mean_equal_numpy_bit_for_bit(n):
    a = np.random.default_rng(n).standard_normal(n) * 1e3 + 0.1
    assert _total(a) == a.sum() or (n == 0 and _total(a) == 0.0)
    if n:
        assert _mean(a) == a.mean()


@pytest.mark.parametrize("k", [1, 5, 7, 8, 13, 128, 129, 300])
def test_segment_mean_equals_the_view_mean_bit_for_bit(k):
    a = np.random.default_rng(k).standard_normal((3, 4, k)) * 1e3
    got = np.array([[_segment_mean(a[r].ravel(), c * k, k) for c in range(4)]
                    for r in range(3)])
    want = a.mean(axis=2)  # numpy reduces each contiguous row pairwise, as a[r, c].mean()
    expected = np.array([[a[r, c].mean() for c in range(4)] for r in range(3)])
    assert np.array_equal(got, expected)
    assert np.allclose(want, expected)
