"""The OpenAPI schemas of a feed's own options (issue 16): as shown (a secret only as "set") and
as changed (``store.feed_options.check_changes`` checks them)."""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
BOOL = {"type": "boolean"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    names = list(properties) if required is None else required
    if names:
        schema["required"] = names
    return schema


SECRET_SET = nullable({"type": "string", "enum": ["set"]})  # a secret is never shown back

FEED_OPTION_SCHEMAS: dict[str, Any] = {
    "FeedOptions": obj(
        {
            "user_agent": nullable(STRING),
            "fulltext": nullable(BOOL),
            "extract_body": nullable(STRING),
            "extract_drop": array(STRING),
            "ignore_cache_hints": BOOL,
            "unwrap_redirects": BOOL,
            **{name: SECRET_SET for name in ("cookie", "headers", "username", "password")},
        }
    ),
    "FeedOptionChanges": {
        **obj(
            {
                "user_agent": nullable(STRING),
                "cookie": nullable(STRING),
                "headers": nullable(array(STRING)),
                "username": nullable(STRING),
                "password": nullable(STRING),
                "fulltext": nullable(BOOL),
                "extract_body": nullable(STRING),
                "extract_drop": nullable(array(STRING)),
                "interval": nullable(
                    {"type": "string", "description": "seconds, or 30m, 2h, 1d; null: adaptive"}
                ),
                "ignore_cache_hints": BOOL,
                "unwrap_redirects": BOOL,
            },
            required=[],
        ),
        "additionalProperties": False,
        "description": "how the feed is fetched; a secret (cookie, headers, username, password) "
        "is stored encrypted, shown only as 'set', and makes the feed your private copy",
    },
}

_LIMIT = {"type": "integer", "minimum": 1, "nullable": True}
RETENTION_PROPERTIES: dict[str, Any] = {
    "keep_days": {**_LIMIT, "maximum": 36_500, "description": "days after first seen"},
    "keep_read_days": {**_LIMIT, "maximum": 36_500, "description": "days, once read"},
    "keep_last": {**_LIMIT, "maximum": 10_000_000, "description": "the feed's newest entries"},
}
# The person's own retention keys for one feed (issue 16): each key given replaces their
# default's (null: no such limit for this feed); null for the whole object: their default.
FEED_RETENTION: dict[str, Any] = {
    "type": "object",
    "properties": RETENTION_PROPERTIES,
    "additionalProperties": False,
    "nullable": True,
    "description": "your retention for this feed: the keys set replace your default's "
    "(GET /api/retention); null: your default",
}
