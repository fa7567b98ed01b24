"""What enrichment stores: expanded short links, the links of posts, fetched pages, and the
full text extracted for articles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from newsdesk.model import PageText
from newsdesk.store.engine import write_transaction
from newsdesk.store.schema import entries, entry_links, link_cache
from newsdesk.store.schema import pages as pages_table
from newsdesk.store.sql_base import SqlBase
from newsdesk.util import chunks


class EnrichmentWriter(SqlBase):
    """``SqlStore``'s link cache, pages and full text."""

    def cached_expansions(self, urls: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(urls))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(wanted):
                rows = conn.execute(
                    select(link_cache.c.url, link_cache.c.final_url).where(
                        link_cache.c.url.in_(chunk)
                    )
                )
                found.update({r[0]: r[1] for r in rows})
        return found

    def _upsert(self, table_: Any) -> Any:
        """INSERT … ON CONFLICT for this database (both dialects spell it the same way)."""
        # The dialect in use only: importing PostgreSQL's costs every SQLite process start-up.
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table_)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table_)

    def save_expansions(self, expansions: dict[str, str], now: datetime) -> None:
        """Remember where short links lead. Concurrent enrichers (Celery tasks, two refreshes)
        may resolve the same link at once: the first row stands and the other insert is a
        no-op, where a read-then-insert would fail on the primary key (PostgreSQL reads
        committed rows only) and lose that enricher's whole batch of links."""
        if not expansions:
            return
        rows = [
            {"url": url, "final_url": final, "resolved_at": now}
            for url, final in expansions.items()
        ]
        with write_transaction(self.engine) as conn:
            for chunk in chunks(rows):
                conn.execute(self._upsert(link_cache).on_conflict_do_nothing(), list(chunk))

    def save_links(self, entry_id: int, links: list[str]) -> None:
        from newsdesk.process.urls import canonical_url  # courlan: only when links are written

        canonical = list(dict.fromkeys(canonical_url(u) for u in links))
        with write_transaction(self.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(links=canonical))
            conn.execute(delete(entry_links).where(entry_links.c.entry_id == entry_id))
            if canonical:
                conn.execute(
                    insert(entry_links),
                    [
                        {"entry_id": entry_id, "url": u, "position": i}
                        for i, u in enumerate(canonical)
                    ],
                )

    def get_pages(self, urls: Iterable[str]) -> dict[str, PageText]:
        found: dict[str, PageText] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(urls))):
                for r in conn.execute(select(pages_table).where(pages_table.c.url.in_(chunk))):
                    found[r.url] = PageText(
                        url=r.url,
                        final_url=r.final_url or r.url,
                        title=r.title,
                        author=r.author,
                        published=r.published,
                        site_name=r.site_name,
                        text=r.text or "",
                        html=r.html or "",
                        error=r.error,
                    )
        return found

    def save_page(self, canonical: str, page: PageText, now: datetime) -> None:
        """Store (or replace) the page fetched for ``canonical``; one statement, so two
        enrichers saving the same page at once cannot collide on its key."""
        values = {
            "final_url": page.final_url,
            "title": page.title,
            "author": page.author,
            "published": page.published,
            "site_name": page.site_name,
            "text": page.text,
            "html": page.html,
            "error": page.error,
            "fetched_at": now,
        }
        statement = self._upsert(pages_table).values(url=canonical, **values)
        with write_transaction(self.engine) as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=["url"], set_=values))

    def apply_fulltext(self, entry_id: int, page: PageText | None, error: str | None) -> None:
        values: dict[str, Any]
        if page is not None and not page.error and page.text:
            values = {
                # the feed's own summary stays available beside the full text
                "summary_html": func.coalesce(entries.c.summary_html, entries.c.content_html),
                "content_html": page.html,
                "content_text": page.text,
                "fulltext_status": "done",
                "fulltext_error": None,
                "page": {
                    "title": page.title,
                    "author": page.author,
                    "published": page.published,
                    "site_name": page.site_name,
                    "url": page.final_url,
                },
            }
        else:
            values = {
                "fulltext_status": "failed",
                "fulltext_error": (error or (page.error if page else None) or "failed"),
            }
        values["changed_at"] = datetime.now(UTC)
        with write_transaction(self.engine) as conn:
            conn.execute(update(entries).where(entries.c.id == entry_id).values(**values))
