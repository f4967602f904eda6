"""Reference implementation of the model, one Python object per agent (an oracle for the
vectorised kernel and the baseline of the benchmarks; not product code)."""

from .agents import Citizen, Council, PrivateBidder
from .frames import histories_frame, panel_frame, run_models, run_reference
from .model import COLUMNS, ReferenceMarket
from .mutual import Mutual

__all__ = ["COLUMNS", "Citizen", "Council", "Mutual", "PrivateBidder", "ReferenceMarket",
           "histories_frame", "panel_frame", "run_models", "run_reference"]
