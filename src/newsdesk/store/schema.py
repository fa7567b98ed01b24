"""Tables, as SQLAlchemy Core metadata. Portable types only: the same schema runs on SQLite and
PostgreSQL. Search structures, which differ, live in ``store.search``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value  # type: ignore[no-any-return]

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


metadata = MetaData()

# A person's categories (migration 11: each has its owner; titles are unique per person).
categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    # No foreign key: migration 1 creates this table before ``users`` exists. People's
    # categories go with them (``store.users.remove_user``).
    Column("user_id", Integer),
    UniqueConstraint("user_id", "title", name="uq_categories_user_title"),
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    # Unique with ``owner_key`` (migration 12): 0 for a feed anyone may follow; a person's id
    # for their private copy of a URL, fetched with their credentials, cookie or headers.
    Column("url", Text, nullable=False),
    Column("moved_from", Text),
    Column("title", Text),
    # Legacy (before migration 11), always NULL now: each follower's title and category are
    # on their subscription (``subscriptions``).
    Column("custom_title", Text),
    Column("site_url", Text),
    Column("category_id", Integer, ForeignKey("categories.id", ondelete="SET NULL")),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_status", Integer),
    Column("last_fetched", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("error_count", Integer, nullable=False, default=0),
    Column("error_since", UTCDateTime),
    Column("last_error", Text),
    Column("next_check", UTCDateTime),
    Column("check_interval", Integer),
    Column("paused", Boolean, nullable=False, default=False),
    Column("paused_reason", Text),
    Column("pending_url", Text),
    Column("pending_count", Integer, nullable=False, default=0),
    Column("problems", JSON),
    Column("ttl_minutes", Integer),
    Column("entries_per_day", Float),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    # The site icon (migration 8). No foreign key: migration 1 creates this table before
    # ``icons`` exists, which PostgreSQL would refuse; icons are never deleted while linked.
    Column("icon_id", Integer),
    # Per-feed control (migration 12, issue 16): see ``store.feed_options``.
    Column("owner_key", Integer, nullable=False, default=0, server_default="0"),
    Column("fetch_options", JSON),  # what is not secret (user agent, full text, rules…)
    Column("fetch_secret", Text),  # credentials, cookie, headers: encrypted, never shown back
    UniqueConstraint("url", "owner_key", name="uq_feeds_url_owner"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("url", Text),
    Column("url_canonical", Text),
    Column("title", Text),
    Column("author", Text),
    Column("kind", String(16), nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("content_html", Text, nullable=False, default=""),
    Column("content_text", Text, nullable=False, default=""),
    Column("summary_html", Text),
    Column("content_hash", String(64), nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("links", JSON, nullable=False, default=list),
    Column("enclosures", JSON, nullable=False, default=list),
    Column("reposted_by", Text),
    Column("reply_to", Text),
    Column("language", String(35)),
    Column("wants_fulltext", Boolean, nullable=False, default=False),
    Column("fulltext_status", String(16)),
    Column("fulltext_error", Text),
    Column("page", JSON),
    # Legacy (before migration 11), never read or written now: read and starred are per
    # person (``entry_states``).
    Column("read", Boolean, nullable=False, default=False),
    Column("starred", Boolean, nullable=False, default=False),
    Column("read_at", UTCDateTime),
    Column("starred_at", UTCDateTime),
    Column("story_id", Integer),
    # Moved by every change of the entry, its content or its state (migration 9): the reader
    # APIs' incremental sync (Miniflux's changed_after).
    Column("changed_at", UTCDateTime),
    UniqueConstraint("feed_id", "key", name="uq_entries_feed_key"),
    Index("ix_entries_published", "published", "id"),
    Index("ix_entries_feed_published", "feed_id", "published"),
    Index("ix_entries_url_canonical", "url_canonical"),
    Index("ix_entries_feed_hash", "feed_id", "content_hash"),
    Index("ix_entries_story", "story_id"),
    Index("ix_entries_changed", "changed_at"),
)

entry_links = Table(
    "entry_links",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("url", Text, primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_entry_links_url", "url"),
)

entry_tags = Table(
    "entry_tags",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Index("ix_entry_tags_tag", "tag", "entry_id"),
)
# A tag starting with this is a label the reader put on the entry (``store.labels``), not one
# of the feed's (those are casefolded, so none starts with a capital letter).
USER_LABEL = "Label:"

pages = Table(
    "pages",
    metadata,
    Column("url", Text, primary_key=True),  # canonical URL
    Column("final_url", Text),
    Column("title", Text),
    Column("author", Text),
    Column("published", String(40)),
    Column("site_name", Text),
    Column("text", Text),
    Column("html", Text),
    Column("error", Text),
    Column("fetched_at", UTCDateTime, nullable=False),
)

link_cache = Table(
    "link_cache",
    metadata,
    Column("url", Text, primary_key=True),
    Column("final_url", Text, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=False),
)

CORE_TABLES = (categories, feeds, entries, entry_links, entry_tags, pages, link_cache)

# -- web reading room (migration 2): the user, login sessions, server secrets, saved searches --

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    # Empty until a password is set (the desk's first admin exists from the start, migration 11).
    Column("password_hash", Text, nullable=False),
    # Fever's api_key is md5("username:password"); only an HMAC of it under the server key
    # (kept outside the database) is stored, and only while Fever is on (NULL: off).
    Column("fever_verifier", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Teams (migration 11): "admin" manages people and settings, "member" reads.
    Column("role", String(16), nullable=False, default="member"),
    Column("last_login_at", UTCDateTime),
    # Two-factor login (TOTP, RFC 6238): the secret encrypted under the server key, set once
    # confirmed; recovery codes as sha256 hashes, each struck out when used.
    Column("totp_secret", Text),
    Column("recovery_codes", JSON, nullable=False, default=list),
    # The person's own settings (reading habits and the like), a JSON object.
    Column("preferences", JSON, nullable=False, default=dict),
    # The person's default retention (migration 12, ``store.retention``); NULL keeps all.
    Column("retention", JSON),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_expires", "expires_at"),
)

web_secrets = Table(
    "web_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("name", String(200), nullable=False),
    Column("query", Text, nullable=False),
    Column("filters", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_saved_searches_user_name"),
)

WEB_TABLES = (users, web_sessions, web_secrets, saved_searches)

# -- API keys (migration 3): keys for the native, Miniflux, Google Reader and Fever APIs --

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("name", String(200), nullable=False),
    # sha256 of the key: the key itself is shown once, when it is made, and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # first characters, to tell keys apart
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    UniqueConstraint("user_id", "name", name="uq_api_tokens_user_name"),
)

API_TABLES = (api_tokens,)

# -- site icons (migration 8): one row per site origin, feeds point at it (feeds.icon_id) --

icons = Table(
    "icons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("origin", Text, nullable=False, unique=True),  # scheme://host[:port] of the site
    Column("url", Text),  # where the stored icon came from
    Column("mime_type", String(40)),
    Column("data", LargeBinary),  # NULL until a fetch succeeds
    Column("hash", String(64)),  # sha256 of data: the ETag and part of the icon's URL
    Column("checked_at", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime),
    Column("error", Text),
)

ICON_TABLES = (icons,)
# Migration 3 also indexes entries (feed_id, read, starred, published) for the APIs' counts.

# -- stories, entities, timelines, watchlists (migration 5, issue 7) --

# A story groups entries about one event across feeds and kinds. Every clustered entry has one
# (``entries.story_id``); an entry nothing matched is a story of one. ``story_id IS NULL`` means
# "not clustered yet".
stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text),
    Column("lead_entry_id", Integer),  # the best article of the story, shown on its card
    Column("size", Integer, nullable=False, default=1),  # member entries
    Column("sources", Integer, nullable=False, default=1),  # distinct feeds among the members
    Column("first_published", UTCDateTime, nullable=False),
    Column("last_published", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_stories_last_published", "last_published"),
)

# Candidate keys of clustered entries: "u:<hash>" for a canonical URL (an article's own, a
# post's shared links), "t<band>:<hash>" for a band of the text's MinHash signature,
# "h<band>:<hash>" for a band of the title's. Entries sharing a key are compared; nothing is
# compared all-pairs.
story_keys = Table(
    "story_keys",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("published", UTCDateTime, nullable=False),
    Index("ix_story_keys_entry", "entry_id"),
)

# What clustering compares candidates with, kept so later entries are compared without
# re-reading and re-hashing the older texts.
entry_signatures = Table(
    "entry_signatures",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("minhash", LargeBinary),  # text MinHash signature (uint32 values); NULL: text too short
    Column("title_terms", Text),  # the title's significant words, normalised, space-separated
)

entities = Table(
    "entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # person, org, place
    Column("key", String(200), nullable=False),  # normalised name: what variants share
    Column("name", Text, nullable=False),  # the name shown
    Column("aliases", JSON, nullable=False, default=list),  # other names seen for it
    Column("mention_count", Integer, nullable=False, default=0),
    Column("entry_count", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime),
    Column("last_seen", UTCDateTime),
    UniqueConstraint("kind", "key", name="uq_entities_kind_key"),
    Index("ix_entities_key", "key"),
    Index("ix_entities_entry_count", "entry_count"),
)

entity_mentions = Table(
    "entity_mentions",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_id", Integer, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("count", Integer, nullable=False, default=1),
    Column("first_offset", Integer, nullable=False, default=0),  # where the first mention is
    Column("published", UTCDateTime, nullable=False),  # the entry's, for charts by date
    Index("ix_entity_mentions_entity", "entity_id", "published"),
)

# Which entries the intelligence stage (entities, events) has read, and with what: an entry is
# read again when its text changes (full text arriving) or the extractor's version moves on.
entry_intel = Table(
    "entry_intel",
    metadata,
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("text_length", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("entities_model", String(100)),  # NULL: entities were not extracted
    Column("done_at", UTCDateTime, nullable=False),
)

# Dated events pulled from article text: the date and how precise it is (day, month, year),
# the sentence that gives it, and where it came from.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("date", String(10), nullable=False),  # ISO, first day of the period: 2023-08-01
    Column("precision", String(8), nullable=False),  # day, month, year
    Column("sentence", Text, nullable=False),
    Column("position", Integer, nullable=False, default=0),  # order within the entry
    Index("ix_events_entry", "entry_id"),
    Index("ix_events_date", "date"),
)

event_entities = Table(
    "event_entities",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_id", Integer, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_event_entities_entity", "entity_id"),
)

watchlists = Table(
    "watchlists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("name", String(200), nullable=False),
    Column("query", Text, nullable=False, default=""),  # search words; empty: any
    Column("entity_ids", JSON, nullable=False, default=list),
    Column("categories", JSON, nullable=False, default=list),  # category titles
    Column("feed_ids", JSON, nullable=False, default=list),
    # {"webhook": {"url", "secret"}, "email": {"to": [...]}, "ntfy": {"url", "token"}}
    Column("channels", JSON, nullable=False, default=dict),
    Column("mode", String(8), nullable=False, default="instant"),  # instant, hourly, daily
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),
    UniqueConstraint("user_id", "name", name="uq_watchlists_user_name"),
)

# One row per (watchlist, entry, channel): the unique constraint is what makes an alert go out
# at most once. Claimed (status "sending") before it is sent, so a crash mid-send never repeats.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "watchlist_id", Integer, ForeignKey("watchlists.id", ondelete="CASCADE"), nullable=False
    ),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook, email, ntfy
    Column("status", String(12), nullable=False, default="pending"),  # pending sending sent failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("watchlist_id", "entry_id", "channel", name="uq_alerts_once"),
    Index("ix_alerts_status", "status", "watchlist_id"),
    # Entries removed by retention take their alerts with them (migration 12).
    Index("ix_alerts_entry", "entry_id"),
)

INTEL_TABLES = (
    stories,
    story_keys,
    entry_signatures,
    entities,
    entity_mentions,
    entry_intel,
    events,
    event_entities,
    watchlists,
    alerts,
)


# -- teams (migration 11, issue 15): who follows what, shared categories, per-person state --

# A person follows a feed: their own title and category for it. A feed is fetched once however
# many follow it, and goes when the last follower leaves.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text),  # the person's own name for the feed; NULL: the feed's
    Column("category_id", Integer, ForeignKey("categories.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    # The person's retention for this feed (migration 12); NULL: their default.
    Column("retention", JSON),
    UniqueConstraint("user_id", "feed_id", name="uq_subscriptions_user_feed"),
    Index("ix_subscriptions_feed", "feed_id"),
    Index("ix_subscriptions_category", "category_id"),
)

# A category its owner shares: the person sees its feeds (and their entries) in their sidebar,
# with their own read state; ``can_manage`` lets them add, edit and remove its feeds.
category_shares = Table(
    "category_shares",
    metadata,
    Column(
        "category_id", Integer, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("can_manage", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_category_shares_user", "user_id"),
)

# A person's read and starred state of an entry; no row: unread and not starred.
entry_states = Table(
    "entry_states",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    # The entry's feed, copied: a person's counts per feed read their states alone.
    Column("feed_id", Integer, nullable=False),
    Column("read", Boolean, nullable=False, default=False),
    Column("starred", Boolean, nullable=False, default=False),
    Column("read_at", UTCDateTime),
    Column("starred_at", UTCDateTime),
    Column("changed_at", UTCDateTime, nullable=False),
    # Blocked by one of the person's rules (migration 12): never shown to them again.
    Column("hidden", Boolean, nullable=False, default=False, server_default=false()),
    # The rule that blocked it (no foreign key: ``rule unblock`` or ``rule remove --unblock``
    # shows its entries again; a rule removed without it leaves them hidden).
    Column("hidden_by", Integer),
    Index("ix_entry_states_entry", "entry_id"),
    Index("ix_entry_states_changed", "user_id", "changed_at"),
    Index("ix_entry_states_feed", "user_id", "feed_id", "read", "starred"),
)
# The few entries each person's rules blocked (migration 12): every person-facing query leaves
# them out (``store.visibility.unblocked``) by reading this partial index.
HIDDEN_STATES = Index(
    "ix_entry_states_hidden",
    entry_states.c.user_id,
    entry_states.c.entry_id,
    sqlite_where=entry_states.c.hidden.is_(True),
)


@event.listens_for(HIDDEN_STATES, "before_create")
def _partial_on_postgresql(index: Index, connection: Connection, **_: Any) -> None:
    """The same partial index on PostgreSQL. Its option is set when a PostgreSQL connection
    creates it: ``postgresql_where=`` in the constructor makes SQLAlchemy import the PostgreSQL
    dialect when this module is imported (20 ms of every SQLite command's start)."""
    if connection.dialect.name == "postgresql":
        index.dialect_options["postgresql"]["where"] = entry_states.c.hidden.is_(True)


# The labels a person put on entries (Google Reader's user labels; before migration 11 they
# were entry tags starting with ``USER_LABEL``).
entry_labels = Table(
    "entry_labels",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(100), primary_key=True),
    Index("ix_entry_labels_label", "user_id", "label"),
    Index("ix_entry_labels_entry", "entry_id"),
)

TEAM_TABLES = (subscriptions, category_shares, entry_states, entry_labels)


# -- curation (migration 12, issue 16): rules, entries filed by rules, retention --

# A person's rule: when an entry matches ``query`` (docs/query.md), do ``actions`` (a list of
# strings: "block", "read", "star", "tag:NAME", "category:NAME", "alert:WATCHLIST"), in
# ``position`` order, at ingest (before alerts) or on demand over stored entries.
rules = Table(
    "rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("matched", Integer, nullable=False, default=0),  # entries it acted on, ever
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_rules_user", "user_id", "position"),
)

# An entry a person's rule filed under one of their categories (the ``category:NAME`` action):
# the category's view shows it besides its feeds' entries.
entry_filings = Table(
    "entry_filings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", Integer, ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    ),
    Index("ix_entry_filings_category", "category_id", "entry_id"),
    Index("ix_entry_filings_entry", "entry_id"),
)

# Entries the retention removed: remembered by their feed and identity so that the next fetch
# of the feed does not bring them back. Retention policies themselves are JSON on the person
# (``users.retention``, their default) and on each subscription (``subscriptions.retention``).
removed_entries = Table(
    "removed_entries",
    metadata,
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("removed_at", UTCDateTime, nullable=False),
)

CURATION_TABLES = (rules, entry_filings, removed_entries)
