"""mutualsim.app."""
