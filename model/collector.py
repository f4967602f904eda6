"""Mesa's DataCollector, with empty agent frames that are empty.

Mesa 3.5's ``get_agent_vars_dataframe`` and ``get_agenttype_vars_dataframe`` return two
all-NaN rows labelled ``Step`` and ``AgentID`` when nothing was collected (an agent type with
no agents yet): pandas' ``from_records`` given an empty *iterator* and a two-label index
(mesa/mesa#3742). This subclass returns the same columns and (Step, AgentID) index with 0
rows; frames with rows are Mesa's own.
"""

from __future__ import annotations

import mesa
import pandas as pd


def _empty(names: list[str]) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"])
    return pd.DataFrame({name: pd.Series(dtype=object) for name in names}, index=index)


class DataCollector(mesa.DataCollector):
    """``mesa.DataCollector`` whose agent frames have 0 rows when no agent was recorded."""

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        if self.agent_reporters and not any(self._agent_records.values()):
            return _empty(list(self.agent_reporters))
        return super().get_agent_vars_dataframe()

    def get_agenttype_vars_dataframe(self, agent_type) -> pd.DataFrame:
        if agent_type in self.agenttype_reporters and not any(
                records.get(agent_type) for records in self._agenttype_records.values()):
            return _empty(list(self.agenttype_reporters[agent_type]))
        return super().get_agenttype_vars_dataframe(agent_type)
