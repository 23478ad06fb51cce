"""Drives Open WebUI in a real Chromium, one JSON command per line; run by the Open WebUI tests.

    .tools/openwebui-venv/bin/python tests/openwebui_tests/driver.py

Runs in Open WebUI's venv, which holds the pinned Playwright (the project's venv does not), and
uses Debian's Chromium (``OWUI_CHROMIUM``, default ``/usr/bin/chromium``): Playwright's own
browser download does not work on these machines. Reads commands from stdin, one JSON object a
line, and answers each with one JSON line on stdout: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": "<traceback>"}``. Its own chatter goes to stderr.

Commands (``cmd`` plus arguments):

* ``open`` ``url`` ``model`` [``temporary``]: a new chat at ``url`` (Open WebUI's root), with
  ``model`` picked in the model selector; ``temporary`` opens a temporary chat.
* ``send`` ``text``: types ``text`` into the chat input, sends it, waits for the answer.
* ``regenerate``: regenerates the last answer and waits for the new one.
* ``edit_user`` ``index`` ``text``: edits the index-th user message (0-based, as shown) and sends
  it (Open WebUI's "Send": a new branch and a new answer).
* ``edit_assistant`` ``index`` ``text``: edits the index-th answer and saves it ("Save").
* ``messages``: the messages shown, in order.
* ``state``: the chat id (from the URL), what the page asked of other hosts (refused),
  console errors.
* ``screenshot`` ``path``.

A message is ``{"id", "role", "text", "reasoning", "error"}``: ``text`` is the rendered text
without the reasoning block; ``reasoning`` the text inside the expanded "Thought for ..."
block(s), ``None`` if there is none; ``error`` the error shown under the message, if any.
Commands that wait return the messages shown once the answer is done.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("OWUI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ANSWER_TIMEOUT = float(os.environ.get("OWUI_ANSWER_TIMEOUT", "240"))
COMMANDS = {
    "open",
    "send",
    "regenerate",
    "edit_user",
    "edit_assistant",
    "messages",
    "state",
    "screenshot",
}
SELECTOR = "#model-selector-model-button"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

# Reads every message shown: role, id, rendered text without the reasoning collapsibles, the
# reasoning text (the collapsibles must be open: the driver opens them first), the error box.
READ_MESSAGES = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('#messages-container div[id^="message-"]')) {
    const id = el.id.slice('message-'.length);
    if (el.classList.contains('user-message')) {
      const bubble = el.querySelector('.chat-user .markdown-prose')
        || el.querySelector('.chat-user');
      out.push({id, role: 'user', text: bubble ? bubble.innerText.trim() : '',
                reasoning: null, error: null});
      continue;
    }
    const box = el.querySelector('#response-content-container');
    if (!box) continue;
    // innerText leaves out what is not displayed: hide a part to read the rest without it
    const hidden = [];
    const reasoning = [];
    for (const button of box.querySelectorAll('button[aria-expanded]')) {
      if (!/^(Thought|Thinking)/.test(button.innerText.trim())) continue;
      const root = button.parentElement;
      const display = button.style.display;
      button.style.display = 'none';
      reasoning.push(root.innerText.trim());
      button.style.display = display;
      hidden.push(root);
    }
    let error = null;
    for (const node of box.querySelectorAll('div[class*="bg-black/[0.03]"]')) {
      error = node.innerText.trim();
      hidden.push(node);
    }
    const saved = hidden.map((node) => node.style.display);
    hidden.forEach((node) => { node.style.display = 'none'; });
    const text = box.innerText.trim();
    hidden.forEach((node, i) => { node.style.display = saved[i]; });
    out.push({id, role: 'assistant', text,
              reasoning: reasoning.length ? reasoning.join('\\n') : null, error});
  }
  return out;
}
"""

# Whether the last answer is still being written: Open WebUI shows a Stop button, a pulsing
# cursor or a "Thinking..." label until the message is done.
IS_BUSY = """
() => {
  if (document.querySelector('button[aria-label="Stop"]')) return true;
  const answers = document.querySelectorAll(
    '#messages-container div[id^="message-"]:not(.user-message)');
  const last = answers[answers.length - 1];
  if (!last) return true;
  if (last.querySelector('.animate-cursor-pulse')) return true;
  for (const b of last.querySelectorAll('button[aria-expanded]')) {
    if (/^Thinking/.test(b.innerText.trim())) return true;
  }
  const done = last.querySelector('button.copy-response-button');
  const failed = last.querySelector('div[class*="bg-black/[0.03]"]');
  return !(done || failed);
}
"""


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def reply(answer: dict[str, Any]) -> None:
    """One JSON line on stdout: the answer to one command."""
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    sys.stdout.flush()


class Driver:
    """One browser, one page, the chat on it."""

    def __init__(self) -> None:
        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        self.context = self.browser.new_context(
            viewport={"width": 1280, "height": 1000}, locale="en-US", timezone_id="UTC"
        )
        self.refused: list[str] = []
        self.console_errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        self.base = ""

    def _route(self, route: Any) -> None:
        """Lets loopback through; refuses (and records) every other host."""
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("internetdisconnected")

    # -- commands ----------------------------------------------------------------------------

    def open(self, url: str, model: str, temporary: bool = False) -> dict[str, Any]:
        self.base = url.rstrip("/")
        page = self.page
        page.goto(self.base + ("/?temporary-chat=true" if temporary else "/"))
        page.locator("#chat-input").wait_for(state="visible", timeout=60_000)
        self._dismiss_changelog()
        self.select_model(model)
        return {"url": page.url, "model": self.selected_model()}

    def _dismiss_changelog(self) -> None:
        """The "What's New" dialog a new user gets on the first visit."""
        button = self.page.get_by_role("button", name="Okay, Let's Go!")
        try:
            button.wait_for(state="visible", timeout=3_000)
        except Exception:
            return
        button.click()
        button.wait_for(state="hidden", timeout=10_000)

    def select_model(self, model: str) -> None:
        """Picks ``model`` (its id) in the model selector, as a user would."""
        page = self.page
        page.locator(SELECTOR).click()
        search = page.locator("#model-search-input")
        search.wait_for(state="visible", timeout=10_000)
        search.fill(model)
        item = page.locator(f'#model-selector-list [data-value="{model}"]').first
        item.wait_for(state="visible", timeout=10_000)
        # aria-label "Select <name> model": the name the selector then shows
        label = (item.get_attribute("aria-label") or "")[len("Select ") : -len(" model")]
        item.click()
        deadline = time.monotonic() + 10
        while self.selected_model() != label:
            if time.monotonic() > deadline:
                raise RuntimeError(f"model {label!r} not selected: {self.selected_model()!r}")
            page.wait_for_timeout(100)

    def selected_model(self) -> str | None:
        """The name of the model the selector shows (from its ``aria-label``)."""
        button = self.page.locator(SELECTOR)
        if not button.count():
            return None
        return (button.get_attribute("aria-label") or "").removeprefix("Selected model: ")

    def send(self, text: str) -> dict[str, Any]:
        page = self.page
        before = self._answer_count()
        box = page.locator("#chat-input")
        box.click()
        page.keyboard.type(text)
        page.locator("#send-message-button").click()
        return self._wait_answer(before)

    def regenerate(self, suggestion: str | None = None) -> dict[str, Any]:
        """Regenerate on the last answer: "Try Again", or ``suggestion`` typed into the menu.

        ("Add Details" and "More Concise" in that menu send their label as such a suggestion.)
        """
        page = self.page
        last = self._last_answer()
        before = last.get_attribute("id")
        last.hover()
        last.locator('button[aria-label="Regenerate"]').first.click()
        if suggestion is None:
            page.get_by_role("button", name="Try Again").click()
        else:
            page.locator("#floating-message-input").fill(suggestion)
            page.locator("#floating-message-input").press("Enter")
        return self._wait_answer(None, replaced=before)

    def edit_user(self, index: int, text: str) -> dict[str, Any]:
        page = self.page
        message = page.locator("#messages-container div.user-message").nth(index)
        message.hover()
        message.locator("button.edit-user-message-button").click()
        editor = message.locator("textarea")
        editor.wait_for(state="visible", timeout=10_000)
        editor.fill(text)
        before = self._answer_ids()
        message.locator("#confirm-edit-message-button").click()
        return self._wait_answer(None, not_in=before)

    def edit_assistant(self, index: int, text: str) -> dict[str, Any]:
        """Edits the text of the index-th answer and saves it ("Save": no new request).

        Open WebUI keeps an answer as ``output`` items and edits them in a block editor: one
        textarea per item, the reasoning's placeholder "Reasoning text...", the text's
        "Message text..." (an answer without ``output`` gets one plain textarea).
        """
        page = self.page
        message = self._answers().nth(index)
        message.hover()
        message.locator('button[aria-label="Edit"]').first.click()
        editor = message.locator(
            'textarea[placeholder="Message text..."], textarea[id^="message-edit-"]'
        ).first
        editor.wait_for(state="visible", timeout=10_000)
        editor.fill(text)
        message.locator("#confirm-edit-message-button").click()
        editor.wait_for(state="hidden", timeout=10_000)
        page.wait_for_timeout(500)
        return {"messages": self.messages(), "chat_id": self.chat_id()}

    def messages(self) -> list[dict[str, Any]]:
        self._open_reasoning()
        return self.page.evaluate(READ_MESSAGES)

    def state(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id(),
            "url": self.page.url,
            "refused": self.refused,
            "console_errors": self.console_errors,
        }

    def screenshot(self, path: str) -> str:
        self.page.screenshot(path=path, full_page=True)
        return path

    # -- helpers -----------------------------------------------------------------------------

    def chat_id(self) -> str | None:
        path = urlsplit(self.page.url).path
        return path.split("/c/", 1)[1] if "/c/" in path else None

    def _answers(self) -> Any:
        return self.page.locator('#messages-container div[id^="message-"]:not(.user-message)')

    def _answer_count(self) -> int:
        return self._answers().count()

    def _answer_ids(self) -> list[str]:
        return [el.get_attribute("id") or "" for el in self._answers().all()]

    def _last_answer(self) -> Any:
        return self._answers().last

    def _wait_answer(
        self, before: int | None, replaced: str | None = None, not_in: list[str] | None = None
    ) -> dict[str, Any]:
        """Waits for a new answer to appear and finish; the messages then shown."""
        page = self.page
        deadline = time.monotonic() + ANSWER_TIMEOUT
        started = time.monotonic()

        def new_answer_shown() -> bool:
            ids = self._answer_ids()
            if before is not None:
                return len(ids) > before
            if replaced is not None:
                return bool(ids) and ids[-1] != replaced
            return bool(ids) and ids[-1] not in (not_in or [])

        while not new_answer_shown():
            if time.monotonic() > deadline:
                raise TimeoutError("no new answer appeared")
            page.wait_for_timeout(100)
        quiet_since = None
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer did not finish in {ANSWER_TIMEOUT}s")
            if page.evaluate(IS_BUSY):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 1.0:
                break
            page.wait_for_timeout(100)
        return {
            "messages": self.messages(),
            "chat_id": self.chat_id(),
            "seconds": round(time.monotonic() - started, 2),
        }

    def _open_reasoning(self) -> None:
        """Opens every closed "Thought for ..." block, so that its text is in the page."""
        page = self.page
        buttons = page.locator(
            '#messages-container #response-content-container button[aria-expanded="false"]'
        )
        for button in buttons.all():
            if button.inner_text().strip().startswith(("Thought", "Thinking")):
                button.click()
        page.wait_for_timeout(400)  # the slide transition

    def close(self) -> None:
        self.context.close()
        self.browser.close()
        self.playwright.stop()


def main() -> None:
    driver = Driver()
    reply({"ok": True, "result": "ready"})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            name = command.pop("cmd")
            if name == "close":
                break
            try:
                if name not in COMMANDS:
                    raise ValueError(f"unknown command {name!r}")
                result = getattr(driver, name)(**command)
                answer = {"ok": True, "result": result}
            except Exception:
                log(traceback.format_exc())
                answer = {"ok": False, "error": traceback.format_exc()}
            reply(answer)
    finally:
        driver.close()


if __name__ == "__main__":
    main()
