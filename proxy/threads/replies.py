"""The user's next message as the answer to an interrupt (``Command(resume=...)``).

A plain interrupt gets the text as it is. LangChain's human-in-the-loop middleware gets its
decisions: yes / approve / ok ... approve every pending tool call; no / reject ... reject them;
anything else rejects them with the user's words, which the model then reads.
"""

from __future__ import annotations

from typing import Any

from proxy.runs.interrupts import is_approval

YES = frozenset(
    {"y", "yes", "yep", "yeah", "ok", "okay", "sure", "approve", "approved", "accept",
     "confirm", "confirmed", "go", "go ahead", "proceed", "do it", "👍", "✅"}
)  # fmt: skip
NO = frozenset(
    {"n", "no", "nope", "reject", "rejected", "deny", "denied", "decline", "cancel", "stop",
     "don't", "do not", "👎", "❌"}
)  # fmt: skip


def decision(reply: str) -> dict[str, Any]:
    """A reviewer's decision, from what the user wrote."""
    said = reply.strip().lower().rstrip(".!")
    if said in YES:
        return {"type": "approve"}
    if said in NO:
        return {"type": "reject"}
    return {"type": "reject", "message": reply.strip()}


def _answer(reply: str, value: Any) -> Any:
    if not is_approval(value):
        return reply
    if isinstance(value.get("action_requests"), list):  # batched: one decision per call
        return {"decisions": [decision(reply) for _ in value["action_requests"]]}
    return decision(reply)  # per call: the decision itself


def resume_value(reply: str, interrupts: list[dict[str, Any]]) -> Any:
    """What resumes ``interrupts``: one value, or one per interrupt id."""
    if len(interrupts) <= 1:
        return _answer(reply, interrupts[0].get("value") if interrupts else None)
    return {str(i.get("id")): _answer(reply, i.get("value")) for i in interrupts}
