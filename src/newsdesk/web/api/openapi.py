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


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


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
    _query("feed", {"type": "integer", "minimum": 1}, "only this subscription (id)"),
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
                parameters=ENTRY_FILTERS,
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
