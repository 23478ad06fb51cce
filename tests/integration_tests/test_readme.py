"""The README's examples run verbatim against a real server (only the URL is swapped)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
DOC_URL = "http://127.0.0.1:2024"


def block_after(marker: str, lang: str) -> str:
    start = README.index(marker)
    match = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    assert match, f"no {lang} block after {marker!r}"
    return match.group(1)


def test_sdk_custom_stream_example(langgraph_server) -> None:
    code = block_after("**The LangGraph SDK, custom stream mode**", "python")
    assert DOC_URL in code
    result = subprocess.run(
        [sys.executable, "-c", code.replace(DOC_URL, langgraph_server.url)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str({"type": "progress", "text": "User input: 10\n"})
    assert lines[-1] == str({"type": "answer", "text": "(s)."})


def test_openai_streaming_example(langgraph_server) -> None:
    code = block_after("**OpenAI SDK, streaming.**", "python")
    code = code.replace(DOC_URL, langgraph_server.url).replace(
        "stream=True,", 'stream=True, extra_body={"context": {"pace": 0}},'
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[thinking] 사용자의 입력 : 10\n")
    assert result.stdout.rstrip().endswith("번 반복 실행됐습니다.")


def test_curl_example(langgraph_server) -> None:
    command = block_after("**curl:**", "bash").replace(DOC_URL, langgraph_server.url)
    command = command.replace('"stream": true,', '"stream": true, "context": {"pace": 0},')
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    events = [e for e in result.stdout.split("\n\n") if e.strip()]
    assert events[-1].strip() == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"
