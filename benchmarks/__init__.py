"""Performance benchmarks of mutualsim (GitHub issue 6): ``python -m benchmarks``.

Every section measures side by side in one run and reports ratios, so the numbers compare
on the machine that produced them. Nothing here asserts a target; the report says which are
met. ``tests/reference`` (the one-object-per-agent model) is the baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.reference is imported from the source tree
    sys.path.insert(0, str(ROOT))
