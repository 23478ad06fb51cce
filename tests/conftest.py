"""Shared fixtures: the OpenAI schema validators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.fake_openai import FakeOpenAI, serve_fake_openai

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "openai-spec"
SPEC_PATH = SPEC_DIR / "chat-completions.schema.json"
RESPONSES_SPEC_PATH = SPEC_DIR / "responses.schema.json"


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


@pytest.fixture(scope="session")
def responses_schemas() -> OpenAISchemas:
    """The Responses API's schemas: CreateResponse, Response, ResponseStreamEvent, ..."""
    assert RESPONSES_SPEC_PATH.exists(), f"OpenAI schema missing at {RESPONSES_SPEC_PATH}"
    return OpenAISchemas(RESPONSES_SPEC_PATH)


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeOpenAI]:
    """A fake OpenAI-compatible model server for the graphs that call one (the session's)."""
    with serve_fake_openai() as server:
        yield server


@pytest.fixture
def fake_model(fake_upstream: FakeOpenAI) -> FakeOpenAI:
    """The session's fake model with default knobs and empty records."""
    fake_upstream.reset()
    return fake_upstream
