"""The feed edit page's "How it is fetched" form (issue 16): the form's fields as the changes
``Desk.set_feed_options`` takes. A secret is never put back in the page: its field is empty,
an empty field leaves the secret as it is, and a "forget" box clears it."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

_FULLTEXT = {"": None, "default": None, "on": True, "off": False}


def _field(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def option_changes(form: FormData) -> dict[str, Any]:
    """What the form asks to change (checked later by ``check_changes``)."""
    changes: dict[str, Any] = {
        "user_agent": _field(form, "user_agent"),
        "extract_body": _field(form, "extract_body"),
        "extract_drop": _lines(str(form.get("extract_drop") or "")),
        "interval": _field(form, "interval"),
        "ignore_cache_hints": form.get("ignore_cache_hints") == "on",
        "unwrap_redirects": form.get("unwrap_redirects") == "on",
        "fulltext": _FULLTEXT.get(_field(form, "fulltext"), "unknown"),
    }
    if changes["fulltext"] == "unknown":
        changes["fulltext"] = _field(form, "fulltext")  # refused by the check, with its reason
    for name in ("cookie", "username", "password"):
        if form.get(f"forget_{name}") == "on":
            changes[name] = None
        elif value := str(form.get(name) or ""):
            changes[name] = value
    if form.get("forget_headers") == "on":
        changes["headers"] = []
    elif headers := _lines(str(form.get("headers") or "")):
        changes["headers"] = headers
    return changes


def interval_text(seconds: int | None) -> str:
    """An interval as the form shows it: ``45m``, ``2h``, ``1d`` or seconds."""
    if not seconds:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(seconds)
