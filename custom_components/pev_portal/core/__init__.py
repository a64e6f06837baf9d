"""Pure-Python core of PEV Portal (no Home Assistant imports)."""
