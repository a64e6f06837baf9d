"""Home Assistant tests of PEV Portal."""
