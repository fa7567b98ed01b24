"""What the Google Reader API's modules (``greader``, ``greader_tags``) share: the stream and
item id forms, and the plain-text error answer.

Item ids are accepted in the long form ``tag:google.com,2005:reader/item/<16 hex>``, as 16 hex
digits, and in the decimal short form (negative for Java clients above 2^63); answers use the
long form. ``user/1/…`` and ``user/-/…`` name the same stream.
"""

from __future__ import annotations

import re

from starlette.responses import PlainTextResponse, Response

from newsdesk.web.api.errors import BadRequest

PREFIX = "/reader/api/0"
LONG_PREFIX = "tag:google.com,2005:reader/item/"
READING_LIST = "user/-/state/com.google/reading-list"
STATE_READ = "user/-/state/com.google/read"
STATE_STARRED = "user/-/state/com.google/starred"
STATE_KEPT_UNREAD = "user/-/state/com.google/kept-unread"
LABEL_PREFIX = "user/-/label/"
MAX_CONTENTS = 1000
MAX_IDS = 10_000
_USER_STREAM = re.compile(r"^user/[^/]*/(state/com\.google|label)/(.+)$")
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if status == 401:
        # As Google did and FreshRSS does: clients read this header as "log in again".
        message = "Unauthorized"
        headers = {**(headers or {}), "Google-Bad-Token": "true"}
    return PlainTextResponse(message, status_code=status, headers=headers)


def long_id(entry_id: int) -> str:
    return f"{LONG_PREFIX}{entry_id:016x}"


def parse_item_id(raw: str) -> int:
    """An item id in any of the forms clients send; 400 for anything else."""
    value = raw.strip()
    if value.startswith(LONG_PREFIX):
        hex_part = value[len(LONG_PREFIX) :]
        if not _HEX16.match(hex_part) and not re.fullmatch(r"[0-9a-fA-F]{1,16}", hex_part):
            raise BadRequest(f"not an item id: {raw[:80]!r}")
        number = int(hex_part, 16)
    elif value.isdigit() and len(value) <= 19:
        number = int(value)
    elif _HEX16.match(value):
        number = int(value, 16)
    elif value.startswith("-") and value[1:].isdigit() and len(value) <= 20:
        # Java clients send ids above 2^63 as negative numbers.
        number = int(value) + 2**64
    else:
        raise BadRequest(f"not an item id: {raw[:80]!r}")
    if not 0 < number < 2**63:
        raise BadRequest(f"not an item id: {raw[:80]!r}")
    return number


def item_ids(raw_ids: list[str], limit: int) -> list[int]:
    """The ``i`` parameters of a request: at least one, at most ``limit``; 400 otherwise."""
    if not raw_ids:
        raise BadRequest("i (one or more item ids) is required")
    if len(raw_ids) > limit:
        raise BadRequest(f"at most {limit} items at once")
    return [parse_item_id(i) for i in raw_ids]


def normalize_stream(stream: str) -> str:
    """``user/1/state/…`` and ``user/-/state/…`` are the same stream."""
    match = _USER_STREAM.match(stream.strip())
    if match:
        kind, name = match.groups()
        return f"user/-/{kind}/{name}"
    return stream.strip()


def label_name(stream: str) -> str | None:
    """NAME of ``user/-/label/NAME`` (or ``user/ID/label/NAME``), else None."""
    stream = normalize_stream(stream)
    if stream.startswith(LABEL_PREFIX) and stream[len(LABEL_PREFIX) :].strip():
        return stream[len(LABEL_PREFIX) :].strip()
    return None
