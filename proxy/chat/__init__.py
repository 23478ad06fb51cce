"""``/v1/chat/completions``.

``router`` (HTTP), ``protocol`` (the request), ``render`` (the wire shapes), ``serving`` (a
run as a completion).
"""
