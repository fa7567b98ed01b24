"""The desk the isolation test (``test_isolation.py``) runs against: three people and their data.

- ``alice`` (person A, a member) follows two feeds nobody else follows (one in a category she
  shares with the admin only) and a common feed with her own title and category for it; she has
  read, starred and labelled entries, a saved search, a watchlist with an alert, an API key,
  Fever on, two-factor and preferences, a story and an entity only her entries make, a refresh
  job and an icon only her feed uses.
- ``bob`` (person B, a member) follows the common feed and his own; he has an API key, Fever on
  and a session. Every probe is sent as him.
- ``admin`` (person C, the desk's first admin) has nothing but A's category shared with them
  (so B is not the only one outside it).

Everything private to A carries one of ``MARKERS`` (feed, entry, category, label, saved search,
watchlist, token, story, entity titles; her own name for the common feed): B must never see any
of them. ``snapshot`` reads every row of A's (and C's) data, to compare before and after.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.sql import Select

from newsdesk.desk import Desk
from newsdesk.store.schema import (
    alerts,
    api_tokens,
    categories,
    category_shares,
    entities,
    entity_mentions,
    entries,
    entry_filings,
    entry_labels,
    entry_states,
    event_entities,
    events,
    feeds,
    icons,
    rules,
    saved_searches,
    stories,
    subscriptions,
    users,
    watchlists,
    web_secrets,
    web_sessions,
)
from newsdesk.store.server_key import server_key
from routes_server import Answer, RoutesServer

PASSWORD = "correct horse battery staple"
PREFIX = "Xyloalpha"  # every private marker of A starts with it
MARKERS = (
    "Xyloalphafeed",  # A's own feed's title
    "Xyloalphasharedfeed",  # her feed in the category shared with the admin
    "Xyloalphaentry",  # her entries' titles
    "Xyloalphabody",  # and text
    "Xyloalphaurl",  # her feeds' addresses
    "Xyloalphacat",  # her category
    "Xyloalphasharedcat",  # her category shared with the admin (not with B)
    "Xyloalphasubtitle",  # her own title for the common feed
    "Xyloalphalabel",  # her label
    "Xyloalphasearch",  # her saved search
    "Xyloalphawatch",  # her watchlist
    "Xyloalphahook",  # its webhook address
    "Xyloalphasecret",  # its webhook secret
    "Xyloalphatoken",  # her API key's name
    "Xyloalphastory",  # her story's title
    "Xyloalphaentity",  # an entity only her entries mention
    "Xyloalphaevent",  # an event only her entries date
    "Xyloalpharule",  # her rule's name and query (issue 16)
    "Xyloalphaagent",  # her own feed's user agent (issue 16)
    "Xyloalphacookie",  # and its cookie (a secret: shown to no one, not even her)
)
MISSING = 987_654_321  # an id no object has


@dataclass
class Ids:
    """What the probes refer to: A's objects (``World.a_ids``) or, with the same shapes,
    objects that do not exist (``ghost_ids``): A's must look exactly like those."""

    entry: int  # A's entry in her own feed (read)
    entry2: int  # A's other entry (starred, labelled)
    feed: int  # A's own feed
    shared_feed: int  # A's feed in the category she shares with the admin
    category_id: int
    category: str
    shared_category_id: int
    shared_category: str
    saved: int
    watchlist: int
    story: int
    entity: int
    entity_name: str
    label: str
    token: int
    user: int
    username: str
    job: int
    icon: int
    feed_url: str
    rule: int = MISSING  # her rule (issue 16)


def ghost_ids() -> Ids:
    # fmt: off
    return Ids(
        entry=MISSING, entry2=MISSING + 1, feed=MISSING, shared_feed=MISSING + 1,
        category_id=MISSING, category="Nosuchcategory", shared_category_id=MISSING + 1,
        shared_category="Nosuchsharedcategory", saved=MISSING, watchlist=MISSING, story=MISSING,
        entity=MISSING, entity_name="Nosuchentity", label="Nosuchlabel", token=MISSING,
        user=MISSING, username="nosuchperson", job=MISSING, icon=MISSING,
        feed_url="http://127.0.0.1:9/nosuchfeed.xml",
    )
    # fmt: on


@dataclass
class World:
    desk: Desk
    server: RoutesServer
    a: Ids
    a_id: int
    b_id: int
    c_id: int
    b_key: str  # B's API key
    b_fever: str  # B's Fever api_key
    b_session: str
    common_entries: list[int]  # entries of the feed A and B both follow (A read/starred them)
    b_feed: int
    b_entries: list[int]
    a_feed_paths: tuple[str, ...]  # A's private feeds' paths on the loopback server
    new_feed_url: str  # a feed B may subscribe to during the run
    icon_key: str = ""  # /icon/{key} of A's feed's icon
    reader_key: str = ""  # the key of the republished feeds B's pages show


def rss(title: str, base: str, slug: str, items: list[tuple[str, str]]) -> bytes:
    now = datetime.now(UTC)
    body = "".join(
        f"<item><title>{t}</title><link>{base}/{slug}/{n}</link><guid>{base}/{slug}/{n}</guid>"
        f"<pubDate>{(now - timedelta(hours=n + 1)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        f"</pubDate><category>{slug}tag</category><description>{text}</description></item>"
        for n, (t, text) in enumerate(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{base}/{slug}/</link><description>{title}</description>{body}</channel></rss>"
    ).encode()


def serve_feeds(server: RoutesServer) -> dict[str, str]:
    """The loopback feeds: A's two, the common one, B's own and one B may add later."""
    base = server.base
    texts = {
        "/Xyloalphaurl-own.xml": rss(
            "Xyloalphafeed",
            base,
            "alpha",
            [
                ("Xyloalphaentry one", "Xyloalphabody Xyloalphaentity met the pangolin keepers."),
                ("Xyloalphaentry two", "Xyloalphabody pangolin census in the valley."),
                ("Xyloalphaentry three", "Xyloalphabody pangolin tracks near the river."),
            ],
        ),
        "/Xyloalphaurl-shared.xml": rss(
            "Xyloalphasharedfeed",
            base,
            "alphashared",
            [("Xyloalphaentry four", "Xyloalphabody pangolin sanctuary opens.")],
        ),
        "/common.xml": rss(
            "Common wire",
            base,
            "common",
            [
                ("Harbour cranes idle", "Dock workers wait for spare parts."),
                ("Tram line extended", "The city opens three stations."),
            ],
        ),
        "/bravo.xml": rss(
            "Bravo desk", base, "bravo", [("Bravo item", "Weather turns mild over the hills.")]
        ),
        "/bravo-new.xml": rss(
            "Bravo extra", base, "bravonew", [("Bravo extra item", "Library hours change.")]
        ),
    }
    for path, body in texts.items():
        server.route(path, Answer(body))
    return {path: base + path for path in texts}


def add_people(desk: Desk) -> tuple[int, int, int]:
    """A and B members (with passwords and Fever on); C the desk's first admin."""
    people = desk.store.users
    alice = people.add_user("alice", PASSWORD, "member")
    bob = people.add_user("bob", PASSWORD, "member")
    admin = people.person(None)  # the desk's first admin, made with it
    key = server_key(desk.settings)
    for name in ("alice", "bob"):
        people.set_fever(name, on=True, password=PASSWORD, server_key=key)
    return alice.id, bob.id, admin.id


def fever_key(name: str) -> str:
    return hashlib.md5(f"{name}:{PASSWORD}".encode()).hexdigest()


async def subscribe_and_refresh(desk: Desk, urls: dict[str, str], ids: tuple[int, int]) -> None:
    people = desk.store.users
    alice = desk.as_person(people.user_by_id(ids[0]))  # type: ignore[arg-type]
    bob = desk.as_person(people.user_by_id(ids[1]))  # type: ignore[arg-type]
    await alice.subscribe(urls["/Xyloalphaurl-own.xml"], category="Xyloalphacat", check=False)
    await alice.subscribe(
        urls["/Xyloalphaurl-shared.xml"], category="Xyloalphasharedcat", check=False
    )
    await alice.subscribe(
        urls["/common.xml"], category="Xyloalphacat", title="Xyloalphasubtitle", check=False
    )
    await bob.subscribe(urls["/common.xml"], check=False)
    await bob.subscribe(urls["/bravo.xml"], category="Bravo things", check=False)
    report = await desk.refresh_async(fulltext=False)
    assert not report.errors, report.summary


def _feed_id(engine: Engine, url: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(feeds.c.id).where(feeds.c.url == url)).scalar_one())


def _entry_ids(engine: Engine, feed_id: int) -> list[int]:
    with engine.connect() as conn:
        found = conn.execute(
            select(entries.c.id).where(entries.c.feed_id == feed_id).order_by(entries.c.published)
        )
        return [int(i) for i in found.scalars()]


def _category(engine: Engine, user_id: int, title: str) -> int:
    with engine.connect() as conn:
        query = select(categories.c.id).where(
            categories.c.user_id == user_id, categories.c.title == title
        )
        return int(conn.execute(query).scalar_one())


def _add(conn: Any, table: Any, **values: Any) -> int:
    return int(conn.execute(insert(table).values(**values)).inserted_primary_key[0])


def private_rows(engine: Engine, a_id: int, own: list[int]) -> dict[str, int]:
    """A's rows the pipeline does not make: states, a label, a saved search, a watchlist and its
    alert, a story and an entity only her entries make, two-factor and preferences, an icon.
    Written straight into the tables (the schema is the contract), so the test does not depend
    on the store parts being rewritten around it."""
    now = datetime.now(UTC)
    first, second = own[-1], own[-2]  # oldest last: "one", "two"
    hook = {"webhook": {"url": "http://127.0.0.1:9/Xyloalphahook", "secret": "Xyloalphasecret"}}
    # fmt: off
    with engine.begin() as conn:
        feed_of = dict(conn.execute(select(entries.c.id, entries.c.feed_id)).all())
        for entry, read in ((first, True), (second, False)):
            conn.execute(insert(entry_states).values(
                user_id=a_id, entry_id=entry, feed_id=feed_of[entry], read=read,
                starred=not read, changed_at=now, read_at=now if read else None,
                starred_at=None if read else now))
        conn.execute(insert(entry_labels).values(
            user_id=a_id, entry_id=second, label="Xyloalphalabel"))
        saved = _add(conn, saved_searches, user_id=a_id, name="Xyloalphasearch", query="pangolin",
                     filters={}, created_at=now)
        watch = _add(conn, watchlists, user_id=a_id, name="Xyloalphawatch", query="pangolin",
                     entity_ids=[], categories=[], feed_ids=[], channels=hook, mode="instant",
                     enabled=True, created_at=now)
        _add(conn, alerts, watchlist_id=watch, entry_id=first, channel="webhook", status="sent",
             attempts=1, created_at=now, sent_at=now)
        story = _add(conn, stories, title="Xyloalphastory", lead_entry_id=first, size=2, sources=1,
                     first_published=now - timedelta(hours=3), last_published=now,
                     created_at=now, updated_at=now)
        conn.execute(update(entries).where(entries.c.id.in_([first, second])).values(
            story_id=story))
        entity = _add(conn, entities, kind="person", key="xyloalphaentity", name="Xyloalphaentity",
                      aliases=[], mention_count=2, entry_count=2, first_seen=now, last_seen=now)
        for entry in (first, second):
            conn.execute(insert(entity_mentions).values(
                entry_id=entry, entity_id=entity, count=1, first_offset=0, published=now))
        event = _add(conn, events, entry_id=first, date="2024-01-01", precision="day",
                     sentence="Xyloalphaevent: Xyloalphaentity met the keepers.", position=0)
        conn.execute(insert(event_entities).values(event_id=event, entity_id=entity))
        icon = _add(conn, icons, origin="http://xyloalpha-icon.test", mime_type="image/png",
                    url="http://xyloalpha-icon.test/favicon.ico", data=b"\x89PNG\r\n\x1a\nX",
                    hash="ab" * 32, checked_at=now, fetched_at=now)
        conn.execute(update(users).where(users.c.id == a_id).values(
            totp_secret="Xyloalphatotp-encrypted", recovery_codes=["ab" * 32],
            preferences={"theme": "Xyloalphapref", "mark_read_on_open": False,
                         "mark_read_on_scroll": True}, last_login_at=now))
        rule = _add(conn, rules, user_id=a_id, name="Xyloalpharule", query="Xyloalpharule OR "
                    "pangolin", actions=["tag:Xyloalphalabel"], position=0, enabled=True,
                    matched=1, created_at=now, updated_at=now)
    # fmt: on
    return {
        "saved": saved,
        "watchlist": watch,
        "story": story,
        "entity": entity,
        "icon": icon,
        "rule": rule,
    }


def share(engine: Engine, category_id: int, with_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(category_shares).values(
                category_id=category_id, user_id=with_id, can_manage=True,
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip


def set_icon(engine: Engine, feed_id: int, icon_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id == feed_id).values(icon_id=icon_id))


def build_world(desk: Desk, server: RoutesServer) -> tuple[World, str]:
    """The desk filled as the module's docstring says; also A's session (to start her job)."""
    engine = desk.store.engine
    urls = serve_feeds(server)
    a_id, b_id, c_id = add_people(desk)
    asyncio.run(subscribe_and_refresh(desk, urls, (a_id, b_id)))
    own = _feed_id(engine, urls["/Xyloalphaurl-own.xml"])
    shared = _feed_id(engine, urls["/Xyloalphaurl-shared.xml"])
    common = _feed_id(engine, urls["/common.xml"])
    b_feed = _feed_id(engine, urls["/bravo.xml"])
    own_entries = _entry_ids(engine, own)
    rows = private_rows(engine, a_id, own_entries)
    cat = _category(engine, a_id, "Xyloalphacat")
    shared_cat = _category(engine, a_id, "Xyloalphasharedcat")
    share(engine, shared_cat, c_id)
    set_icon(engine, own, rows["icon"])
    common_entries = _entry_ids(engine, common)
    alice = desk.as_person(desk.store.users.user_by_id(a_id))  # type: ignore[arg-type]
    alice.set_feed_options(own, {"user_agent": "Xyloalphaagent", "cookie": "Xyloalphacookie=1"})
    alice.store.retention.set_default({"keep_days": 4321, "keep_read_days": 321})  # issue 16
    alice.store.retention.set_feed(own, {"keep_last": 54321})
    alice.store.retention.set_feed(common, {"keep_days": None, "keep_last": 654321})
    alice.mark(common_entries[:1], read=True)
    alice.mark(common_entries[1:], starred=True)
    token, _key = alice.store.tokens.create_token("Xyloalphatoken")
    bob = desk.as_person(desk.store.users.user_by_id(b_id))  # type: ignore[arg-type]
    _token, b_key = bob.store.tokens.create_token("bob's reader")
    lifetime = timedelta(days=1)
    people = desk.store.users
    a = Ids(
        entry=own_entries[-1],
        entry2=own_entries[-2],
        feed=own,
        shared_feed=shared,
        category_id=cat,
        category="Xyloalphacat",
        shared_category_id=shared_cat,
        shared_category="Xyloalphasharedcat",
        saved=rows["saved"],
        watchlist=rows["watchlist"],
        story=rows["story"],
        entity=rows["entity"],
        entity_name="Xyloalphaentity",
        label="Xyloalphalabel",
        token=token.id,
        user=a_id,
        username="alice",
        job=0,  # set once her refresh job has started (through the pages, as her)
        icon=rows["icon"],
        feed_url=urls["/Xyloalphaurl-own.xml"],
        rule=rows["rule"],
    )
    world = World(
        desk=desk,
        server=server,
        a=a,
        a_id=a_id,
        b_id=b_id,
        c_id=c_id,
        b_key=b_key,
        b_fever=fever_key("bob"),
        b_session=people.create_session(b_id, lifetime),
        common_entries=common_entries,
        b_feed=b_feed,
        b_entries=_entry_ids(engine, b_feed),
        a_feed_paths=("/Xyloalphaurl-own.xml", "/Xyloalphaurl-shared.xml"),
        new_feed_url=urls["/bravo-new.xml"],
    )
    return world, people.create_session(a_id, lifetime)


def _rows(conn: Any, query: Select[Any]) -> dict[str, dict[str, str]]:
    """Rows by their first two columns (a key for every table read), each as column → repr."""
    found = {}
    for row in conn.execute(query):
        values = row._asdict()
        found[repr(tuple(row)[:2])] = {k: repr(v) for k, v in values.items()}
    return found


def snapshot(world: World) -> dict[str, dict[str, dict[str, str]]]:
    """Every row of A's (and the admin's) data, and of A's private feeds and their entries,
    as text: equal before and after means nothing of theirs changed."""
    people = (world.a_id, world.c_id)
    a = world.a
    private_feeds = (a.feed, a.shared_feed)
    with world.desk.store.engine.connect() as conn:
        owned = [
            int(i)
            for i in conn.execute(
                select(categories.c.id).where(categories.c.user_id.in_(people))
            ).scalars()
        ]
        lists = select(watchlists.c.id).where(watchlists.c.user_id.in_(people))
        found = {
            "users": _rows(conn, select(users).where(users.c.id.in_(people))),
            "web_sessions": _rows(
                conn, select(web_sessions).where(web_sessions.c.user_id.in_(people))
            ),
            "web_secrets": _rows(conn, select(web_secrets)),
            "subscriptions": _rows(
                conn, select(subscriptions).where(subscriptions.c.user_id.in_(people))
            ),
            "categories": _rows(conn, select(categories).where(categories.c.id.in_(owned))),
            "category_shares": _rows(
                conn,
                select(category_shares).where(
                    or_(
                        category_shares.c.category_id.in_(owned),
                        category_shares.c.user_id.in_(people),
                    )
                ),
            ),
            "entry_states": _rows(
                conn, select(entry_states).where(entry_states.c.user_id.in_(people))
            ),
            "entry_labels": _rows(
                conn, select(entry_labels).where(entry_labels.c.user_id.in_(people))
            ),
            "saved_searches": _rows(
                conn, select(saved_searches).where(saved_searches.c.user_id.in_(people))
            ),
            "api_tokens": _rows(conn, select(api_tokens).where(api_tokens.c.user_id.in_(people))),
            "watchlists": _rows(conn, select(watchlists).where(watchlists.c.user_id.in_(people))),
            "alerts": _rows(conn, select(alerts).where(alerts.c.watchlist_id.in_(lists))),
            "feeds": _rows(conn, select(feeds).where(feeds.c.id.in_(private_feeds))),
            "entries": _rows(conn, select(entries).where(entries.c.feed_id.in_(private_feeds))),
            "stories": _rows(conn, select(stories).where(stories.c.id == a.story)),
            "entities": _rows(conn, select(entities).where(entities.c.id == a.entity)),
            "rules": _rows(conn, select(rules).where(rules.c.user_id.in_(people))),
            "entry_filings": _rows(
                conn, select(entry_filings).where(entry_filings.c.user_id.in_(people))
            ),
        }
    return found


def reader_key(html: str) -> str:
    """The reader key of the republished feeds, from a page's feed links."""
    found = re.search(r"[?&]key=([\w-]+)", html)
    return found.group(1) if found else "no-key-on-the-page"


# -- what a probe sends (the table is in test_isolation.py) --

GR_ITEM = "tag:google.com,2005:reader/item/{:016x}"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
LABEL = "user/-/label/"


@dataclass(frozen=True)
class Req:
    """What one probe sends (besides B's credentials)."""

    path: dict[str, Any] = field(default_factory=dict)  # path parameters not filled by name
    query: dict[str, Any] = field(default_factory=dict)
    form: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    files: dict[str, Any] | None = None
    url: str | None = None  # the whole path, for mounts and catch-alls
    session: bool = True  # pages: send B's session (False: the reader key alone, no cookie)


Build = Callable[[Ids, World], Req]


@dataclass(frozen=True)
class Probe:
    kind: str  # deny, own, public
    build: Build
    twin: bool = False
    why_400: str = ""


def deny(build: Build | None = None, why_400: str = "") -> Probe:
    return Probe("deny", build or (lambda a, w: Req()), why_400=why_400)


def own(build: Build | None = None, twin: bool = False) -> Probe:
    return Probe("own", build or (lambda a, w: Req()), twin=twin)


def public(build: Build | None = None) -> Probe:
    return Probe("public", build or (lambda a, w: Req()))


def opml(url: str) -> bytes:
    return (
        '<?xml version="1.0"?><opml version="2.0"><head><title>b</title></head><body>'
        f'<outline type="rss" text="Bravo extra" xmlUrl="{url}"/></body></opml>'
    ).encode()


def item(entry_id: int) -> str:
    return GR_ITEM.format(entry_id)


def fever(**fields: Any) -> Build:
    """A Fever call: ``?api`` and the fields (values may be callables of A's ids)."""

    def build(a: Ids, w: World) -> Req:
        form = {"api_key": w.b_fever}
        form.update({k: str(v(a) if callable(v) else v) for k, v in fields.items()})
        return Req(query={"api": ""}, form=form)

    return build


STREAMS: list[Callable[[Ids], str]] = [
    lambda a: f"feed/{a.feed}",
    lambda a: f"feed/{a.feed_url}",
    lambda a: LABEL + a.label,
    lambda a: LABEL + a.category,
    lambda a: LABEL + a.shared_category,
]


def per_stream(make: Callable[[str], Req]) -> list[Probe]:
    """One probe per stream of A's (her feed by id and by URL, her label, her categories),
    each twinned with the same stream of things that do not exist."""

    def probe(stream: Callable[[Ids], str]) -> Probe:
        return own(lambda a, w: make(stream(a)), twin=True)

    return [probe(stream) for stream in STREAMS]


FEVER: list[Probe] = [
    own(fever(groups="")),
    own(fever(feeds="")),
    own(fever(unread_item_ids="")),
    own(fever(saved_item_ids="")),
    own(fever(favicons="")),
    own(fever(links="")),
    own(fever(items="", with_ids=lambda a: f"{a.entry},{a.entry2}"), twin=True),
    own(fever(mark="item", id=lambda a: a.entry, **{"as": "unread"}), twin=True),
    own(fever(mark="item", id=lambda a: a.entry2, **{"as": "unsaved"}), twin=True),
    own(fever(mark="feed", id=lambda a: a.feed, before=2**31 - 1, **{"as": "read"}), twin=True),
    own(
        fever(mark="group", id=lambda a: a.category_id, before=2**31 - 1, **{"as": "read"}),
        twin=True,
    ),
]


async def state_leaks(api: httpx.AsyncClient, w: World) -> list[str]:
    """A read the common feed's first entry and starred its second: B, who follows the same
    feed, must see both unread and not starred, through every API."""
    read, starred = w.common_entries[0], w.common_entries[1]
    key = {"X-Auth-Token": w.b_key}
    google = {"Authorization": f"GoogleLogin auth={w.b_key}"}
    fever_form = {"api_key": w.b_fever, "saved_item_ids": "", "unread_item_ids": ""}
    both = (read, starred)
    native = [(await api.get(f"/api/entries/{i}", headers=key)).json() for i in both]
    miniflux = [(await api.get(f"/v1/entries/{i}", headers=key)).json() for i in both]
    fever = await api.post("/fever/?api", data=fever_form)
    found = []
    if native[0].get("read") is not False or native[1].get("starred"):
        found.append(f"native API: B sees A's read/starred state {native}"[:300])
    if miniflux[0].get("status") != "unread" or miniflux[1].get("starred"):
        found.append(f"Miniflux API: B sees A's read/starred state {miniflux}"[:300])
    saved = str(fever.json().get("saved_item_ids", "")).split(",")
    unread = str(fever.json().get("unread_item_ids", "")).split(",")
    if fever.status_code != 200 or str(starred) in saved or str(read) not in unread:
        found.append(f"Fever API: {fever.status_code}, B sees A's state? {fever.text[:200]}")
    for stream, entry in (("read", read), ("starred", starred)):
        ids = await api.get(
            "/reader/api/0/stream/items/ids",
            params={"s": f"user/-/state/com.google/{stream}", "output": "json"},
            headers=google,
        )
        if ids.status_code != 200 or f'"{entry}"' in ids.text:
            found.append(f"Google Reader {stream} stream: {ids.status_code} {ids.text[:200]}")
    return found


# -- rules (issue 16): merged into test_isolation's PROBES --


def watch_name(a: Ids) -> str:
    """A's watchlist's name, or one nobody has (for the ghost twin)."""
    return "Nosuchwatch" if a.watchlist == MISSING else "Xyloalphawatch"


# fmt: off
RULE_PROBES: dict[tuple[str, str], list[Probe]] = {
    ("GET", "/rules"): [own()],
    # the preview is B's view: A's category, label, entity, feed match nothing of hers
    ("GET", "/rules/preview"): [
        own(lambda a, w: Req(query={"q": "pangolin"})),
        own(lambda a, w: Req(query={"q": f"category:{a.category}"}), twin=True),
        own(lambda a, w: Req(query={"q": f"tag:{a.label}"}), twin=True),
        own(lambda a, w: Req(query={"q": f"feed:{a.feed}"}), twin=True),
        own(lambda a, w: Req(query={"q": f"entity:{a.entity_name}"}), twin=True)],
    ("POST", "/rules"): [  # the rule naming A's things last: later pages rightly show it
        own(lambda a, w: Req(form={"query": "pangolin", "star": "1", "name": "bob's"})),
        own(lambda a, w: Req(form={"query": "x", "alert": watch_name(a)}), twin=True),
        own(lambda a, w: Req(form={"query": f"category:{a.category}", "category": a.category,
                                   "tag": a.label, "name": "bob's second"}), twin=True)],
    ("GET", "/rules/{rule_id:int}"): [deny()],
    ("POST", "/rules/{rule_id:int}"): [
        deny(lambda a, w: Req(form={"query": "x", "star": "1", "name": "Hijacked"}))],
    ("POST", "/rules/{rule_id:int}/enabled"): [deny(lambda a, w: Req(form={"value": "0"}))],
    ("POST", "/rules/{rule_id:int}/move"): [deny(lambda a, w: Req(form={"direction": "down"}))],
    ("POST", "/rules/{rule_id:int}/apply"): [deny()],
    ("POST", "/rules/{rule_id:int}/delete"): [deny()],
    ("GET", "/api/rules"): [own()],
    ("POST", "/api/rules"): [
        own(lambda a, w: Req(json={"query": "pangolin", "actions": ["star"], "name": "bob's"})),
        own(lambda a, w: Req(json={"query": "x", "actions": [f"alert:{watch_name(a)}"]}),
            twin=True),
        own(lambda a, w: Req(json={"query": f"tag:{a.label}", "actions": [
            f"category:{a.category}", f"tag:{a.label}"]}), twin=True)],
    ("GET", "/api/rules/test"): [
        own(lambda a, w: Req(query={"q": "pangolin"})),
        own(lambda a, w: Req(query={"q": f"category:{a.shared_category}"}), twin=True),
        own(lambda a, w: Req(query={"q": f"entity:{a.entity}"}), twin=True)],
    ("POST", "/api/rules/test"): [
        own(lambda a, w: Req(json={"query": "pangolin OR harbour", "limit": 100})),
        own(lambda a, w: Req(json={"query": f"feed:{a.shared_feed}"}), twin=True)],
    ("GET", "/api/rules/{rule_id}"): [deny()],
    ("PATCH", "/api/rules/{rule_id}"): [
        deny(lambda a, w: Req(json={"enabled": False})), deny(lambda a, w: Req(json={
            "position": 5}))],
    ("DELETE", "/api/rules/{rule_id}"): [deny()],
    ("POST", "/api/rules/{rule_id}/apply"): [deny()],
}
# fmt: on


# -- retention (issue 16): added to test_isolation's PROBES (after what is there) --


def common_feed(w: World) -> int:
    """The feed A and B both follow."""
    with w.desk.store.engine.connect() as conn:
        found = select(entries.c.feed_id).where(entries.c.id == w.common_entries[0])
        return int(conn.execute(found).scalar_one())


# fmt: off
RETENTION_PROBES: dict[tuple[str, str], list[Probe]] = {
    # B sets his own default and his own policy for the feed they share: A's rows stay as
    # they were (the snapshot); her feeds' pages and her subscriptions are out of his reach
    ("POST", "/account/retention"): [own(lambda a, w: Req(form={
        "keep_days": "90", "keep_read_days": "", "keep_last": "100"}))],
    ("POST", "/subscriptions/{feed_id:int}"): [
        deny(lambda a, w: Req(form={"section": "retention", "keep_days": "1", "keep_last": "1"})),
        deny(lambda a, w: Req(path={"feed_id": a.shared_feed}, form={
            "section": "retention", "keep_days": "off"})),
        own(lambda a, w: Req(path={"feed_id": common_feed(w)}, form={
            "section": "retention", "keep_days": "2", "keep_last": "off"}))],
    ("GET", "/api/retention"): [own()],
    ("PUT", "/api/retention"): [own(lambda a, w: Req(json={"keep_days": 90, "keep_last": None}))],
    ("PATCH", "/api/subscriptions/{feed_id}"): [
        deny(lambda a, w: Req(json={"retention": {"keep_days": 1}})),
        deny(lambda a, w: Req(json={"retention": None})),
        deny(lambda a, w: Req(json={"check_interval": 60})),
        own(lambda a, w: Req(path={"feed_id": common_feed(w)}, json={
            "retention": {"keep_days": 2, "keep_last": None}}))],
    ("POST", "/api/cleanup"): [deny(lambda a, w: Req(json={"keep_days": 1, "dry_run": False})),
                               deny(lambda a, w: Req(json={"dry_run": True}))],
}
# fmt: on
