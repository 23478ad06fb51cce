"""Prints what the recorder saw, one block per request, for a person to read.

    python -m tests.openwebui_tests.show_records <records.jsonl> [--full]

``records.jsonl`` is the recorder's file (``OWUI_CAPTURE_DIR`` keeps it after a test session).
Each chat completion shows its status, the ``X-*`` headers, the body's fields but messages and
tools (tools as a count), and each message's role and content (cut at 160 characters unless
``--full``). Other requests (``GET /v1/models``) get one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def render(record: dict[str, Any], full: bool) -> str:
    if record["method"] != "POST":
        return f"#{record['seq']} {record['method']} {record['path']} -> {record.get('status')}"
    body = dict(record["body"] or {})
    tools = body.pop("tools", None)
    messages = body.pop("messages", [])
    lines = [f"#{record['seq']} POST {record['path']} -> {record.get('status')}"]
    for name, value in record["headers"]:
        if name.lower().startswith("x-"):
            lines.append(f"  {name}: {value}")
    lines.append(f"  body: {json.dumps(body, ensure_ascii=False)}")
    if tools is not None:
        names = [tool.get("function", {}).get("name") for tool in tools]
        lines.append(f"  tools ({len(tools)}): {', '.join(map(str, names)) if full else '...'}")
    for message in messages:
        content = json.dumps(message.get("content"), ensure_ascii=False)
        if not full and len(content) > 160:
            content = content[:160] + "..."
        extra = {k: v for k, v in message.items() if k not in ("role", "content")}
        lines.append(f"  [{message.get('role')}] {content}{f' {extra}' if extra else ''}")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1])
    full = "--full" in sys.argv[2:]
    records = sorted(
        (json.loads(line) for line in path.read_text().splitlines() if line.strip()),
        key=lambda record: record["seq"],
    )
    sys.stdout.write("\n".join(render(record, full) for record in records) + "\n")


if __name__ == "__main__":
    main()
