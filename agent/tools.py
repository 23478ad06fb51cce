"""The assistant's tools: exact arithmetic, the time anywhere, and the up-down game.

Offline and safe to expose: no network, no files, bounded work per call. A bad argument is a
:class:`ToolException`, which the agent sees as the tool's (failed) result and can correct.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import operator
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import ToolException, tool

from agent import up_down_game

MAX_EXPRESSION = 200
MAX_EXPONENT = 1000
MAX_DIGITS = 1000

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression; anything but numbers and operators is refused."""
    if len(expression) > MAX_EXPRESSION:
        raise ToolException(f"The expression is longer than {MAX_EXPRESSION} characters.")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ToolException(f"Not an arithmetic expression: {exc.msg}.") from None
    try:
        value = _value(tree.body)
    except (ZeroDivisionError, OverflowError) as exc:
        raise ToolException(f"Cannot compute it: {exc}.") from None
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        raise ToolException(f"The result has more than {MAX_DIGITS} digits.")
    return value


def _value(node: ast.expr) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if not isinstance(node.value, bool):
            return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolException(f"Exponents above {MAX_EXPONENT} are not allowed.")
        return _BINARY[type(node.op)](left, right)
    raise ToolException("Only numbers, + - * / // % ** and parentheses are allowed.")


@tool(parse_docstring=True)
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly, e.g. "2 * (3 + 4) / 5" or "2 ** 10".

    Args:
        expression: Numbers with + - * / // % ** and parentheses.

    """
    return str(evaluate(expression))


@tool(parse_docstring=True)
def current_time(timezone: str = "UTC") -> str:
    """The current date and time in a time zone.

    Args:
        timezone: An IANA time zone name, e.g. "Europe/Paris" or "Asia/Seoul".

    """
    try:
        zone = ZoneInfo(timezone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolException(f"Unknown time zone {timezone!r}; use an IANA name.") from None
    now = datetime.now(zone)
    return now.strftime("%A %Y-%m-%d %H:%M:%S %Z (UTC%z)")


@tool(parse_docstring=True)
async def play_up_down(number: int, seed: int | None = None) -> str:
    """Play the up-down game: draw numbers from 1 to 100 until one is below `number`.

    Args:
        number: The user's number; a negative one ends the game at once.
        seed: Makes the draws reproducible.

    """
    game = up_down_game.graph.ainvoke(
        {"input": number}, context=up_down_game.Context(locale="en", pace=0, seed=seed)
    )
    # its own run, not a subgraph of this one: its streamed pieces are not this answer's
    state = await asyncio.create_task(game, context=contextvars.Context())
    return f"{state['response']} (draws: {state.get('count', 0)})"


for _tool in (calculator, current_time, play_up_down):
    _tool.handle_tool_error = True

TOOLS = [calculator, current_time, play_up_down]
