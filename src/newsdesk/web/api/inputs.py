"""How the APIs read their input: bounded bodies, JSON objects, form fields and query
parameters, each refused with a 400 that says what is wrong."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, MultiDict
from starlette.requests import Request

from newsdesk.web.api.errors import ApiError, BadRequest, NotFound

MAX_JSON_BYTES = 1024 * 1024
MAX_FORM_BYTES = 2 * 1024 * 1024


async def read_body(request: Request, limit: int = MAX_JSON_BYTES) -> bytes:
    """The request body, refused with 413 when larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says what is wrong with it."""
    body = await read_body(request)
    if not body.strip():
        if allow_empty:
            return {}
        raise BadRequest("the request body is empty: send a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


def int_field(data: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    if not -(2**63) <= value < 2**63:
        raise BadRequest(f"{name} is out of range")
    return value


def str_field(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if required and not value.strip():
        raise BadRequest(f"{name} must not be empty")
    return value


def bool_field(data: dict[str, Any], name: str) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value


def id_list(data: dict[str, Any], name: str, *, limit: int = 10_000) -> list[int]:
    value = data.get(name)
    if not isinstance(value, list) or not value:
        raise BadRequest(f"{name} must be a non-empty list of integers")
    if len(value) > limit:
        raise BadRequest(f"{name} has more than {limit} ids")
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**63:
            raise BadRequest(f"{name} must be a list of positive integers")
        ids.append(item)
    return ids


def path_id(request: Request, name: str) -> int:
    """A numeric id from the URL path; anything else is a 404 (no such resource)."""
    raw = str(request.path_params.get(name, ""))
    # ids are 32-bit integers on PostgreSQL: a larger one names nothing (and must not reach SQL)
    if not raw.isdigit() or len(raw) > 18 or int(raw) == 0 or int(raw) > 2**31 - 1:
        raise NotFound()
    return int(raw)


def query_int(
    request: Request,
    name: str,
    default: int | None = None,
    *,
    minimum: int = 0,
    maximum: int = 2**62,
) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw[:50]!r}") from None
    if not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be between {minimum} and {maximum}")
    return value


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "t"}:
        return True
    if value in {"0", "false", "no", "f"}:
        return False
    raise BadRequest(f"{name} must be true or false, got {raw[:50]!r}")


async def read_params(request: Request) -> MultiDict:
    """Query parameters and, for POST, form fields (clients use both)."""
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        body = await read_body(request, MAX_FORM_BYTES)
        if body and "multipart/form-data" not in content_type:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("the form is not valid UTF-8") from None
            items.extend(parse_qsl(text, keep_blank_values=True))
        elif body:
            form = await _multipart(request, body)
            items.extend((k, v) for k, v in form.multi_items() if isinstance(v, str))
    return MultiDict(items)


async def _multipart(request: Request, body: bytes) -> FormData:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        again = Request(request.scope, replay)
        return await again.form()
    except Exception:
        raise BadRequest("the form cannot be read") from None
