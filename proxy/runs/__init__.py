"""The run layer: start a LangGraph run and read it, in any stream modes, as typed events."""
