"""The retention forms of the reading room (issue 16): the Account page's default policy and the
feed edit page's policy for one feed, as ``store.retention`` takes them.

Each field is a whole number or empty. On the Account page an empty field is no limit; on a
feed's page an empty field is the person's default, and ``off`` (or ``none``) lifts the
default's limit for that feed. The numbers' ranges are ``store.retention_policy``'s, so its
messages are the ones shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newsdesk.store.retention_policy import FIELDS, RetentionError, check_policy

LABELS = {
    "keep_days": "Keep days",
    "keep_read_days": "Keep read days",
    "keep_last": "Keep last",
}
_OFF = ("off", "none", "no limit")
MAX_CHARS = 20


def _value(name: str, raw: str, *, feed: bool) -> tuple[bool, int | None]:
    """(given, value) of one field: empty is not given; ``off`` is no limit."""
    text = raw.strip()
    if not text:
        return False, None
    if text.lower() in _OFF:
        return True, None
    if len(text) > MAX_CHARS or not text.isdigit():
        also = ", or off for no limit" if feed else ""
        raise RetentionError(
            f"{LABELS[name]}: {text[:MAX_CHARS]!r} is not a whole number (leave it empty for "
            f"{'your default' if feed else 'no limit'}{also})"
        )
    return True, int(text)


def policy_from_form(form: Mapping[str, Any], *, feed: bool) -> dict[str, int | None]:
    """The policy a form asks for, checked (``RetentionError`` with a clear message)."""
    policy: dict[str, int | None] = {}
    for name in FIELDS:
        given, value = _value(name, str(form.get(name) or ""), feed=feed)
        if not given or (value is None and not feed):
            continue
        try:
            policy.update(check_policy({name: value}))
        except RetentionError as exc:
            text = str(exc).replace(f"{name} must", f"{LABELS[name]} must")
            raise RetentionError(text.replace(" (or null for no limit)", "")) from None
    return policy


def form_values(policy: Mapping[str, Any], *, feed: bool) -> dict[str, str]:
    """A stored policy as the form's fields show it."""
    shown = {}
    for name in FIELDS:
        if name not in policy:
            shown[name] = ""
        elif policy[name] is None:
            shown[name] = "off" if feed else ""
        else:
            shown[name] = str(policy[name])
    return shown


def limit_text(name: str, value: int | None) -> str:
    """One limit in words, for the effective policy."""
    if value is None:
        return "no limit"
    return f"{value} entries" if name == "keep_last" else f"{value} days"
