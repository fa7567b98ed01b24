"""The parts of the native API's OpenAPI document that handlers share: the component schemas
(``SCHEMAS``), the common parameters (the entry filters, paging, timeline format) and answers
(bad input, no such resource), and small builders for the rest. Each operation itself is
declared next to its handler (``web.routing.Doc``); ``web.api.openapi`` assembles the
document."""

from __future__ import annotations

from typing import Any

from newsdesk.web.api.openapi_feed_options import FEED_OPTION_SCHEMAS, FEED_RETENTION

JSON = "application/json"


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
TIME = nullable({"type": "string", "format": "date-time"})
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # store ids are 32-bit


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    names = list(properties) if required is None else required
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if names:  # OpenAPI 3.0 wants a non-empty list, or none at all
        schema["required"] = names
    return schema


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {"error": obj({"status": INT, "message": STRING})},
    ),
    "Feed": obj(
        {
            "id": INT,
            "url": STRING,
            "title": STRING,
            "custom_title": nullable(STRING),
            "site_url": nullable(STRING),
            "category": nullable(STRING),
            "category_id": nullable(INT),
            "last_status": nullable(INT),
            "error_count": INT,
            "last_error": nullable(STRING),
            "last_fetched": TIME,
            "next_check": TIME,
            "check_interval": nullable(INT),
            "entries_per_day": nullable({"type": "number"}),
            "paused": BOOL,
            "paused_reason": nullable(STRING),
            "moved_from": nullable(STRING),
            "problems": array(STRING),
            "unread": INT,
            "entries": INT,
            "private": BOOL,
            "options": ref("FeedOptions"),
            "retention": FEED_RETENTION,
        }
    ),
    **FEED_OPTION_SCHEMAS,
    "NewFeed": obj(
        {
            "url": {"type": "string", "description": "the feed, or a page that links to one"},
            "title": STRING,
            "category": STRING,
            "check": {
                "type": "boolean",
                "description": "fetch the URL first and find its feed (default true)",
            },
            "options": ref("FeedOptionChanges"),
        },
        required=["url"],
    ),
    "FeedChanges": {
        **obj(
            {
                "title": nullable(STRING),
                "category": nullable(STRING),
                "paused": BOOL,
                "check_interval": nullable({"type": "integer", "minimum": 60}),
                "options": ref("FeedOptionChanges"),
                "retention": FEED_RETENTION,
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Category": obj({"id": INT, "title": STRING, "feeds": INT, "unread": INT}),
    "Enclosure": obj({"url": STRING, "type": nullable(STRING), "length": nullable(INT)}),
    "Entry": obj(
        {
            "id": INT,
            "feed_id": INT,
            "feed_title": nullable(STRING),
            "category": nullable(STRING),
            "kind": {"type": "string", "enum": ["post", "article"]},
            "title": nullable(STRING),
            "author": nullable(STRING),
            "url": nullable(STRING),
            "published": TIME,
            "updated": TIME,
            "first_seen": TIME,
            "content_text": STRING,
            "content_html": STRING,
            "summary_html": nullable(STRING),
            "tags": array(STRING),
            "links": array(STRING),
            "related": array(INT),
            "enclosures": array(ref("Enclosure")),
            "reposted_by": nullable(STRING),
            "reply_to": nullable(STRING),
            "language": nullable(STRING),
            "read": BOOL,
            "starred": BOOL,
            "story_id": nullable(INT),
            "fulltext_status": nullable(STRING),
            "fulltext_error": nullable(STRING),
            "page": nullable({"type": "object"}),
            "snippet": {"type": "string", "description": "search results only: matches in []"},
            "story_entries": {
                "type": "array",
                "items": {"type": "object"},
                "description": "with group=story only: the story's other entries on this page",
            },
        },
        required=[
            "id",
            "feed_id",
            "kind",
            "title",
            "url",
            "published",
            "content_text",
            "content_html",
            "tags",
            "related",
            "read",
            "starred",
        ],
    ),
    "EntryPage": obj({"total": INT, "limit": INT, "offset": INT, "entries": array(ref("Entry"))}),
    "EntryFlags": {
        **obj({"read": BOOL, "starred": BOOL}, required=[]),
        "additionalProperties": False,
    },
    "BulkState": {
        **obj(
            {
                "ids": {**array({"type": "integer", "minimum": 1}), "minItems": 1},
                "read": BOOL,
                "starred": BOOL,
                "feed": {"type": "integer", "description": "mark this feed's entries read"},
                "category": {"type": "string", "description": "mark this category read"},
                "before": {
                    "type": "string",
                    "description": "only entries published before (ISO date or 24h, 7d …)",
                },
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Updated": obj({"updated": INT}),
    "StoryMarked": obj(
        {
            "story_id": INT,
            "read": BOOL,
            "changed": {**INT, "description": "entries whose state changed"},
        }
    ),
    "Related": obj(
        {
            "entries": array(ref("Entry")),
            "shared": array(obj({"title": STRING, "url": STRING})),
        }
    ),
    "ImportReport": obj({"added": INT, "skipped": INT, "feeds": array(ref("Feed"))}),
    "RefreshRequest": {
        **obj(
            {"feeds": nullable({**array({"type": "integer", "minimum": 1}), "minItems": 1})},
            required=[],
        ),
        "additionalProperties": False,
    },
    "RefreshJob": obj(
        {
            "id": INT,
            "status": {"type": "string", "enum": ["running", "done", "failed"]},
            "stage": STRING,
            "done": INT,
            "total": INT,
            "percent": INT,
            "feed_ids": nullable(array(INT)),
            "summary": nullable(STRING),
            "new_entries": INT,
            "errors": array(obj({"feed": STRING, "error": STRING})),
            "failure": nullable(STRING),
            "url": STRING,
        }
    ),
    "Token": obj(
        {"id": INT, "name": STRING, "prefix": STRING, "created_at": TIME, "last_used_at": TIME}
    ),
    "NewToken": obj(
        {
            "id": INT,
            "name": STRING,
            "prefix": STRING,
            "created_at": TIME,
            "last_used_at": TIME,
            "key": {"type": "string", "description": "the key itself: shown only this once"},
        }
    ),
    "TokenName": obj({"name": {"type": "string", "minLength": 1, "maxLength": 200}}),
    "Person": obj(
        {
            "id": INT,
            "name": STRING,
            "role": {"type": "string", "enum": ["admin", "member"]},
            "created": STRING,
            "last_login": nullable(STRING),
            "two_factor": BOOL,
            "fever": BOOL,
        }
    ),
    # Reading habits (docs/web.md): defaults false and true.
    "Preferences": obj({"mark_read_on_scroll": BOOL, "mark_read_on_open": BOOL}, required=[]),
    "MeChanges": obj({"preferences": ref("Preferences")}, required=[]),
    "NewPerson": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 150},
            "password": {"type": "string", "minLength": 8, "maxLength": 1024},
            "role": {"type": "string", "enum": ["admin", "member"], "default": "member"},
        },
        required=["name", "password"],
    ),
    "PersonChanges": obj(
        {
            "role": {"type": "string", "enum": ["admin", "member"]},
            "password": {"type": "string", "minLength": 8, "maxLength": 1024},
        },
        required=[],
    ),
    "Story": obj(
        {
            "id": INT,
            "title": nullable(STRING),
            "lead_entry_id": nullable(INT),
            "size": {"type": "integer", "description": "member entries"},
            "sources": {"type": "integer", "description": "distinct feeds among the members"},
            "first_published": TIME,
            "last_published": TIME,
        },
        required=["id", "title", "lead_entry_id", "size", "sources"],
    ),
    "StoryPage": obj(
        {"limit": INT, "offset": INT, "min_size": INT, "stories": array(ref("Story"))}
    ),
    "Entity": obj(
        {
            "id": INT,
            "kind": {"type": "string", "enum": ["person", "org", "place"]},
            "key": {"type": "string", "description": "the normalised name variants share"},
            "name": STRING,
            "aliases": array(STRING),
            "mention_count": INT,
            "entry_count": INT,
            "first_seen": TIME,
            "last_seen": TIME,
        },
        required=["id", "kind", "key", "name", "aliases", "mention_count", "entry_count"],
    ),
    "EntityCount": obj(
        {
            "entity": ref("Entity"),
            "entries": {"type": "integer", "description": "entries mentioning both"},
        }
    ),
    "EntityPage": obj({"limit": INT, "offset": INT, "entities": array(ref("Entity"))}),
    "TimelineEvent": obj(
        {
            "id": INT,
            "date": {"type": "string", "description": "ISO date, first day of a month or year"},
            "precision": {"type": "string", "enum": ["day", "month", "year"]},
            "sentence": STRING,
            "position": INT,
            "entry_id": INT,
            "entry_title": nullable(STRING),
            "entry_url": nullable(STRING),
            "feed_title": nullable(STRING),
            "published": TIME,
            "story_id": nullable(INT),
        },
        required=["date", "precision", "sentence", "entry_id"],
    ),
    "Channels": {
        **obj(
            {
                "webhook": {
                    **obj(
                        {
                            "url": {"type": "string", "format": "uri"},
                            "secret": {
                                "type": "string",
                                "description": "HMAC key of X-Newsdesk-Signature (a random one "
                                "when none is given); masked in answers",
                            },
                        },
                        required=["url"],
                    ),
                    "additionalProperties": False,
                },
                "email": {
                    **obj({"to": {**array(STRING), "minItems": 1}}),
                    "additionalProperties": False,
                },
                "ntfy": {
                    **obj(
                        {
                            "url": {"type": "string", "format": "uri"},
                            "token": {"type": "string", "description": "bearer token; masked"},
                            "priority": {
                                "description": "1-5, or min, low, default, high, max",
                                "oneOf": [
                                    {"type": "integer", "minimum": 1, "maximum": 5},
                                    {"type": "string"},
                                ],
                            },
                            "tags": array(STRING),
                        },
                        required=["url"],
                    ),
                    "additionalProperties": False,
                },
            },
            required=[],
        ),
        "additionalProperties": False,
        "description": "where alerts go: at least one channel",
    },
    "Watchlist": obj(
        {
            "id": INT,
            "name": STRING,
            "query": {"type": "string", "description": "search words; empty: any"},
            "entity_ids": array(INT),
            "categories": array(STRING),
            "feed_ids": array(INT),
            "channels": {"type": "object", "description": "as sent, secrets masked"},
            "mode": {"type": "string", "enum": ["instant", "hourly", "daily"]},
            "enabled": BOOL,
            "created_at": TIME,
            "last_digest_at": TIME,
        },
        required=[
            "id",
            "name",
            "query",
            "entity_ids",
            "categories",
            "feed_ids",
            "channels",
            "mode",
            "enabled",
            "created_at",
        ],
    ),
    "NewWatchlist": {
        **obj(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "query": {"type": "string", "maxLength": 1000},
                "entity_ids": array(ID),
                "categories": array({"type": "string", "minLength": 1, "maxLength": 300}),
                "feed_ids": array(ID),
                "channels": ref("Channels"),
                "mode": {
                    "type": "string",
                    "enum": ["instant", "hourly", "daily"],
                    "default": "instant",
                },
            },
            required=["name", "channels"],
        ),
        "additionalProperties": False,
        "description": "an entry matches when every criterion given holds (any of the "
        "entities, any of the categories, any of the feeds)",
    },
    "WatchlistChanges": {
        **obj(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "query": {"type": "string", "maxLength": 1000},
                "entity_ids": array(ID),
                "categories": array({"type": "string", "minLength": 1, "maxLength": 300}),
                "feed_ids": array(ID),
                "channels": ref("Channels"),
                "mode": {"type": "string", "enum": ["instant", "hourly", "daily"]},
                "enabled": BOOL,
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Alert": obj(
        {
            "id": INT,
            "watchlist_id": INT,
            "watchlist": {"type": "string", "description": "the watchlist's name"},
            "entry_id": INT,
            "entry_title": nullable(STRING),
            "entry_url": nullable(STRING),
            "channel": {"type": "string", "enum": ["webhook", "email", "ntfy"]},
            "status": {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
            "attempts": INT,
            "error": nullable(STRING),
            "created_at": TIME,
            "sent_at": TIME,
        },
        required=["id", "watchlist_id", "entry_id", "channel", "status"],
    ),
    "Index": obj(
        {
            "name": STRING,
            "version": STRING,
            "openapi": STRING,
            "docs": STRING,
            "compatible": {"type": "object"},
        }
    ),
}


def _extend(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Schema ``name`` with more properties (all required): a detail view of a list item."""
    base = SCHEMAS[name]
    return {
        "type": "object",
        "properties": {**base["properties"], **properties},
        "required": [*base.get("required", []), *properties],
    }


SCHEMAS["Me"] = _extend("Person", {"preferences": ref("Preferences")})
SCHEMAS["StoryDetail"] = _extend(
    "Story",
    {
        "entries": {
            **array(ref("Entry")),
            "description": "the members, oldest first (at most 500)",
        },
        "entities": {
            **array(ref("EntityCount")),
            "description": "entities the members mention, in most members first",
        },
    },
)
SCHEMAS["EntityDetail"] = _extend(
    "Entity",
    {
        "bucket": {"type": "string", "enum": ["day", "week", "month"]},
        "mentions": {
            **array(
                obj(
                    {
                        "date": {"type": "string", "description": "first day of the period"},
                        "entries": INT,
                    }
                )
            ),
            "description": "entries mentioning it per period, oldest first",
        },
        "co_mentions": {
            **array(ref("EntityCount")),
            "description": "the entities most often mentioned with it",
        },
        "stories": {**array(ref("Story")), "description": "stories it appears in, newest first"},
    },
)


def error_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
        "description": description,
    }


BAD = error_answer("malformed input: the message says what is wrong")
MISSING = error_answer("no such resource")

ENTRY_FILTERS = [
    query_param("category", STRING, "only this category (its title)"),
    query_param("feed", ID, "only this subscription (id)"),
    query_param("tag", STRING, "only entries with this tag"),
    query_param("kind", {"type": "string", "enum": ["post", "article"]}, "posts or articles"),
    query_param(
        "status",
        {"type": "string", "enum": ["read", "unread", "all"], "default": "all"},
        "read state",
    ),
    query_param("starred", BOOL, "only starred (true) or not starred (false) entries"),
    query_param("since", STRING, "published at or after: 24h, 7d, 2024-02-27 or an ISO time"),
    query_param("before", STRING, "published before: a duration back from now or an ISO time"),
    query_param("search", STRING, "full-text search words (best matches first)"),
    query_param(
        "order",
        {"type": "string", "enum": ["newest", "oldest"], "default": "newest"},
        "sort by publication time",
    ),
    query_param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "page size",
    ),
    query_param(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 1000000000, "default": 0},
        "entries to skip",
    ),
]


STORY_FILTER = query_param("story_id", ID, "only this story's entries")
GROUP = query_param(
    "group",
    {"type": "string", "enum": ["story"]},
    "`story`: a story's other entries on the page come once, in `story_entries` of its first",
)
ENTITY_FILTER = query_param("entity_id", ID, "only entries that mention this entity")
PAGE = [
    query_param(
        "limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"
    ),
    query_param(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 1000000000, "default": 0},
        "items to skip",
    ),
]
TIMELINE_FORMAT = query_param(
    "format",
    {"type": "string", "enum": ["json", "csv"], "default": "json"},
    "json, or csv (a download)",
)
TIMELINE_ANSWER = {
    "description": "the events, by date (then publication time, then place in the entry)",
    "content": {
        JSON: {"schema": array(ref("TimelineEvent"))},
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "header: date,precision,sentence,entry_id,entry_title,"
                "entry_url,feed_title,published",
            }
        },
    },
}
