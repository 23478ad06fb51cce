"""What the real OpenAI clients (test_clients_js.py, test_clients_litellm.py) must see.

The up-down game, fast and in English, answering "-9". The LiteLLM probe
(``litellm_probe.py``) runs in its own venv and does not import this package.
"""

FAST_EN = {"pace": 0, "seed": 11, "locale": "en"}
ANSWER = "You entered -9, which is less than 0."
PIECES = 7
PROGRESS = "User input: -9\n"
# the proxy's own count (README "Usage"): one token per delta, progress ones are reasoning;
# prompt = ceil(len("-9") / 4)
USAGE = {"prompt_tokens": 1, "completion_tokens": PIECES + 1, "total_tokens": PIECES + 2}
REASONING_TOKENS = 1
