"""Icon URLs: made and checked with a server secret, and the feed → icon map the templates read."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from markupsafe import Markup

from newsdesk.store.icons import Icon, IconRef
from newsdesk.store.sql import SqlStore

# The reading room's lists read the feed → icon map at most this often (seconds).
_MAP_TTL = 30.0
_KEY = re.compile(r"^([0-9]{1,10})-([0-9a-f]{32})$")


class IconLinks:
    """Makes and checks icon URLs; keeps a short-lived map of feed → icon for the templates."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._secret = store.users.server_secret("icon-links").encode()
        self._map: dict[int, IconRef] = {}
        self._loaded = float("-inf")

    def key(self, icon_id: int, content_hash: str) -> str:
        message = f"{icon_id}:{content_hash}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def path(self, ref: IconRef | Icon) -> str:
        return f"/icon/{ref.id}-{self.key(ref.id, ref.hash)}"

    def parse(self, text: str) -> tuple[int, str] | None:
        match = _KEY.match(text)
        return (int(match.group(1)), match.group(2)) if match else None

    def refs(self) -> dict[int, IconRef]:
        """Every feed with an icon, at most ``_MAP_TTL`` seconds old (for page rendering)."""
        now = time.monotonic()
        if now - self._loaded > _MAP_TTL:
            self._map, self._loaded = self.store.icons.feed_icon_refs(), now
        return self._map

    def src(self, feed_id: int | None) -> str:
        """The icon path for a feed's ``<img src>``, or "" when it has none."""
        ref = self.refs().get(feed_id) if feed_id is not None else None
        return self.path(ref) if ref is not None else ""

    def img(self, feed_id: int | None) -> Markup:
        """The ``<img>`` of a feed's icon for the templates (nothing when it has none). The
        path is digits and hex only; alt is empty, since the feed's name stands beside it."""
        src = self.src(feed_id)
        if not src:
            return Markup("")
        return Markup(
            f'<img class="feed-icon" src="{src}" alt="" width="16" height="16" '
            'loading="lazy" decoding="async">'
        )
