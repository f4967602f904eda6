"""mutualsim.evidence."""
