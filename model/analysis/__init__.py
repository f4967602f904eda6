"""mutualsim.analysis."""
