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


def test_a_kernel_loaded_from_the_cache_is_announced_once_at_most(tmp_path: Path) -> None:
    """Sources restored to earlier contents (a checkout) are newer than numba's index but
    match a cached copy: numba loads it without rewriting the index. The notice may then
    appear once (the heuristic cannot tell), never on every later run."""
    import os
    import subprocess
    import sys

    from mutualsim.kernel import run_years

    code = ("from mutualsim import Scenario, simulate; "
            "simulate(Scenario(councils=2, years=2), 1, threads=1)")
    run = [sys.executable, "-c", code]
    subprocess.run(run, capture_output=True, text=True, check=True, timeout=600)
    index = Path(run_years._cache._cache_file._index_path)
    if not os.access(index, os.W_OK):
        pytest.skip("the kernel's cache is read-only here")
    old = index.stat().st_mtime - 86_400
    os.utime(index, (old, old))          # as after a checkout of unchanged sources
    first = subprocess.run(run, capture_output=True, text=True, check=True, timeout=600)
    again = subprocess.run(run, capture_output=True, text=True, check=True, timeout=600)
    assert "compiling the simulation kernel" in first.stderr   # the heuristic's one notice
    assert "compiling" not in again.stderr, again.stderr


def test_threads_that_wait_for_one_compile_announce_it_once(monkeypatch, capsys) -> None:
    """The page computes several arms (and its council card) on threads at once; on the
    first run after an install they all wait for the one compile, and the notice appears
    once, not once per thread (it appeared 13 times in a fresh install's page log)."""
    import threading
    import time

    import mutualsim.kernel as kernel

    compiled = threading.Event()
    monkeypatch.setattr(kernel, "needs_compiling", lambda: not compiled.is_set())

    def compile_slowly(*args):
        time.sleep(0.3)           # long enough for every thread to be waiting
        compiled.set()
        return "years"

    monkeypatch.setattr(kernel, "entry_for", compile_slowly)
    monkeypatch.setattr(kernel, "_cache_is_current", lambda: None)
    got = []
    threads = [threading.Thread(target=lambda: got.append(kernel._compiled_years(
        None, None, None, 0, 1, None))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert got == ["years"] * 4
    assert capsys.readouterr().err.count("compiling the simulation kernel") == 1
