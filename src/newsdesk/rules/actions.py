"""Actions as people write them: ``star,tag:smirnov`` (the CLI's ``--then``) or a list of
strings (the APIs), into the checked list a rule stores."""

from __future__ import annotations

from collections.abc import Iterable

from newsdesk.store.rules import check_actions


def parse_actions(given: str | Iterable[str]) -> list[str]:
    """Comma-separated text, or a list of actions (each may itself hold commas), checked:
    an unknown action or a missing name is a ``NewsdeskError`` naming it."""
    parts = [given] if isinstance(given, str) else list(given)
    split = [piece for part in parts for piece in str(part).split(",") if piece.strip()]
    return list(check_actions(split))
