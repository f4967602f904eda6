"""The workshop page: ``mutualsim app`` serves it with Solara.

Modules: :mod:`.settings` (controls and their validation), :mod:`.results` (cached
comparisons against the baseline), :mod:`.replication` (one replication as agents, stepped by
Mesa's SolaraViz), :mod:`.page` (the page) and :mod:`.cli` (the ``app`` subcommand). Nothing
here is a rule of the model: the page only calls ``simulate``, ``MutualMarket`` and the
survival analysis.
"""
