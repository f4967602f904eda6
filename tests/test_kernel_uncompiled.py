"""The kernel's loops run as plain Python with ``NUMBA_DISABLE_JIT=1`` (for debugging) and
give the same results as compiled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from mutualsim import Scenario, simulate

SC = Scenario(councils=3, years=5, lots=2, incubation_years=1)
SCRIPT = """
import sys
import numba
import mutualsim
assert numba.config.DISABLE_JIT
res = mutualsim.simulate(mutualsim.Scenario(councils=3, years=5, lots=2, incubation_years=1),
                         [0, 5], seed=7, threads=2)
res.histories.to_pickle(sys.argv[1])
res.panel.to_pickle(sys.argv[2])
"""


def test_uncompiled_kernel_gives_the_compiled_results(tmp_path: Path) -> None:
    package = Path(__import__("mutualsim").__file__).resolve().parents[1]
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1",
           "PYTHONPATH": os.pathsep.join([str(package), os.environ.get("PYTHONPATH", "")])}
    h, p = tmp_path / "h.pkl", tmp_path / "p.pkl"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(h), str(p)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    compiled = simulate(SC, [0, 5], seed=7)
    assert len(compiled.histories) > 0
    pd.testing.assert_frame_equal(pd.read_pickle(h), compiled.histories, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_pickle(p), compiled.panel, check_exact=True)


def test_a_compiled_run_needs_no_more_compiling() -> None:
    from mutualsim.kernel import needs_compiling
    simulate(SC, 1, seed=0)
    assert not needs_compiling()
