"""Retention policies (issue 16): what one is, how a person's default and their keys for a
feed merge, and when one follower lets an entry go. See ``store.retention`` for the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newsdesk.errors import NewsdeskError

FIELDS = ("keep_days", "keep_read_days", "keep_last")
_LIMITS = {"keep_days": 36_500, "keep_read_days": 36_500, "keep_last": 10_000_000}
_UNITS = {"keep_days": "days", "keep_read_days": "days", "keep_last": "entries"}


class RetentionError(NewsdeskError):
    """A retention policy that cannot be used (unknown key, not a positive whole number)."""


def check_policy(data: Any) -> dict[str, int | None]:
    """``data`` as a stored policy (only the keys given), or a clear error."""
    if not isinstance(data, Mapping):
        raise RetentionError('a retention policy is an object such as {"keep_days": 30}')
    policy: dict[str, int | None] = {}
    for key, value in data.items():
        if key not in _LIMITS:
            known = ", ".join(FIELDS)
            raise RetentionError(f"unknown retention setting {str(key)[:40]!r} (known: {known})")
        if value is None:
            policy[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _LIMITS[key]:
            raise RetentionError(
                f"{key} must be a whole number of {_UNITS[key]} from 1 to {_LIMITS[key]:,} "
                f"(or null for no limit), not {repr(value)[:40]}"
            )
        policy[key] = value
    return policy


@dataclass(frozen=True, slots=True)
class Policy:
    """One follower's effective policy for one feed."""

    keep_days: int | None = None
    keep_read_days: int | None = None
    keep_last: int | None = None

    @classmethod
    def of(cls, default: Mapping[str, Any] | None, feed: Mapping[str, Any] | None) -> Policy:
        """The feed's keys over the person's default (stored JSON, checked again: a hand-edited
        row must not remove anything it does not say)."""
        merged = {**check_policy(default or {}), **check_policy(feed or {})}
        return cls(**merged)

    @property
    def limits(self) -> bool:
        """True when it may let anything go (else it keeps everything)."""
        return any(v is not None for v in (self.keep_days, self.keep_read_days, self.keep_last))

    def with_keep_days(self, days: int | None) -> Policy:
        """The policy with ``keep_days`` replaced (``newsdesk cleanup --keep-days N``)."""
        if days is None:
            return self
        return Policy(days, self.keep_read_days, self.keep_last)

    def min_age_days(self) -> float:
        """The youngest an entry of the feed beyond ``keep_last`` may be and still go."""
        if self.keep_days is None:
            # unread entries have no day limit: with a count, any age goes beyond it
            return 0 if self.keep_last is not None else float(self.keep_read_days or 0)
        return float(min(self.keep_days, self.keep_read_days or self.keep_days))

    def lets_go(self, age_days: float, read: bool) -> bool:
        """Whether this follower lets an entry go that is ``age_days`` old (since first seen),
        read by them or not, and already beyond their ``keep_last`` (the caller's part)."""
        days = self.keep_read_days if read and self.keep_read_days is not None else self.keep_days
        if days is None:
            return self.keep_last is not None
        return age_days > days

    def as_dict(self) -> dict[str, int | None]:
        return {
            "keep_days": self.keep_days,
            "keep_read_days": self.keep_read_days,
            "keep_last": self.keep_last,
        }


def describe(policy: Mapping[str, Any]) -> str:
    """A stored policy in words: "keep 30 days, read 7 days, the last 200"."""
    parts = []
    if "keep_days" in policy:
        days = policy["keep_days"]
        parts.append(f"keep {days} days" if days else "no day limit")
    if "keep_read_days" in policy:
        days = policy["keep_read_days"]
        parts.append(f"read entries {days} days" if days else "no read limit")
    if "keep_last" in policy:
        last = policy["keep_last"]
        parts.append(f"the last {last}" if last else "no count limit")
    return ", ".join(parts) or "keep everything"
