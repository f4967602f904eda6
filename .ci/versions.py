"""Print the versions of one CI dependency set (numpy, pandas, pyarrow, mesa, python...)."""

import sys

from mutualsim.schema import library_versions

print(f"{sys.argv[1] if len(sys.argv) > 1 else 'set'}:",
      ", ".join(f"{k} {v}" for k, v in library_versions().items()))
