"""The OpenAPI 3 document of the native API (``/api/openapi.json``), written by hand next to the
routes it describes (a test checks that both list the same operations and that answers match
the schemas), and ``/api/docs``: the same document as one plain HTML page, no script, no CDN."""

from __future__ import annotations

from functools import cache
from html import escape
from typing import Any

from newsdesk import __version__

JSON = "application/json"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
TIME = _nullable({"type": "string", "format": "date-time"})
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # store ids are 32-bit


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    names = list(properties) if required is None else required
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if names:  # OpenAPI 3.0 wants a non-empty list, or none at all
        schema["required"] = names
    return schema


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {"error": _object({"status": INT, "message": STRING})},
    ),
    "Feed": _object(
        {
            "id": INT,
            "url": STRING,
            "title": STRING,
            "custom_title": _nullable(STRING),
            "site_url": _nullable(STRING),
            "category": _nullable(STRING),
            "category_id": _nullable(INT),
            "last_status": _nullable(INT),
            "error_count": INT,
            "last_error": _nullable(STRING),
            "last_fetched": TIME,
            "next_check": TIME,
            "check_interval": _nullable(INT),
            "entries_per_day": _nullable({"type": "number"}),
            "paused": BOOL,
            "paused_reason": _nullable(STRING),
            "moved_from": _nullable(STRING),
            "problems": _array(STRING),
            "unread": INT,
            "entries": INT,
        }
    ),
    "NewFeed": _object(
        {
            "url": {"type": "string", "description": "the feed, or a page that links to one"},
            "title": STRING,
            "category": STRING,
            "check": {
                "type": "boolean",
                "description": "fetch the URL first and find its feed (default true)",
            },
        },
        required=["url"],
    ),
    "FeedChanges": {
        **_object(
            {
                "title": _nullable(STRING),
                "category": _nullable(STRING),
                "paused": BOOL,
                "check_interval": _nullable({"type": "integer", "minimum": 60}),
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Category": _object({"id": INT, "title": STRING, "feeds": INT, "unread": INT}),
    "Enclosure": _object({"url": STRING, "type": _nullable(STRING), "length": _nullable(INT)}),
    "Entry": _object(
        {
            "id": INT,
            "feed_id": INT,
            "feed_title": _nullable(STRING),
            "category": _nullable(STRING),
            "kind": {"type": "string", "enum": ["post", "article"]},
            "title": _nullable(STRING),
            "author": _nullable(STRING),
            "url": _nullable(STRING),
            "published": TIME,
            "updated": TIME,
            "first_seen": TIME,
            "content_text": STRING,
            "content_html": STRING,
            "summary_html": _nullable(STRING),
            "tags": _array(STRING),
            "links": _array(STRING),
            "related": _array(INT),
            "enclosures": _array(_ref("Enclosure")),
            "reposted_by": _nullable(STRING),
            "reply_to": _nullable(STRING),
            "language": _nullable(STRING),
            "read": BOOL,
            "starred": BOOL,
            "story_id": _nullable(INT),
            "fulltext_status": _nullable(STRING),
            "fulltext_error": _nullable(STRING),
            "page": _nullable({"type": "object"}),
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
    "EntryPage": _object(
        {"total": INT, "limit": INT, "offset": INT, "entries": _array(_ref("Entry"))}
    ),
    "EntryFlags": {
        **_object({"read": BOOL, "starred": BOOL}, required=[]),
        "additionalProperties": False,
    },
    "BulkState": {
        **_object(
            {
                "ids": {**_array({"type": "integer", "minimum": 1}), "minItems": 1},
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
    "Updated": _object({"updated": INT}),
    "StoryMarked": _object(
        {
            "story_id": INT,
            "read": BOOL,
            "changed": {**INT, "description": "entries whose state changed"},
        }
    ),
    "Related": _object(
        {
            "entries": _array(_ref("Entry")),
            "shared": _array(_object({"title": STRING, "url": STRING})),
        }
    ),
    "ImportReport": _object({"added": INT, "skipped": INT, "feeds": _array(_ref("Feed"))}),
    "RefreshRequest": {
        **_object(
            {"feeds": _nullable({**_array({"type": "integer", "minimum": 1}), "minItems": 1})},
            required=[],
        ),
        "additionalProperties": False,
    },
    "RefreshJob": _object(
        {
            "id": INT,
            "status": {"type": "string", "enum": ["running", "done", "failed"]},
            "stage": STRING,
            "done": INT,
            "total": INT,
            "percent": INT,
            "feed_ids": _nullable(_array(INT)),
            "summary": _nullable(STRING),
            "new_entries": INT,
            "errors": _array(_object({"feed": STRING, "error": STRING})),
            "failure": _nullable(STRING),
            "url": STRING,
        }
    ),
    "Token": _object(
        {"id": INT, "name": STRING, "prefix": STRING, "created_at": TIME, "last_used_at": TIME}
    ),
    "NewToken": _object(
        {
            "id": INT,
            "name": STRING,
            "prefix": STRING,
            "created_at": TIME,
            "last_used_at": TIME,
            "key": {"type": "string", "description": "the key itself: shown only this once"},
        }
    ),
    "TokenName": _object({"name": {"type": "string", "minLength": 1, "maxLength": 200}}),
    "Story": _object(
        {
            "id": INT,
            "title": _nullable(STRING),
            "lead_entry_id": _nullable(INT),
            "size": {"type": "integer", "description": "member entries"},
            "sources": {"type": "integer", "description": "distinct feeds among the members"},
            "first_published": TIME,
            "last_published": TIME,
        },
        required=["id", "title", "lead_entry_id", "size", "sources"],
    ),
    "StoryPage": _object(
        {"limit": INT, "offset": INT, "min_size": INT, "stories": _array(_ref("Story"))}
    ),
    "Entity": _object(
        {
            "id": INT,
            "kind": {"type": "string", "enum": ["person", "org", "place"]},
            "key": {"type": "string", "description": "the normalised name variants share"},
            "name": STRING,
            "aliases": _array(STRING),
            "mention_count": INT,
            "entry_count": INT,
            "first_seen": TIME,
            "last_seen": TIME,
        },
        required=["id", "kind", "key", "name", "aliases", "mention_count", "entry_count"],
    ),
    "EntityCount": _object(
        {
            "entity": _ref("Entity"),
            "entries": {"type": "integer", "description": "entries mentioning both"},
        }
    ),
    "EntityPage": _object({"limit": INT, "offset": INT, "entities": _array(_ref("Entity"))}),
    "TimelineEvent": _object(
        {
            "id": INT,
            "date": {"type": "string", "description": "ISO date, first day of a month or year"},
            "precision": {"type": "string", "enum": ["day", "month", "year"]},
            "sentence": STRING,
            "position": INT,
            "entry_id": INT,
            "entry_title": _nullable(STRING),
            "entry_url": _nullable(STRING),
            "feed_title": _nullable(STRING),
            "published": TIME,
            "story_id": _nullable(INT),
        },
        required=["date", "precision", "sentence", "entry_id"],
    ),
    "Channels": {
        **_object(
            {
                "webhook": {
                    **_object(
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
                    **_object({"to": {**_array(STRING), "minItems": 1}}),
                    "additionalProperties": False,
                },
                "ntfy": {
                    **_object(
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
                            "tags": _array(STRING),
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
    "Watchlist": _object(
        {
            "id": INT,
            "name": STRING,
            "query": {"type": "string", "description": "search words; empty: any"},
            "entity_ids": _array(INT),
            "categories": _array(STRING),
            "feed_ids": _array(INT),
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
        **_object(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "query": {"type": "string", "maxLength": 1000},
                "entity_ids": _array(ID),
                "categories": _array({"type": "string", "minLength": 1, "maxLength": 300}),
                "feed_ids": _array(ID),
                "channels": _ref("Channels"),
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
        **_object(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "query": {"type": "string", "maxLength": 1000},
                "entity_ids": _array(ID),
                "categories": _array({"type": "string", "minLength": 1, "maxLength": 300}),
                "feed_ids": _array(ID),
                "channels": _ref("Channels"),
                "mode": {"type": "string", "enum": ["instant", "hourly", "daily"]},
                "enabled": BOOL,
            },
            required=[],
        ),
        "additionalProperties": False,
    },
    "Alert": _object(
        {
            "id": INT,
            "watchlist_id": INT,
            "watchlist": {"type": "string", "description": "the watchlist's name"},
            "entry_id": INT,
            "entry_title": _nullable(STRING),
            "entry_url": _nullable(STRING),
            "channel": {"type": "string", "enum": ["webhook", "email", "ntfy"]},
            "status": {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
            "attempts": INT,
            "error": _nullable(STRING),
            "created_at": TIME,
            "sent_at": TIME,
        },
        required=["id", "watchlist_id", "entry_id", "channel", "status"],
    ),
    "Index": _object(
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


SCHEMAS["StoryDetail"] = _extend(
    "Story",
    {
        "entries": {
            **_array(_ref("Entry")),
            "description": "the members, oldest first (at most 500)",
        },
        "entities": {
            **_array(_ref("EntityCount")),
            "description": "entities the members mention, in most members first",
        },
    },
)
SCHEMAS["EntityDetail"] = _extend(
    "Entity",
    {
        "bucket": {"type": "string", "enum": ["day", "week", "month"]},
        "mentions": {
            **_array(
                _object(
                    {
                        "date": {"type": "string", "description": "first day of the period"},
                        "entries": INT,
                    }
                )
            ),
            "description": "entries mentioning it per period, oldest first",
        },
        "co_mentions": {
            **_array(_ref("EntityCount")),
            "description": "the entities most often mentioned with it",
        },
        "stories": {**_array(_ref("Story")), "description": "stories it appears in, newest first"},
    },
)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
        "description": description,
    }


UNAUTHORIZED = _error("missing or wrong credentials")
BAD = _error("malformed input: the message says what is wrong")
MISSING = _error("no such resource")

ENTRY_FILTERS = [
    _query("category", STRING, "only this category (its title)"),
    _query("feed", ID, "only this subscription (id)"),
    _query("tag", STRING, "only entries with this tag"),
    _query("kind", {"type": "string", "enum": ["post", "article"]}, "posts or articles"),
    _query(
        "status",
        {"type": "string", "enum": ["read", "unread", "all"], "default": "all"},
        "read state",
    ),
    _query("starred", BOOL, "only starred (true) or not starred (false) entries"),
    _query("since", STRING, "published at or after: 24h, 7d, 2024-02-27 or an ISO time"),
    _query("before", STRING, "published before: a duration back from now or an ISO time"),
    _query("search", STRING, "full-text search words (best matches first)"),
    _query(
        "order",
        {"type": "string", "enum": ["newest", "oldest"], "default": "newest"},
        "sort by publication time",
    ),
    _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "page size",
    ),
    _query(
        "offset",
        {"type": "integer", "minimum": 0, "maximum": 1000000000, "default": 0},
        "entries to skip",
    ),
]


STORY_FILTER = _query("story_id", ID, "only this story's entries")
GROUP = _query(
    "group",
    {"type": "string", "enum": ["story"]},
    "`story`: a story's other entries on the page come once, in `story_entries` of its first",
)
ENTITY_FILTER = _query("entity_id", ID, "only entries that mention this entity")
PAGE = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 1000000000, "default": 0},
           "items to skip"),
]  # fmt: skip
TIMELINE_FORMAT = _query(
    "format",
    {"type": "string", "enum": ["json", "csv"], "default": "json"},
    "json, or csv (a download)",
)
TIMELINE_ANSWER = {
    "description": "the events, by date (then publication time, then place in the entry)",
    "content": {
        JSON: {"schema": _array(_ref("TimelineEvent"))},
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "header: date,precision,sentence,entry_id,entry_title,"
                "entry_url,feed_title,published",
            }
        },
    },
}


def _operation(
    summary: str,
    responses: dict[str, Any],
    *,
    tag: str,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    if public:
        operation["security"] = []
    else:
        responses.setdefault("401", UNAUTHORIZED)
    return operation


def _paths() -> dict[str, Any]:
    feed_id = _path("feed_id", "subscription id")
    entry_id = _path("entry_id", "entry id")
    return {
        "/api/": {
            "get": _operation(
                "What this API is and where its documents are",
                {"200": _json("the index", _ref("Index"))},
                tag="documents",
                public=True,
            )
        },
        "/api/openapi.json": {
            "get": _operation(
                "This document",
                {"200": _json("the OpenAPI document", {"type": "object"})},
                tag="documents",
                public=True,
            )
        },
        "/api/docs": {
            "get": _operation(
                "This document as an HTML page",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": STRING}}}},
                tag="documents",
                public=True,
            )
        },
        "/api/subscriptions": {
            "get": _operation(
                "List subscriptions with their fetch state and entry counts",
                {"200": _json("subscriptions", _array(_ref("Feed")))},
                tag="subscriptions",
            ),
            "post": _operation(
                "Subscribe to a feed (or to the feed a page links to)",
                {
                    "201": _json("the new subscription", _ref("Feed")),
                    "400": BAD,
                    "409": _error("already subscribed"),
                },
                tag="subscriptions",
                body=_body(_ref("NewFeed")),
            ),
        },
        "/api/subscriptions/{feed_id}": {
            "get": _operation(
                "One subscription",
                {"200": _json("the subscription", _ref("Feed")), "404": MISSING},
                tag="subscriptions",
                parameters=[feed_id],
            ),
            "patch": _operation(
                "Rename, recategorise, pause or resume a subscription, or set its interval",
                {
                    "200": _json("the subscription", _ref("Feed")),
                    "400": BAD,
                    "404": MISSING,
                },
                tag="subscriptions",
                parameters=[feed_id],
                body=_body(_ref("FeedChanges")),
            ),
            "delete": _operation(
                "Unsubscribe (the feed's entries are deleted)",
                {"204": {"description": "gone"}, "404": MISSING},
                tag="subscriptions",
                parameters=[feed_id],
            ),
        },
        "/api/categories": {
            "get": _operation(
                "Categories with their feed and unread counts",
                {"200": _json("categories", _array(_ref("Category")))},
                tag="categories",
            )
        },
        "/api/entries": {
            "get": _operation(
                "Entries, newest first, filtered; with search, best matches first",
                {"200": _json("a page of entries", _ref("EntryPage")), "400": BAD},
                tag="entries",
                parameters=[*ENTRY_FILTERS, STORY_FILTER, ENTITY_FILTER, GROUP],
            )
        },
        "/api/entries/state": {
            "post": _operation(
                "Mark many entries read/unread/starred at once",
                {"200": _json("how many entries changed", _ref("Updated")), "400": BAD},
                tag="entries",
                body=_body(_ref("BulkState")),
                description="Either `ids` (with `read` and/or `starred`), or `feed`, "
                "`category` and/or `before` with `read` to mark everything they match.",
            )
        },
        "/api/entries/{entry_id}": {
            "get": _operation(
                "One entry",
                {"200": _json("the entry", _ref("Entry")), "404": MISSING},
                tag="entries",
                parameters=[entry_id],
            ),
            "patch": _operation(
                "Mark one entry read/unread, starred/not starred",
                {"200": _json("the entry", _ref("Entry")), "400": BAD, "404": MISSING},
                tag="entries",
                parameters=[entry_id],
                body=_body(_ref("EntryFlags")),
            ),
        },
        "/api/entries/{entry_id}/related": {
            "get": _operation(
                "Entries about the same link, and the articles a post shares",
                {"200": _json("related entries", _ref("Related")), "404": MISSING},
                tag="entries",
                parameters=[entry_id],
            )
        },
        "/api/digest": {
            "get": _operation(
                "A digest of recent entries",
                {
                    "200": {
                        "description": "the digest in the format asked for",
                        "content": {
                            "application/json": {"schema": {}},
                            "text/plain": {"schema": STRING},
                            "text/markdown": {"schema": STRING},
                            "text/html": {"schema": STRING},
                        },
                    },
                    "400": BAD,
                },
                tag="digest",
                parameters=[
                    _query("since", STRING, "how far back (default 24h)"),
                    _query("category", STRING, "only this category"),
                    _query(
                        "format",
                        {
                            "type": "string",
                            "enum": ["text", "markdown", "html", "json"],
                            "default": "json",
                        },
                        "output format",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500},
                        "most entries",
                    ),
                ],
            )
        },
        "/api/opml": {
            "get": _operation(
                "Export subscriptions as OPML",
                {"200": {"description": "OPML", "content": {"text/x-opml": {"schema": STRING}}}},
                tag="opml",
            ),
            "post": _operation(
                "Import an OPML file (feeds already subscribed are skipped)",
                {"200": _json("what was imported", _ref("ImportReport")), "400": BAD},
                tag="opml",
                body={
                    "required": True,
                    "content": {"text/x-opml": {"schema": {"type": "string"}}},
                },
            ),
        },
        "/api/refresh": {
            "post": _operation(
                "Start a refresh (all feeds, or those listed); poll the job for progress",
                {
                    "202": _json("the job (the one already running, if any)", _ref("RefreshJob")),
                    "400": BAD,
                    "404": MISSING,
                },
                tag="refresh",
                body=_body(_ref("RefreshRequest"), required=False),
            )
        },
        "/api/refresh/{job_id}": {
            "get": _operation(
                "A refresh job's progress",
                {"200": _json("the job", _ref("RefreshJob")), "404": MISSING},
                tag="refresh",
                parameters=[_path("job_id", "job id")],
            )
        },
        **_intel_paths(),
        "/api/tokens": {
            "get": _operation(
                "API keys (names and prefixes; the keys themselves are never shown again)",
                {"200": _json("keys", _array(_ref("Token")))},
                tag="keys",
            ),
            "post": _operation(
                "Make an API key",
                {"201": _json("the key, shown once", _ref("NewToken")), "400": BAD},
                tag="keys",
                body=_body(_ref("TokenName")),
            ),
        },
        "/api/tokens/{token_id}": {
            "delete": _operation(
                "Revoke an API key",
                {"204": {"description": "revoked"}, "404": MISSING},
                tag="keys",
                parameters=[_path("token_id", "key id")],
            )
        },
    }


def _intel_paths() -> dict[str, Any]:
    """Stories, entities, timelines, watchlists (``web.api.intel``)."""
    story_id = _path("story_id", "story id")
    entity_id = _path("entity_id", "entity id")
    watchlist_id = _path("watchlist_id", "watchlist id")
    return {
        "/api/stories": {
            "get": _operation(
                "Stories (entries about one event across sources), latest activity first",
                {"200": _json("a page of stories", _ref("StoryPage")), "400": BAD},
                tag="stories",
                parameters=[
                    _query(
                        "min_size",
                        {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 2},
                        "only stories of at least this many entries (1: every entry's story)",
                    ),
                    *PAGE,
                ],
            )
        },
        "/api/stories/{story_id}": {
            "get": _operation(
                "A story: its summary, its entries in time order and the entities they mention",
                {"200": _json("the story", _ref("StoryDetail")), "404": MISSING},
                tag="stories",
                parameters=[story_id],
            )
        },
        "/api/stories/{story_id}/read": {
            "post": _operation(
                "Mark every entry of a story read",
                {"200": _json("how many entries changed", _ref("StoryMarked")), "404": MISSING},
                tag="stories",
                parameters=[story_id],
            )
        },
        "/api/stories/{story_id}/unread": {
            "post": _operation(
                "Mark every entry of a story unread",
                {"200": _json("how many entries changed", _ref("StoryMarked")), "404": MISSING},
                tag="stories",
                parameters=[story_id],
            )
        },
        "/api/stories/{story_id}/timeline": {
            "get": _operation(
                "The dated events of a story's entries",
                {"200": TIMELINE_ANSWER, "400": BAD, "404": MISSING},
                tag="stories",
                parameters=[story_id, TIMELINE_FORMAT],
            )
        },
        "/api/entities": {
            "get": _operation(
                "People, organisations and places, in most entries first; or found by name",
                {"200": _json("a page of entities", _ref("EntityPage")), "400": BAD},
                tag="entities",
                parameters=[
                    _query(
                        "kind",
                        {"type": "string", "enum": ["person", "org", "place"]},
                        "only this kind",
                    ),
                    _query(
                        "q",
                        {"type": "string", "maxLength": 300},
                        "name, alias or key to look for (exact matches first)",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                        "page size",
                    ),
                    PAGE[1],
                ],
            )
        },
        "/api/entities/{entity_id}": {
            "get": _operation(
                "An entity with its mentions over time, co-mentioned entities and stories",
                {"200": _json("the entity", _ref("EntityDetail")), "400": BAD, "404": MISSING},
                tag="entities",
                parameters=[
                    entity_id,
                    _query(
                        "bucket",
                        {"type": "string", "enum": ["day", "week", "month"], "default": "day"},
                        "period of the mentions-over-time counts",
                    ),
                ],
            )
        },
        "/api/entities/{entity_id}/entries": {
            "get": _operation(
                "Entries that mention an entity (the filters of /api/entries apply)",
                {"200": _json("a page of entries", _ref("EntryPage")), "400": BAD, "404": MISSING},
                tag="entities",
                parameters=[entity_id, *ENTRY_FILTERS, STORY_FILTER],
            )
        },
        "/api/entities/{entity_id}/timeline": {
            "get": _operation(
                "The dated events that name an entity",
                {"200": TIMELINE_ANSWER, "400": BAD, "404": MISSING},
                tag="entities",
                parameters=[entity_id, TIMELINE_FORMAT],
            )
        },
        "/api/watchlists": {
            "get": _operation(
                "Watchlists (saved queries that raise alerts), secrets masked",
                {"200": _json("watchlists", _array(_ref("Watchlist")))},
                tag="watchlists",
            ),
            "post": _operation(
                "Make a watchlist",
                {
                    "201": _json("the new watchlist", _ref("Watchlist")),
                    "400": BAD,
                    "409": _error("a watchlist has this name already"),
                },
                tag="watchlists",
                body=_body(_ref("NewWatchlist")),
            ),
        },
        "/api/watchlists/{watchlist_id}": {
            "get": _operation(
                "One watchlist",
                {"200": _json("the watchlist", _ref("Watchlist")), "404": MISSING},
                tag="watchlists",
                parameters=[watchlist_id],
            ),
            "patch": _operation(
                "Change a watchlist (fields not sent stay as they are)",
                {
                    "200": _json("the watchlist", _ref("Watchlist")),
                    "400": BAD,
                    "404": MISSING,
                    "409": _error("another watchlist has this name"),
                },
                tag="watchlists",
                parameters=[watchlist_id],
                body=_body(_ref("WatchlistChanges")),
                description="`channels`, when sent, replaces every channel; a secret or token "
                "left out or sent back masked (as GET shows it) keeps the stored one; an empty "
                "webhook secret gets a new random one.",
            ),
            "delete": _operation(
                "Delete a watchlist and its alerts",
                {"204": {"description": "gone"}, "404": MISSING},
                tag="watchlists",
                parameters=[watchlist_id],
            ),
        },
        "/api/watchlists/{watchlist_id}/alerts": {
            "get": _operation(
                "The alerts a watchlist raised, newest first",
                {"200": _json("alerts", _array(_ref("Alert"))), "400": BAD, "404": MISSING},
                tag="watchlists",
                parameters=[
                    watchlist_id,
                    _query(
                        "status",
                        {"type": "string", "enum": ["pending", "sending", "sent", "failed"]},
                        "only alerts in this state",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                        "most alerts",
                    ),
                ],
            )
        },
    }


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Newsdesk API",
            "version": __version__,
            "description": "Newsdesk's own REST API. Send an API key (`newsdesk token create "
            "NAME`) as `Authorization: Bearer KEY` or `X-Auth-Token: KEY`. Errors are "
            '`{"error": {"status": N, "message": "…"}}`. Reader apps can also use the '
            "Miniflux-compatible API at /v1/, the Google Reader API at /reader/api/0/ and the "
            "Fever API at /fever/.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"token": []}, {"basic": []}],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.method{font:bold 13px monospace;text-transform:uppercase;padding:2px 6px;border-radius:4px;
background:#eef;margin-right:.5rem}
code{font-family:ui-monospace,monospace;font-size:13px}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:2px 10px 2px 0;text-align:left;
vertical-align:top}th{font-weight:600}.muted{color:#666}
"""


def _type_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if schema.get("type") == "array":
        return "array of " + _type_name(schema.get("items", {}))
    text = escape(str(schema.get("type", "any")))
    if "enum" in schema:
        text += " (" + " | ".join(escape(str(v)) for v in schema["enum"]) + ")"
    if schema.get("nullable"):
        text += " or null"
    return text


def docs_page(doc: dict[str, Any]) -> str:
    """The document as HTML: every operation with its parameters, body and answers, then every
    schema with its fields."""
    info = doc["info"]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{escape(info['title'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])} <span class=muted>{escape(info['version'])}</span></h1>",
        f"<p>{escape(info['description'])}</p>",
        '<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a></p>',
        "<h2>Operations</h2>",
    ]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            parts.append('<div class="op">')
            parts.append(
                f'<p><span class="method">{escape(method)}</span><code>{escape(path)}</code> '
                f"— {escape(op['summary'])}"
                + (" <span class=muted>(no key needed)</span>" if op.get("security") == [] else "")
                + "</p>"
            )
            if op.get("description"):
                parts.append(f"<p>{escape(op['description'])}</p>")
            if op.get("parameters"):
                parts.append("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th></th></tr>")
                for p in op["parameters"]:
                    parts.append(
                        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
                        f"<td>{_type_name(p['schema'])}</td>"
                        f"<td>{escape(p.get('description', ''))}</td></tr>"
                    )
                parts.append("</table>")
            if op.get("requestBody"):
                for media, content in op["requestBody"]["content"].items():
                    parts.append(f"<p>Body ({escape(media)}): {_type_name(content['schema'])}</p>")
            parts.append("<table><tr><th>Answer</th><th></th><th></th></tr>")
            for status, answer in op["responses"].items():
                kinds = ", ".join(
                    _type_name(c.get("schema", {})) for c in answer.get("content", {}).values()
                )
                parts.append(
                    f"<tr><td>{escape(status)}</td><td>{escape(answer['description'])}</td>"
                    f"<td>{kinds}</td></tr>"
                )
            parts.append("</table></div>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        parts.append(f'<h3 id="schema-{escape(name)}">{escape(name)}</h3><table>')
        required = set(schema.get("required", []))
        for field, field_schema in schema.get("properties", {}).items():
            note = escape(field_schema.get("description", ""))
            parts.append(
                f"<tr><td><code>{escape(field)}</code></td><td>{_type_name(field_schema)}</td>"
                f"<td>{'required' if field in required else 'optional'}</td><td>{note}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
