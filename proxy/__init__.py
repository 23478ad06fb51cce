"""OpenAI-compatible Chat Completions API in front of a LangGraph server."""
