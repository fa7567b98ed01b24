"""The title the reader APIs give an entry: untitled posts (Mastodon, Bluesky) get one made
from their text, as Miniflux does at ingest (its ``TruncateHTML(content, 100)``, else the URL),
so apps listing titles do not show blank rows. Stored titles stay as the feed gave them: the
reading room shows posts as "@author: text", and stories compare stored titles.

There is one title function, ``newsdesk.publish.feeds.entry_title``; this is its reader-app form.
"""

from __future__ import annotations

from functools import partial

from newsdesk.publish import feeds

entry_title = partial(feeds.entry_title, for_apps=True)

__all__ = ["entry_title"]
