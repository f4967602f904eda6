"""The page's "Your council" card: per-service results for a council file.

``mutualsim app --council FILE`` passes the file to the server in the environment variable
:data:`ENV` (checked before the server starts); the page then shows, for the chosen
setting, each of the council's services' chance of being run by its mutual after 5, 10
and 15 years, and the council's expected step-in cost and spend
(:mod:`mutualsim.analysis.council`). The levers the room changed from current practice are
applied on top of the council's own style; the others keep the council file's values.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import solara

from ..analysis.council import HORIZONS, CouncilComparison, run_council
from ..council import CouncilFile, load_council
from ..errors import InputError
from .settings import Settings

ENV = "MUTUALSIM_COUNCIL"
COUNCIL_CLASS = "mutualsim-council"
CACHE_SIZE = 16


def council_path() -> str | None:
    """The council file the server was started with (None: no council)."""
    return os.environ.get(ENV) or None


@lru_cache(maxsize=4)
def _load(path: str) -> CouncilFile:
    return load_council(path)


def council_name(path: str) -> str:
    """The name a council file gives its council (the file is read once)."""
    return _load(path).name


def changed_levers(settings: Settings) -> tuple[tuple[str, Any], ...]:
    """The levers set away from current practice, as sorted (name, value) pairs."""
    default = Settings().levers()
    return tuple(sorted((k, v) for k, v in settings.levers().items() if v != default[k]))


@lru_cache(maxsize=CACHE_SIZE)
def council_results(path: str, levers: tuple[tuple[str, Any], ...], replications: int,
                    seed: int) -> CouncilComparison:
    """The council as stated with ``levers`` on top, simulated and summarised (cached)."""
    council = _load(path)
    scenario = council.scenario.replace(**dict(levers))
    council = CouncilFile(council.path, council.name, council.source, scenario,
                          council.services, council.service_sources)
    return run_council(council, replications, seed)


def _money(x: float) -> str:
    """``+£0.12m`` / ``-£0.70m``."""
    return f"{'-' if x < 0 else '+'}£{abs(x):.2f}m"


def _cell(x: float) -> str:
    return "n/a" if x != x else f"{x:.0%}"


@solara.component
def CouncilCard(settings: Settings, path: str | None) -> None:
    """Per-service results of the council file ``path`` (None: no card) for the chosen
    setting."""

    def run() -> tuple[CouncilComparison | None, str | None]:
        if path is None:
            return None, None
        try:
            return council_results(path, changed_levers(settings), settings.replications,
                                   settings.seed), None
        except InputError as err:
            return None, str(err)
        except Exception as err:  # noqa: BLE001 - the page must stay up whatever happens
            return None, f"could not compute the council: {err}"

    result, failure = solara.use_memo(run, [settings, path])  # every render, before any return
    if path is None:
        return
    title = f"Your council: {_load(path).name}" if failure is None else "Your council"
    with solara.Card(title, classes=["mutualsim-numbers", COUNCIL_CLASS]):
        if failure is not None:
            solara.Error(failure)
            return
        assert result is not None
        services = result.services_table()
        with solara.v.Html(tag="table"):
            with solara.v.Html(tag="tr"):
                for head in ("Service", "ever spun out", *(f"run by its mutual after {t} "
                                                          "years" for t in HORIZONS)):
                    solara.v.Html(tag="th", children=[head])
            for row in services.itertuples():
                with solara.v.Html(tag="tr"):
                    name = row.service if row.candidate else f"{row.service} (kept in-house)"
                    solara.v.Html(tag="td", children=[name])
                    solara.v.Html(tag="td", children=[_cell(row.spun_out)])
                    for t in HORIZONS:
                        solara.v.Html(tag="td", class_="s",
                                      children=[_cell(getattr(row, f"mutual_after_{t}y"))])
        money = result.council_table().iloc[0]
        solara.Text(
            f"Expected step-in cost £{money.step_in_cost_gbp_m:.2f}m over {money.years} "
            f"years (a step-in in {money.step_in_any:.0%} of replications); spend "
            f"£{money.spend_per_year_gbp_m:.1f}m a year, "
            f"{_money(money.spend_vs_in_house_gbp_m)} in all against keeping every "
            f"service in-house. {result.groups[0].replications:,} replications; "
            + ("levers changed: " + ", ".join(f"{k} = {v}" for k, v in
                                              changed_levers(settings))
               if changed_levers(settings) else "the council's own settings") + ".",
            style={"font-size": "15px"})
