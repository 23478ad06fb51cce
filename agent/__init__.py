"""Graphs served by this deployment (see langgraph.json)."""
