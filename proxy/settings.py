"""Proxy configuration, read from the environment (``PROXY_*`` and ``LANGGRAPH_*``).

Two groups (docs/configuration.md): the essential settings a deployer sets, and the tuning
settings whose defaults ``make bench`` chose.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ProgressMode = Literal["reasoning", "content", "drop"]
Transport = Literal["aiohttp", "httpx"]


class Settings(BaseSettings):
    """Every knob of the proxy; each field is an environment variable."""

    model_config = SettingsConfigDict(env_prefix="PROXY_", extra="ignore")

    # -- essential: what a deployer sets ---------------------------------------------------
    langgraph_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PROXY_LANGGRAPH_URL", "LANGGRAPH_URL"),
        description="LangGraph server URL; unset = the server this app is mounted in.",
    )
    langgraph_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PROXY_LANGGRAPH_API_KEY", "LANGGRAPH_API_KEY"),
        description="Sent upstream as x-api-key (LangGraph Platform deployments).",
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys clients must send as 'Authorization: Bearer'.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    progress_mode: ProgressMode = "reasoning"
    run_timeout: float = Field(default=600.0, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    input_fields: dict[str, str] = Field(
        default_factory=dict,
        description='Per-model input field, JSON: {"my-graph": "question"}.',
    )
    answer_nodes: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Per-model nodes whose AI messages are the answer, JSON: {"rag": ["answer"]}.',
    )
    log_level: str = "info"

    # -- tuning: defaults chosen by measurement (docs/benchmark.md) ---------------------------
    keepalive_interval: float = Field(default=15.0, gt=0)
    connect_timeout: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=30.0, gt=0)
    models_cache_ttl: float = Field(default=10.0, ge=0)
    schema_cache_ttl: float = Field(default=60.0, ge=0)
    max_connections: int = Field(default=1024, ge=1)
    upstream_transport: Transport = Field(
        default="aiohttp",
        description="HTTP stack under the SDK client: aiohttp (faster reads) or httpx's own.",
    )
    coalesce_ms: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description=(
            "Read and write a busy run stream at most once per this many ms; a chunk after a "
            "quiet spell is never delayed. 0 = every event at once."
        ),
    )
    merge_deltas: bool = Field(
        default=True,
        description="Send the chunks of one kind that arrived together as one delta.",
    )
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_messages: int = Field(default=4096, ge=1)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        """Accept ``a,b,c`` (or a JSON list) from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
