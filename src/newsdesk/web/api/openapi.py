"""The OpenAPI 3 document of the native API (``/api/openapi.json``), generated from the
declarations next to its handlers: every handler's ``Doc`` on the route tables in ``TABLES``
(the same tables ``web.api.native.routes`` serves, so the document cannot name a route that
is not there, nor miss one), with the shared schemas of ``web.api.openapi_schemas``. And
``/api/docs``: the same document as one plain HTML page, no script, no CDN. The documents'
own handlers (``/api/``, ``/api/openapi.json``, ``/api/docs``) are declared here."""

from __future__ import annotations

from functools import cache
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from newsdesk import __version__
from newsdesk.web.api import (
    intel,
    native_desk,
    native_people,
    native_reading,
    native_retention,
    native_rules,
)
from newsdesk.web.api.errors import endpoint, json_error
from newsdesk.web.api.openapi_schemas import SCHEMAS, STRING, json_answer, ref
from newsdesk.web.api.state import ApiState
from newsdesk.web.routing import Doc, RouteTable

TABLE = RouteTable[ApiState](endpoint(json_error))


@TABLE.get(
    "/api/",
    doc=Doc(
        "What this API is and where its documents are",
        {"200": json_answer("the index", ref("Index"))},
        tag="documents",
        public=True,
    ),
)
async def index(request: Request, api: ApiState) -> Response:
    return JSONResponse(
        {
            "name": "Newsdesk API",
            "version": __version__,
            "openapi": "/api/openapi.json",
            "docs": "/api/docs",
            "compatible": {
                "miniflux": "/v1/",
                "google_reader": "/reader/api/0/",
                "fever": "/fever/",
            },
        }
    )


@TABLE.get(
    "/api/openapi.json",
    doc=Doc(
        "This document",
        {"200": json_answer("the OpenAPI document", {"type": "object"})},
        tag="documents",
        public=True,
    ),
)
async def openapi_json(request: Request, api: ApiState) -> Response:
    return JSONResponse(document())


@TABLE.get(
    "/api/docs",
    doc=Doc(
        "This document as an HTML page",
        {"200": {"description": "HTML", "content": {"text/html": {"schema": STRING}}}},
        tag="documents",
        public=True,
    ),
)
async def docs(request: Request, api: ApiState) -> Response:
    return HTMLResponse(
        docs_page(document()),
        # The page is self-contained: its one stylesheet is inline, it runs no script.
        headers={"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


# The native API's route tables, in the order its routes are tried (``web.api.native``).
TABLES: tuple[RouteTable[ApiState], ...] = (
    TABLE,
    native_reading.TABLE,
    native_desk.TABLE,
    native_people.TABLE,
    native_rules.TABLE,
    native_retention.TABLE,
    intel.TABLE,
)


@cache
def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for table in TABLES:
        for path, operations in table.openapi_paths().items():
            paths.setdefault(path, {}).update(operations)
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
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **native_rules.SCHEMAS, **native_retention.SCHEMAS},
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
