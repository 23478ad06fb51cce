"""The OpenAI-compatible API in front of a LangGraph server (README, "The proxy")."""
