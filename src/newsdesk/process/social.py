"""What social bridges encode in titles and authors: repost and reply markers are metadata.

- Nitter: title ``RT by @x: text`` (a repost by @x; dc:creator is the original author) and
  ``R to @x: text`` (a reply to @x).
- RSS-Bridge: author ``RT: Name (@user)`` (a repost of @user by the feed's own account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NITTER_RT = re.compile(r"^RT by (@[\w.]+):\s*")
_NITTER_REPLY = re.compile(r"^R to (@[\w.]+):\s*")
_BRIDGE_RT = re.compile(r"^RT:\s*")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_][\w.-]*[A-Za-z0-9_]|(?<![\w@])@[A-Za-z0-9_]")


@dataclass(slots=True)
class Markers:
    title: str | None
    author: str | None
    reposted_by: str | None = None
    reply_to: str | None = None


def feed_handle(feed_title: str | None) -> str | None:
    """The account a social feed belongs to, from titles like "Name / @user" or
    "@user.bsky.social - Name" or "Twitter @user"."""
    if not feed_title:
        return None
    match = _HANDLE.search(feed_title)
    return match.group(0) if match else None


def read_markers(title: str | None, author: str | None, feed_title: str | None) -> Markers:
    markers = Markers(title=title, author=author)
    if title:
        if match := _NITTER_RT.match(title):
            markers.reposted_by = match.group(1)
            markers.title = title[match.end() :]
        elif match := _NITTER_REPLY.match(title):
            markers.reply_to = match.group(1)
            markers.title = title[match.end() :]
    if author and _BRIDGE_RT.match(author):
        markers.author = _BRIDGE_RT.sub("", author)
        markers.reposted_by = feed_handle(feed_title) or feed_title
    return markers
