"""Start-up: the command line's parser and ``--version`` import nothing heavy.

Timing is measured in benchmarks (BENCHMARKS.md); here we check the cause of a slow start,
which does not depend on how busy the machine is: which modules get imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "numba", "mesa", "pyarrow", "matplotlib", "solara")

PROBE = """
import json, sys
from mutualsim.cli import build_parser, main
{action}
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


@pytest.mark.parametrize("action", [
    "build_parser()",
    "import contextlib, io\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try:\n        main(['--version'])\n    except SystemExit:\n        pass",
    "import contextlib, io\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try:\n        main(['sweep', '--help'])\n    except SystemExit:\n        pass",
])
def test_parser_and_version_import_nothing_heavy(action: str) -> None:
    code = PROBE.format(action=action, heavy=repr(HEAVY))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_import_mutualsim_is_light() -> None:
    code = f"import json, sys, mutualsim\nprint(json.dumps(sorted(m for m in {HEAVY!r} " \
           "if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout.strip()) == []


def test_lazy_names_stay_functions_after_their_submodules_load() -> None:
    """``compare`` and ``simulate`` are both a submodule and a function: the package name
    must give the function however the submodule got imported."""
    code = ("import mutualsim.analysis.report, mutualsim.simulate\n"
            "from mutualsim.analysis import compare\n"
            "import mutualsim\n"
            "print(callable(compare) and not isinstance(compare, type(mutualsim)), "
            "callable(mutualsim.simulate) and not isinstance(mutualsim.simulate, "
            "type(mutualsim)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "True"]
