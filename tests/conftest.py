"""Shared fixtures: the OpenAI schema validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

SPEC_PATH = (
    Path(__file__).resolve().parents[2] / "shared" / "openai-spec" / "chat-completions.schema.json"
)


class OpenAISchemas:
    """Validates payloads against the official OpenAI schemas (../shared/openai-spec)."""

    def __init__(self, path: Path) -> None:
        self.spec = json.loads(path.read_text())
        self._validators: dict[str, Draft202012Validator] = {}

    def errors(self, name: str, payload: Any) -> list[str]:
        if name not in self._validators:
            self._validators[name] = Draft202012Validator(
                {"components": self.spec["components"], "$ref": f"#/components/schemas/{name}"}
            )
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in self._validators[name].iter_errors(payload)
        ]

    def check(self, name: str, payload: Any) -> None:
        errors = self.errors(name, payload)
        assert not errors, f"{name} invalid: {errors[:5]}\npayload: {payload!r}"[:3000]


@pytest.fixture(scope="session")
def openai_schemas() -> OpenAISchemas:
    assert SPEC_PATH.exists(), (
        f"OpenAI schema missing at {SPEC_PATH} (shared/ must sit beside the repo)"
    )
    return OpenAISchemas(SPEC_PATH)
