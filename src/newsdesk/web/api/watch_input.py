"""What a watchlist's POST or PATCH body may say (``/api/watchlists``): its fields, checked and
turned into ``store.watchlists`` keywords, each mistake a 400 that names the field. Secrets
never need to come back: a PATCH that leaves a secret out, or sends it back masked, keeps the
stored one."""

from __future__ import annotations

from typing import Any

from newsdesk.process.urls import is_web_url
from newsdesk.store.watchlists import MASK, Watchlist
from newsdesk.web.api.errors import ApiError, BadRequest
from newsdesk.web.api.native_common import MAX_ID, refuse_unknown
from newsdesk.web.api.state import ApiState

WATCH_MODES = ("instant", "hourly", "daily")
CHANNELS = ("webhook", "email", "ntfy")
CHANNEL_FIELDS = {
    "webhook": {"url", "secret"},
    "email": {"to"},
    "ntfy": {"url", "token", "priority", "tags"},
}
MAX_TEXT = 300
MAX_IDS = 1000
WATCH_FIELDS = {"name", "query", "entity_ids", "categories", "feed_ids", "channels", "mode"}


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides in the value: PostgreSQL refuses them in text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _text_value(data: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value


def _ids(data: dict[str, Any], name: str) -> list[int]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{name} must be a list of positive integers")
    if len(value) > MAX_IDS:
        raise BadRequest(f"{name} has more than {MAX_IDS} ids")
    out: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= MAX_ID:
            raise BadRequest(f"{name} must be a list of positive integers")
        if item not in out:
            out.append(item)
    return out


def _strings(data: dict[str, Any], name: str, limit: int = MAX_TEXT) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} must be a list of strings")
    if len(value) > MAX_IDS:
        raise BadRequest(f"{name} has more than {MAX_IDS} items")
    out: list[str] = []
    for item in value:
        text = item.strip()
        if not text or len(text) > limit:
            raise BadRequest(f"{name} items must be 1 to {limit} characters")
        if text not in out:
            out.append(text)
    return out


def channels_input(value: Any, stored: Watchlist | None = None) -> dict[str, Any]:
    """``channels`` of a POST or PATCH body: ``{"webhook": {"url", "secret"}, "email":
    {"to": [...]}, "ntfy": {"url", "token", "priority", "tags"}}``, shapes and types checked
    here (the rules themselves are ``store.watchlists.check_channels``'). On a PATCH, a secret
    or token left out or sent back masked keeps the stored one."""
    if not isinstance(value, dict):
        raise BadRequest("channels must be an object: webhook, email and/or ntfy")
    unknown = set(value) - set(CHANNELS)
    if unknown:
        raise BadRequest(
            f"unknown channels: {', '.join(sorted(unknown))[:200]} (use webhook, email, ntfy)"
        )
    out: dict[str, Any] = {}
    for name, fields in CHANNEL_FIELDS.items():
        spec = value.get(name)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise BadRequest(f"channels.{name} must be an object")
        extra = set(spec) - fields
        if extra:
            raise BadRequest(f"unknown fields in channels.{name}: {', '.join(sorted(extra))}")
        channel = dict(spec)
        if name == "email":
            to = channel.get("to")
            if isinstance(to, str):
                to = [to]
            if not isinstance(to, list) or not to or not all(isinstance(a, str) for a in to):
                raise BadRequest("channels.email.to must be a non-empty list of addresses")
            if len(to) > 50 or any(len(a) > 300 for a in to):
                raise BadRequest("channels.email.to: at most 50 addresses of 300 characters")
            channel["to"] = to
        else:
            url = channel.get("url")
            if not isinstance(url, str) or not is_web_url(url.strip()) or len(url) > 2000:
                raise BadRequest(f"channels.{name}.url must be an http(s) URL")
            secret = "secret" if name == "webhook" else "token"
            given = channel.get(secret)
            if given is not None and (not isinstance(given, str) or len(given) > 500):
                raise BadRequest(f"channels.{name}.{secret} must be a string (500 at most)")
            tags = channel.get("tags")
            if tags is not None and not (
                isinstance(tags, str)
                or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))
            ):
                raise BadRequest(f"channels.{name}.tags must be a list of words")
            kept = stored.channels.get(name, {}).get(secret) if stored is not None else None
            if kept and (given is None or given == MASK):
                channel[secret] = kept
        out[name] = channel
    if not out:
        raise BadRequest("channels needs at least one of webhook, email, ntfy")
    return out


def watch_changes(data: dict[str, Any], stored: Watchlist | None) -> dict[str, Any]:
    """The ``create_watchlist`` (``stored`` None) or ``update_watchlist`` keywords a body asks
    for; a new watchlist needs a name and channels."""
    refuse_unknown(data, WATCH_FIELDS | ({"enabled"} if stored is not None else set()))
    if has_nul(data):
        raise BadRequest("the watchlist must not contain NUL characters")
    changes: dict[str, Any] = {}
    if "name" in data or stored is None:
        name = " ".join((_text_value(data, "name", 200) or "").split())
        if not name:
            raise BadRequest("name is required: a short name for the watchlist")
        changes["name"] = name
    if "query" in data:
        changes["query"] = (_text_value(data, "query", 1000) or "").strip()
    for field in ("entity_ids", "feed_ids"):
        if field in data:
            changes[field] = _ids(data, field)
    if "categories" in data:
        changes["categories"] = _strings(data, "categories")
    if "mode" in data:
        mode = data["mode"]
        if mode not in WATCH_MODES:
            raise BadRequest(f"mode must be one of {', '.join(WATCH_MODES)}")
        changes["mode"] = mode
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise BadRequest("enabled must be true or false")
        changes["enabled"] = data["enabled"]
    if "channels" in data or stored is None:
        if data.get("channels") is None:
            raise BadRequest("channels is required: webhook, email and/or ntfy")
        changes["channels"] = channels_input(data["channels"], stored)
    return changes


def name_free(api: ApiState, name: str, own_id: int | None) -> None:
    """A 409 when another watchlist has this name. Blocking: call it inside ``api.run``."""
    for other in api.store.watchlists.list_watchlists():
        if other.name == name and other.id != own_id:
            raise ApiError(409, f"a watchlist named {name[:100]!r} exists already")
