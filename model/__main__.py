"""``python -m mutualsim``: the same as the ``mutualsim`` command."""

from .cli import main

raise SystemExit(main())
