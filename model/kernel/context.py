"""Constants derived once from a scenario, and the per-year ledger the rules write to.

Keeping these out of the rules means each rule reads as the mechanism it implements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import Scenario


@dataclass(frozen=True)
class Context:
    """Scenario constants in the shapes the kernel needs."""

    sc: Scenario
    C: int
    S: int
    M: int
    B: int
    K: int
    L: int
    weights: tuple[float, float, float, float]  # price, quality, social, financial (normalised)
    coproduction: float
    risk_aversion: float

    @staticmethod
    def for_scenario(sc: Scenario) -> Context:
        return Context(
            sc=sc, C=sc.councils, S=sc.services_per_council,
            M=sc.councils * sc.services_per_council, B=sc.private_bidders,
            K=sc.citizens_per_council, L=sc.lots, weights=sc.tender_weights(),
            coproduction=sc.resolved("coproduction"), risk_aversion=sc.resolved("risk_aversion"))

    def per_slot(self, council_values: np.ndarray) -> np.ndarray:
        """Broadcast (R, C) council values to (R, M) slots (slot m belongs to council m // S)."""
        return np.repeat(council_values, self.S, axis=1)


@dataclass
class Ledger:
    """What happened in one year, per replication; rules add to it, the recorder reads it."""

    R: int
    M: int
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, per_replication: np.ndarray) -> None:
        if name in self.values:
            self.values[name] = self.values[name] + per_replication
        else:
            self.values[name] = np.asarray(per_replication, dtype=float).copy()

    def get(self, name: str) -> np.ndarray:
        return self.values.get(name, np.zeros(self.R))
