"""Adapters kept free of Home Assistant: the durable store."""
