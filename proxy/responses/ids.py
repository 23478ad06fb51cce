"""Response and output item ids.

An item's id names its response, so a reference to it (an ``item_reference``, or the item sent
back whole) leads to that response without a lookup.
"""

from __future__ import annotations

import re
import uuid

_ITEM = re.compile(r"^(?:msg|rs)_([0-9a-f]{32})_\d+$")


def new_response_id() -> str:
    """A fresh response id."""
    return f"resp_{uuid.uuid4().hex}"


def item_id(prefix: str, response_id: str, index: int) -> str:
    """The id of the ``index``-th output item of a response (``msg`` or ``rs``)."""
    return f"{prefix}_{response_id.removeprefix('resp_')}_{index}"


def response_of(item: str) -> str | None:
    """The response an output item belongs to, if it is one of the proxy's."""
    found = _ITEM.match(item)
    return f"resp_{found.group(1)}" if found else None
