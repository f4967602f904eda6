"""Short names of the factors ``mutualsim compare --factor`` varies (no heavy imports)."""

#: Short name on the command line -> Scenario field.
FACTOR_ALIASES: dict[str, str] = {
    "protection": "protection_years",
    "incubation": "incubation_years",
    "style": "commissioning_style",
    "support": "support_level",
    "mentoring": "mentoring_clauses",
    "lots": "lots",
    "austerity": "austerity_rate",
}
