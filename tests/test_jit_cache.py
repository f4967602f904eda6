"""The kernel's disk cache is invalidated by an edit to ANY kernel source, not only to the
file that defines a cached function (numba's own rule), because a cached entry point
carries the compiled code of every rule it calls."""

from pathlib import Path

import numba
import pytest

from mutualsim.jit import JIT_DISABLED, KERNEL_SOURCES, KernelSourcesMixin, sources_stamp

pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="no cache when numba is disabled")


def test_kernel_functions_use_the_whole_kernel_stamp() -> None:
    from mutualsim.kernel import run_years
    from mutualsim.rng import ndtri

    for fn in (run_years, ndtri):
        assert isinstance(fn._cache._impl._locator, KernelSourcesMixin)
    names = {p.name for p in KERNEL_SOURCES}
    assert {"tendering.py", "citizens.py", "__init__.py", "rng.py", "jit.py"} <= names


def test_functions_elsewhere_keep_numbas_own_locator() -> None:
    @numba.njit(cache=True)
    def plus_one(x):
        return x + 1

    assert plus_one(1) == 2
    assert not isinstance(plus_one._cache._impl._locator, KernelSourcesMixin)


def test_the_stamp_changes_with_any_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    before = sources_stamp((a, b))
    assert sources_stamp((a, b)) == before
    b.write_text("y = 3\n")
    assert sources_stamp((a, b)) != before
