"""``/v1/responses``: the OpenAI Responses API.

``router`` (HTTP), ``protocol`` (the request and its input items), ``render`` (the Response
object and its events), ``serving`` (a run as a response), ``threads`` and ``records`` (stored
responses, continued on their LangGraph threads), ``ids``.
"""
