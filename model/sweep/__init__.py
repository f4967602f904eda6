"""mutualsim.sweep."""
