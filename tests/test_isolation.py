"""Isolation, the core test of teams (issue 15): every route and method of the app — the reading
room and the four APIs, enumerated from the app's own route table, so a route added later is
covered or fails here — is sent as person B (a member) against person A's private data.

How each route is probed is in ``PROBES`` (route → what B sends, built from A's ids):
- ``deny``: it addresses A's object by id: 403 or 404 (a 400 only with a reason written down).
- ``own``: a list, search or bulk route that rightly answers B with B's own data. With
  ``twin``, the same request is also sent with ids that exist nowhere (``ghost_ids``): A's
  objects must get the very answer a missing one gets (a client cannot tell hers exist).
- ``public``: the same for everyone (health, login form, OpenAPI …).
- routes under ``ADMIN_PREFIXES`` need no entry: a member gets 403, whatever is sent (an
  entry in ``PROBES`` overrides that, for a route there a member may use).
For every probe: never a 5xx, never 401 (B's credentials are good), and none of A's
``MARKERS`` in the body (unless the request itself carried it). After each route: A's rows
(and the admin's) are byte-identical to before, and A's private feeds were never fetched.

A route missing from ``PROBES`` fails the test: say there how B would reach A's data through it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from isolation_data import (
    FEVER,
    LABEL,
    MARKERS,
    PASSWORD,
    READ,
    RETENTION_PROBES,
    RULE_PROBES,
    STARRED,
    Ids,
    Probe,
    Req,
    World,
    build_world,
    deny,
    ghost_ids,
    item,
    opml,
    own,
    per_stream,
    public,
    reader_key,
    state_leaks,
)
from isolation_data import (
    Req as R,
)
from isolation_data import snapshot as take_snapshot
from newsdesk.desk import Desk
from newsdesk.settings import load_settings
from newsdesk.web.app import create_app
from newsdesk.web.guard import SESSION_COOKIE
from routes_server import RoutesServer

ADMIN_PREFIXES = ("/admin", "/v1/users", "/api/users")
WITH_PASSWORD = own(lambda a, w: R(form={"password": PASSWORD}))  # B's own, his password
HOOK = {"webhook": "http://127.0.0.1:9/bob"}  # a watchlist needs a channel
CHANNELS = {"webhook": {"url": "http://127.0.0.1:9/bob"}}
# fmt: off
PROBES: dict[tuple[str, str], list[Probe]] = {
    # -- the reading room's own pages ---------------------------------------------------------
    ("GET", "/healthz"): [public()],
    ("GET", "/static"): [public(lambda a, w: R(url="/static/app.css"))],
    ("GET", "/setup"): [public()],
    ("POST", "/setup"): [public(lambda a, w: R(form={
        "username": a.username, "password": "x" * 20, "confirm": "x" * 20}))],
    ("GET", "/login"): [public()],
    ("POST", "/login"): [public(lambda a, w: R(form={"username": a.username, "password": "no!"}))],
    ("POST", "/login/code"): [public(lambda a, w: R(form={  # a second step forged for A
        "pending": f"{a.user}.9999999999.{'ab' * 32}", "code": "123456"}))],
    ("POST", "/logout"): [own()],  # sent last (it ends B's session)
    ("GET", "/"): [own(), own(lambda a, w: R(query={"show": "all"}))],
    ("GET", "/category/{name:path}"): [deny(lambda a, w: R(path={"name": a.category})),
                                       deny(lambda a, w: R(path={"name": a.shared_category}))],
    ("GET", "/feed/{feed_id:int}"): [deny(), deny(lambda a, w: R(path={"feed_id": a.shared_feed}))],
    ("GET", "/tag/{name:path}"): [own(lambda a, w: R(path={"name": "alphatag"})),
                                  own(lambda a, w: R(path={"name": a.label}), twin=True)],
    ("GET", "/categories"): [own()],
    ("GET", "/entry/{entry_id:int}"): [
        deny(), deny(lambda a, w: R(path={"entry_id": a.entry2}, query={"in": f"feed:{a.feed}"}))],
    ("POST", "/entry/{entry_id:int}/read"): [
        deny(lambda a, w: R(form={"value": "0"})),
        deny(lambda a, w: R(path={"entry_id": a.entry2}, form={"value": "1", "story": a.story}))],
    ("POST", "/entry/{entry_id:int}/star"): [
        deny(lambda a, w: R(path={"entry_id": a.entry2}, form={"value": "0"}))],
    ("POST", "/entry/{entry_id:int}/refetch"): [deny()],
    ("POST", "/mark-read"): [own(lambda a, w: R(form={"in": f"feed:{a.feed}"}), twin=True),
                             own(lambda a, w: R(form={"in": f"category:{a.category}"}), twin=True)],
    ("GET", "/search"): [
        own(lambda a, w: R(query={"q": "pangolin"})),
        own(lambda a, w: R(query={"q": "pangolin", "feed": a.feed}), twin=True),
        own(lambda a, w: R(query={"q": "pangolin", "category": a.category}), twin=True),
        own(lambda a, w: R(query={"q": "", "entity": a.entity_name}), twin=True)],
    ("GET", "/subscriptions"): [own()],
    ("POST", "/subscriptions/add"): [own(lambda a, w: R(form={"url": w.new_feed_url}))],
    ("GET", "/subscriptions/{feed_id:int}"): [deny()],
    ("POST", "/subscriptions/{feed_id:int}"): [
        deny(lambda a, w: R(form={"title": "Hijacked", "category": "Hijacked"})),
        deny(lambda a, w: R(form={"section": "options", "user_agent": "Hijacked",
                                  "cookie": "hijack=1"}))],
    ("POST", "/subscriptions/{feed_id:int}/remove"): [deny()],
    ("POST", "/refresh"): [own(lambda a, w: R(form={"feed": a.feed}), twin=True)],
    ("GET", "/refresh/{job_id:int}"): [deny()],
    ("GET", "/opml"): [own()],
    ("POST", "/opml"): [own(lambda a, w: R(files={"file": ("b.opml", opml(w.new_feed_url))}))],
    ("POST", "/saved-searches"): [own(lambda a, w: R(form={
        "name": f"bob {a.feed}", "q": "pangolin", "feed": a.feed}), twin=True)],
    ("POST", "/saved-searches/{search_id:int}/delete"): [deny()],
    ("GET", "/digest"): [own(), own(lambda a, w: R(query={"category": a.category}), twin=True)],
    ("GET", "/syndicate/{rest:path}"): [
        own(lambda a, w: R(path={"rest": "all.atom"})),
        own(lambda a, w: R(path={"rest": f"tag/{a.label}.json"}), twin=True),
        deny(lambda a, w: R(path={"rest": f"feed/{a.feed}.atom"})),
        deny(lambda a, w: R(path={"rest": f"category/{a.category}.rss"})),
        deny(lambda a, w: R(path={"rest": f"story/{a.story}.json"})),
        deny(lambda a, w: R(path={"rest": f"entity/{a.entity}.atom"})),
        deny(lambda a, w: R(path={"rest": f"search/{a.saved}.atom"})),
        # a feed reader holding the key B's pages show: no session, so no person at all
        own(lambda a, w: R(path={"rest": "all.atom"}, query={"key": w.reader_key}, session=False)),
        deny(lambda a, w: R(path={"rest": f"feed/{a.feed}.atom"}, query={"key": w.reader_key},
                            session=False)),
        deny(lambda a, w: R(path={"rest": f"search/{a.saved}.rss"}, query={"key": w.reader_key},
                            session=False))],
    ("GET", "/account"): [own()],
    ("POST", "/account/fever"): [own(lambda a, w: R(form={"fever": "on", "password": PASSWORD}))],
    ("POST", "/account/syndication-key"): [own()],  # sent last but one (B's feed key changes)
    ("POST", "/account/password"): [own(lambda a, w: R(form={  # a wrong current password
        "password": "not it", "new_password": "y" * 20, "confirm": "y" * 20}))],
    ("POST", "/account/keys"): [own(lambda a, w: R(form={"name": "bob's third"}))],
    ("POST", "/account/keys/{key_id:int}/revoke"): [deny(lambda a, w: R(path={"key_id": a.token}))],
    ("POST", "/account/two-factor/start"): [own()],
    ("POST", "/account/two-factor/confirm"): [own(lambda a, w: R(form={"code": "123456"}))],
    ("POST", "/account/two-factor/off"): [WITH_PASSWORD],
    ("POST", "/account/two-factor/recovery-codes"): [WITH_PASSWORD],
    ("GET", "/account/sharing"): [own(), own(lambda a, w: R(query={"category": a.category_id}))],
    ("POST", "/account/sharing"): [
        deny(lambda a, w: R(form={"category_id": a.category_id, "username": "bob"})),
        deny(lambda a, w: R(form={"category_id": a.shared_category_id, "username": "bob"}))],
    ("POST", "/account/sharing/{category_id:int}/unshare"): [deny(lambda a, w: R(
        path={"category_id": a.shared_category_id}, form={"user_id": w.c_id}))],
    ("POST", "/account/sharing/{category_id:int}/leave"): [
        deny(lambda a, w: R(path={"category_id": a.shared_category_id}))],
    ("GET", "/icon/{key}"): [public(lambda a, w: R(path={"key": w.icon_key}))],
    # -- the intelligence pages ---------------------------------------------------------------
    ("GET", "/stories"): [own(), own(lambda a, w: R(query={"min_size": "1"}))],
    ("GET", "/story/{story_id:int}"): [deny()],
    ("GET", "/story/{story_id:int}/timeline"): [deny()],
    ("GET", "/story/{story_id:int}/timeline.{fmt}"): [
        deny(lambda a, w: R(path={"fmt": "json"})), deny(lambda a, w: R(path={"fmt": "csv"}))],
    ("GET", "/entities"): [own()],
    ("GET", "/entity/{entity_id:int}"): [deny()],
    ("GET", "/entity/{entity_id:int}/timeline"): [deny()],
    ("GET", "/entity/{entity_id:int}/timeline.{fmt}"): [
        deny(lambda a, w: R(path={"fmt": "json"})), deny(lambda a, w: R(path={"fmt": "csv"}))],
    ("GET", "/watchlists"): [own()],
    ("POST", "/watchlists"): [
        own(lambda a, w: R(form={"name": f"b{a.feed}", "query": "x", "feed": a.feed, **HOOK}),
            twin=True),
        own(lambda a, w: R(form={"name": f"b{a.entity}", "entities": a.entity_name, **HOOK}),
            twin=True),
        own(lambda a, w: R(form={"name": f"c{a.category}", "category": a.category, **HOOK}),
            twin=True)],
    ("POST", "/watchlists/{watchlist_id:int}/test"): [deny()],
    ("POST", "/watchlists/{watchlist_id:int}/delete"): [deny()],
    # -- the native API -----------------------------------------------------------------------
    ("GET", "/api/"): [public()],
    ("GET", "/api/openapi.json"): [public()],
    ("GET", "/api/docs"): [public()],
    ("GET", "/api/subscriptions"): [own()],
    ("POST", "/api/subscriptions"): [
        own(lambda a, w: R(json={"url": w.new_feed_url, "check": False}))],
    ("GET", "/api/subscriptions/{feed_id}"): [deny()],
    ("PATCH", "/api/subscriptions/{feed_id}"): [
        deny(lambda a, w: R(json={"title": "Hijacked", "paused": True})),
        deny(lambda a, w: R(json={"options": {"user_agent": "Hijacked", "cookie": "h=1"}}))],
    ("DELETE", "/api/subscriptions/{feed_id}"): [deny()],
    ("GET", "/api/categories"): [own()],
    ("GET", "/api/entries"): [
        own(), own(lambda a, w: R(query={"starred": "true"})),
        own(lambda a, w: R(query={"search": "pangolin"})),
        own(lambda a, w: R(query={"feed": a.feed}), twin=True),
        own(lambda a, w: R(query={"category": a.category}), twin=True),
        own(lambda a, w: R(query={"tag": a.label}), twin=True),
        own(lambda a, w: R(query={"story_id": a.story}), twin=True),
        own(lambda a, w: R(query={"entity_id": a.entity}), twin=True)],
    ("POST", "/api/entries/state"): [
        own(lambda a, w: R(json={"ids": [a.entry], "read": False}), twin=True),
        own(lambda a, w: R(json={"ids": [a.entry2], "starred": False}), twin=True),
        own(lambda a, w: R(json={"feed": a.feed, "read": True}), twin=True),
        own(lambda a, w: R(json={"category": a.category, "read": True}), twin=True)],
    ("GET", "/api/entries/{entry_id}"): [deny()],
    ("PATCH", "/api/entries/{entry_id}"): [
        deny(lambda a, w: R(json={"read": False, "starred": True}))],
    ("GET", "/api/entries/{entry_id}/related"): [deny()],
    ("GET", "/api/digest"): [
        own(), own(lambda a, w: R(query={"category": a.category}), twin=True)],
    ("GET", "/api/opml"): [own()],
    ("POST", "/api/opml"): [own(lambda a, w: R(content=opml(w.new_feed_url)))],
    ("POST", "/api/refresh"): [own(lambda a, w: R(json={"feeds": [a.feed]}), twin=True)],
    ("GET", "/api/refresh/{job_id}"): [deny()],
    ("GET", "/api/me"): [own()],
    ("GET", "/api/tokens"): [own()],
    ("POST", "/api/tokens"): [own(lambda a, w: R(json={"name": "bob's second"}))],
    ("DELETE", "/api/tokens/{token_id}"): [deny()],
    ("GET", "/api/stories"): [own()],
    ("GET", "/api/stories/{story_id}"): [deny()],
    ("GET", "/api/stories/{story_id}/timeline"): [deny()],
    ("POST", "/api/stories/{story_id}/read"): [deny()],
    ("POST", "/api/stories/{story_id}/unread"): [deny()],
    ("GET", "/api/entities"): [own()],
    ("GET", "/api/entities/{entity_id}"): [deny()],
    ("GET", "/api/entities/{entity_id}/entries"): [deny()],
    ("GET", "/api/entities/{entity_id}/timeline"): [deny()],
    ("GET", "/api/watchlists"): [own()],
    ("POST", "/api/watchlists"): [
        own(lambda a, w: R(json={"name": f"b{a.feed}", "query": "x", "feed_ids": [a.feed],
                                 "channels": CHANNELS}), twin=True),
        own(lambda a, w: R(json={"name": f"b{a.entity}", "entity_ids": [a.entity],
                                 "channels": CHANNELS}), twin=True),
        own(lambda a, w: R(json={"name": f"c{a.category}", "query": "x",
                                 "categories": [a.category], "channels": CHANNELS}), twin=True)],
    ("GET", "/api/watchlists/{watchlist_id}"): [deny()],
    ("PATCH", "/api/watchlists/{watchlist_id}"): [deny(lambda a, w: R(json={"enabled": False}))],
    ("DELETE", "/api/watchlists/{watchlist_id}"): [deny()],
    ("GET", "/api/watchlists/{watchlist_id}/alerts"): [deny()],
    # -- Miniflux -----------------------------------------------------------------------------
    ("GET", "/v1/me"): [own()],
    # a member may change themselves (not their role) and mark their own entries read
    ("PUT", "/v1/users/{user_id}"): [deny(lambda a, w: R(json={"password": "z" * 20})), own(
        lambda a, w: R(path={"user_id": w.b_id}, json={"is_admin": True}))],
    ("PUT", "/v1/users/{user_id}/mark-all-as-read"): [deny(), own(lambda a, w: R(path={
        "user_id": w.b_id}))],
    ("GET", "/v1/integrations/status"): [public()],
    ("GET", "/v1/version"): [public()],
    ("GET", "/v1/categories"): [own()],
    ("GET", "/v1/categories/{category_id}/feeds"): [
        deny(), deny(lambda a, w: R(path={"category_id": a.shared_category_id}))],
    ("GET", "/v1/categories/{category_id}/entries"): [deny()],
    ("GET", "/v1/categories/{category_id}/entries/{entry_id}"): [deny()],
    ("PUT", "/v1/categories/{category_id}/mark-all-as-read"): [deny()],
    ("PUT", "/v1/categories/{category_id}/refresh"): [deny()],
    ("POST", "/v1/discover"): [public(lambda a, w: R(json={"url": w.new_feed_url}))],
    ("GET", "/v1/feeds"): [own()],
    ("POST", "/v1/feeds"): [own(lambda a, w: R(json={
        "feed_url": w.new_feed_url, "category_id": a.category_id}), twin=True)],
    ("GET", "/v1/feeds/counters"): [own()],
    ("PUT", "/v1/feeds/refresh"): [own()],
    ("GET", "/v1/feeds/{feed_id}"): [deny()],
    ("PUT", "/v1/feeds/{feed_id}"): [
        deny(lambda a, w: R(json={"title": "Hijacked", "disabled": True})),
        deny(lambda a, w: R(json={"user_agent": "Hijacked", "cookie": "h=1", "crawler": True})),
        own(lambda a, w: R(path={"feed_id": w.b_feed}, json={"category_id": a.category_id}),
            twin=True)],
    ("DELETE", "/v1/feeds/{feed_id}"): [deny()],
    ("PUT", "/v1/feeds/{feed_id}/refresh"): [deny()],
    ("PUT", "/v1/feeds/{feed_id}/mark-all-as-read"): [deny()],
    ("GET", "/v1/feeds/{feed_id}/icon"): [deny()],
    ("GET", "/v1/icons/{icon_id}"): [deny()],  # the icon only A's feed has
    ("GET", "/v1/feeds/{feed_id}/entries"): [deny()],
    ("GET", "/v1/feeds/{feed_id}/entries/{entry_id}"): [deny()],
    ("GET", "/v1/entries"): [
        own(), own(lambda a, w: R(query={"starred": "true"})),
        own(lambda a, w: R(query={"status": "read"})),
        own(lambda a, w: R(query={"search": "pangolin"})),
        own(lambda a, w: R(query={"category_id": a.category_id}), twin=True),
        own(lambda a, w: R(query={"feed_id": a.feed}), twin=True)],
    ("PUT", "/v1/entries"): [
        own(lambda a, w: R(json={"entry_ids": [a.entry], "status": "unread"}), twin=True),
        own(lambda a, w: R(json={"entry_ids": [a.entry2], "starred": False}), twin=True)],
    ("GET", "/v1/entries/ids"): [own(), own(lambda a, w: R(query={"starred": "true"}))],
    ("GET", "/v1/entries/{entry_id}"): [deny()],
    ("PUT", "/v1/entries/{entry_id}/bookmark"): [deny(lambda a, w: R(path={"entry_id": a.entry2}))],
    ("PUT", "/v1/entries/{entry_id}/star"): [deny(lambda a, w: R(path={"entry_id": a.entry2}))],
    ("POST", "/v1/entries/{entry_id}/save"): [deny()],
    ("GET", "/v1/entries/{entry_id}/fetch-content"): [deny()],
    ("PUT", "/v1/entries/{entry_id}"): [
        deny(lambda a, w: R(json={"title": "Hijacked", "content": "x"}))],
    ("GET", "/v1/export"): [own()],
    ("POST", "/v1/import"): [own(lambda a, w: R(content=opml(w.new_feed_url)))],
    ("POST", "/v1/categories"): [own(lambda a, w: R(json={"title": a.category}), twin=True)],
    ("PUT", "/v1/categories/{category_id}"): [deny(lambda a, w: R(json={"title": "Hijacked"}))],
    ("DELETE", "/v1/categories/{category_id}"): [deny()],
    ("PUT", "/v1/flush-history"): [own()],
    ("DELETE", "/v1/flush-history"): [own()],
    # -- Google Reader ------------------------------------------------------------------------
    ("POST", "/reader/api/0/edit-tag"): [
        own(lambda a, w: R(form={"i": item(a.entry), "r": READ}), twin=True),
        own(lambda a, w: R(form={"i": item(a.entry2), "r": STARRED}), twin=True),
        own(lambda a, w: R(form={"i": str(a.entry2), "r": LABEL + a.label}), twin=True),
        own(lambda a, w: R(form={"i": item(a.entry), "a": LABEL + "Bobs"}), twin=True)],
    ("POST", "/reader/api/0/rename-tag"): [
        own(lambda a, w: R(form={"s": LABEL + a.label, "dest": LABEL + "Re"}), twin=True),
        own(lambda a, w: R(form={"s": LABEL + a.category, "dest": LABEL + "Re2"}), twin=True)],
    ("POST", "/reader/api/0/disable-tag"): [
        own(lambda a, w: R(form={"s": LABEL + a.label}), twin=True),
        own(lambda a, w: R(form={"s": LABEL + a.shared_category}), twin=True)],
    ("POST", "/reader/api/0/subscription/edit"): [
        own(lambda a, w: R(form={"ac": "edit", "s": f"feed/{a.feed}", "t": "Hijacked"}), twin=True),
        own(lambda a, w: R(form={"ac": "unsubscribe", "s": f"feed/{a.feed_url}"}), twin=True),
        own(lambda a, w: R(form={"ac": "edit", "s": f"feed/{a.shared_feed}",
                                 "r": LABEL + a.shared_category}), twin=True)],
    ("POST", "/reader/api/0/subscription/quickadd"): [
        own(lambda a, w: R(form={"quickadd": w.new_feed_url}))],
    ("GET", "/reader/api/0/subscription/export"): [own()],
    ("POST", "/reader/api/0/subscription/import"): [
        own(lambda a, w: R(content=opml(w.new_feed_url)))],
    ("GET", "/reader/atom/{stream:path}"): per_stream(lambda s: R(path={"stream": s})),
    ("POST", "/reader/api/0/mark-all-as-read"): per_stream(
        lambda s: R(form={"s": s, "ts": "9999999999000000"})),
}
# Reading habits (issue 16): B changes his own preferences; marking A's entries (and her story)
# as scrolled past answers as for entries that exist nowhere; nor may he turn her
# mark_read_on_view off through Miniflux.
PROBES.update({
    ("POST", "/account/preferences"): [own(lambda a, w: R(form={
        "shown": "mark_read_on_open,mark_read_on_scroll", "mark_read_on_scroll": "on"}))],
    ("POST", "/entries/read"): [own(lambda a, w: R(form={
        "ids": f"{a.entry},{a.entry2}", "stories": str(a.story)}), twin=True)],
    ("PATCH", "/api/me"): [own(lambda a, w: R(json={"preferences": {"mark_read_on_open": False}}))],
})
PROBES[("PUT", "/v1/users/{user_id}")].append(deny(lambda a, w: R(json={
    "mark_read_on_view": True})))
for _method in ("GET", "POST"):  # routes Google Reader clients call with either
    PROBES[(_method, "/reader/api/0/tag/list")] = [own()]
    PROBES[(_method, "/accounts/ClientLogin")] = [
        own(lambda a, w: R(query={"Email": "bob", "Passwd": PASSWORD}))]
    for _path in ("token", "user-info", "subscription/list", "unread-count", "stream/contents"):
        PROBES[(_method, "/reader/api/0/" + _path)] = [own()]
    PROBES[(_method, "/reader/api/0/stream/contents/{stream:path}")] = [
        own(lambda a, w: R(path={"stream": STARRED})),
        *per_stream(lambda s: R(path={"stream": s}))]
    PROBES[(_method, "/reader/api/0/stream/items/ids")] = [
        own(lambda a, w: R(query={"s": STARRED, "n": "1000"})),
        *per_stream(lambda s: R(query={"s": s, "n": "1000"}))]
    PROBES[(_method, "/reader/api/0/stream/items/contents")] = [
        own(lambda a, w: R(query={"i": item(a.entry)}), twin=True),
        own(lambda a, w: R(query={"i": str(a.entry2)}), twin=True)]
    for _path in ("/fever/", "/fever"):
        PROBES[(_method, _path)] = FEVER
for _prefix in ("/api", "/v1", "/reader", "/accounts", "/fever"):  # the APIs' catch-alls
    for _method in ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"):
        PROBES[(_method, _prefix + "/{rest:path}")] = [
            public(lambda a, w: R(path={"rest": "no/such/route"}))]
# fmt: on
PROBES.update(RULE_PROBES)  # issue 16
for _key, _probes in RETENTION_PROBES.items():  # issue 16: retention's faces, added
    PROBES[_key] = PROBES.get(_key, []) + _probes

# Path parameters filled from A's ids by name (others come from the probe's ``Req.path``).
BY_NAME = {
    "entry_id": "entry",
    "feed_id": "feed",
    "category_id": "category_id",
    "search_id": "saved",
    "watchlist_id": "watchlist",
    "story_id": "story",
    "entity_id": "entity",
    "token_id": "token",
    "user_id": "user",
    "identifier": "username",  # /v1/users/{identifier}: an id or a name
    "job_id": "job",
    "icon_id": "icon",
    "rule_id": "rule",
}
PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
Snapshot = dict[str, dict[str, dict[str, str]]]
# Last: B's category named like A's (later pages rightly show it), the end of B's key, session
LAST = (("POST", "/v1/categories"), ("POST", "/account/syndication-key"), ("POST", "/logout"))


def app_routes(app: Starlette) -> list[tuple[str, str]]:
    """Every (method, path) of the app, mounts walked into; HEAD goes with GET."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[BaseRoute], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                inner = getattr(route.app, "routes", None)
                if inner:
                    walk(list(inner), prefix + route.path)
                else:  # an app of its own (the static files)
                    found.append(("GET", prefix + route.path))
            elif isinstance(route, Route):
                found.extend((m, prefix + route.path) for m in sorted(route.methods or ()))
            else:
                raise AssertionError(f"{route!r}: a kind of route this test cannot probe yet")

    walk(list(app.routes), "")
    found = [(m, p) for m, p in found if m != "HEAD"]
    # Reads first, removals last: what one leaky route destroys, later probes could not see.
    order = ("GET", "OPTIONS", "PATCH", "PUT", "POST", "DELETE")
    return sorted(found, key=lambda r: (r in LAST, LAST.index(r) if r in LAST else 0,
                                        order.index(r[0]) if r[0] in order else 9))  # fmt: skip


def fill(template: str, given: dict[str, Any], ids: Ids) -> str:
    def one(match: re.Match[str]) -> str:
        name, convertor = match.groups()
        if name in given:
            value = given[name]
        elif name in BY_NAME:
            value = getattr(ids, BY_NAME[name])
        else:
            raise AssertionError(f"{template}: give {{{name}}} in the probe's Req(path=...)")
        return quote(str(value), safe="/:" if convertor == "path" else "")

    return PARAM.sub(one, template)


@dataclass
class Clients:
    pages: httpx.AsyncClient  # B's session
    bare: httpx.AsyncClient  # no cookie: APIs and feed readers
    csrf: str
    jobs: Any  # the app's refresh runner: a refresh B starts ends before the next probe


async def send(
    c: Clients, w: World, method: str, template: str, req: Req, ids: Ids
) -> tuple[httpx.Response, str]:
    """B's request, with the credentials its API expects; and its text (markers it carries
    may come back)."""
    url = req.url or fill(template, req.path, ids)
    headers: dict[str, str] = {}
    form = dict(req.form) if req.form is not None else None
    client = c.bare
    if url.startswith(("/api/", "/v1/")):
        headers["X-Auth-Token"] = w.b_key
    elif url.startswith(("/reader/", "/accounts/")):
        headers["Authorization"] = f"GoogleLogin auth={w.b_key}"
    elif not url.startswith("/fever") and req.session:
        client, token = c.pages, c.csrf
        if url in ("/login/code", "/setup") and method == "POST":  # the login forms' token
            token = csrf_of((await client.get("/login")).text)
        headers["X-CSRF-Token"] = token
        if method not in ("GET", "HEAD") and req.json is None and req.content is None:
            form = {"csrf_token": token, **(form or {})}
    response = await client.request(
        method, url, params=req.query, data=form, json=req.json, content=req.content,
        files=req.files, headers=headers,
    )  # fmt: skip
    for _ in range(120):
        if c.jobs.running() is None:
            break
        c.jobs.wait(0.5)
    return response, f"{url} {req.query} {form} {req.json} {req.content!r}"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found, f"no CSRF token on the page: {html[:300]}"
    return found.group(1)


def where(method: str, response: httpx.Response) -> str:
    path = response.request.url.raw_path.decode()
    return f"{method} {path[:160]} -> {response.status_code}"


def judge(probe: Probe, req: Req, method: str, response: httpx.Response, sent: str) -> list[str]:
    status, at = response.status_code, where(method, response)
    problems = []
    if status >= 500:
        problems.append(f"{at}: a server error")
    elif status == 401 and req.session:
        problems.append(f"{at}: B's credentials were refused (fix the probe or the auth)")
    elif (
        probe.kind == "deny"
        and status not in (403, 404, 401)
        and not (status == 400 and probe.why_400)
    ):
        problems.append(f"{at}: B reached A's object (403 or 404 expected)")
    folded = response.text.casefold() if method != "HEAD" else ""
    shown = [m for m in MARKERS if m.casefold() not in sent.casefold() and m.casefold() in folded]
    if shown:
        i = folded.index(shown[0].casefold())
        context = response.text[max(0, i - 50) : i + 30]
        problems.append(f"{at}: shows A's {', '.join(shown)} (…{context!r})")
    return problems


async def run_probe(c: Clients, w: World, method: str, template: str, probe: Probe) -> list[str]:
    """One probe as B; with ``twin``, first the same with ids that exist nowhere."""
    missing = None
    if probe.twin:
        ghost = ghost_ids()
        missing, _ = await send(c, w, method, template, probe.build(ghost, w), ghost)
    req = probe.build(w.a, w)
    response, sent = await send(c, w, method, template, req, w.a)
    failures = judge(probe, req, method, response, sent)
    if missing is not None and missing.status_code != response.status_code:
        failures.append(
            f"{where(method, response)} for A's ids but {missing.status_code} for ids that exist "
            "nowhere: hers must look missing"
        )
    if method == "GET" and probe.kind == "deny":
        head, _ = await send(c, w, "HEAD", template, req, w.a)
        failures.extend(judge(probe, req, "HEAD", head, sent))
    return failures


def fetched(w: World) -> int:
    return sum(path in w.a_feed_paths for path, _ in w.server.hits)


async def run_probes(c: Clients, w: World, routes: list[tuple[str, str]]) -> list[str]:
    """Every route's probes; after each route, what of A's changed or was fetched."""
    failures: list[str] = []
    before = take_snapshot(w)
    for method, template in routes:
        probes, hits = PROBES.get((method, template)), fetched(w)
        if probes is None and template.startswith(ADMIN_PREFIXES):
            response, _ = await send(c, w, method, template, Req(form={}), w.a)
            if response.status_code != 403:
                failures.append(f"{where(method, response)}: a member reached an admin route")
        elif probes is None:
            failures.append(
                f"{method} {template}: not in PROBES (tests/test_isolation.py): add how person B "
                "would reach person A's data through it (deny/own/public)"
            )
        for probe in probes or []:
            failures.extend(await run_probe(c, w, method, template, probe))
        if probes is None and not template.startswith(ADMIN_PREFIXES):
            continue
        after = take_snapshot(w)  # per route: each snapshot costs some queries
        failures += [f"{method} {template}: {change}" for change in compare(before, after)]
        before = after
        if fetched(w) > hits:
            failures.append(f"{method} {template}: fetched A's private feeds {fetched(w) - hits}x")
    return failures


async def prepare(c: Clients, w: World, app: Starlette, a_session: str) -> list[str]:
    """A's refresh job (started on the pages, as her), the keys B's pages show, and checks that
    the markers are real (A sees them) and B's credentials work."""
    ctx = app.state.ctx
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as alice:
        alice.cookies.set(SESSION_COOKIE, a_session)
        page = await alice.get(f"/feed/{w.a.feed}")
        assert page.status_code == 200 and "Xyloalphaentry" in page.text, page.text[:500]
        token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
        assert token, "A's page has no CSRF token"
        started = await alice.post(
            "/refresh", data={"csrf_token": token.group(1), "feed": str(w.a.feed)}
        )
        assert started.status_code == 303, started.text[:300]
        w.a.job = int(started.headers["location"].rsplit("/", 1)[1])
    ctx.jobs.wait(60)
    w.icon_key = f"{w.a.icon}-{ctx.icon_links.key(w.a.icon, 'ab' * 32)}"
    home = await c.pages.get("/")
    assert home.status_code == 200 and "Bravo item" in home.text, home.text[:300]
    c.csrf = csrf_of(home.text)
    w.reader_key = reader_key(home.text)
    me = await c.bare.get("/v1/me", headers={"X-Auth-Token": w.b_key})
    assert me.status_code == 200 and "bob" in me.text, me.text[:300]
    return []


def compare(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed in A's (and the admin's) rows: rows gone, rows new, columns changed."""
    changed = []
    for table, rows in before.items():
        now = after[table]
        for key in rows.keys() - now.keys():
            changed.append(f"A's {table} row {key} is gone: {rows[key]}"[:400])
        for key in now.keys() - rows.keys():
            changed.append(f"A's {table} has a new row {key}: {now[key]}"[:400])
        for key in rows.keys() & now.keys():
            cols = {c: f"{v} -> {now[key][c]}" for c, v in rows[key].items() if now[key][c] != v}
            if cols:
                changed.append(f"A's {table} row {key} changed: {cols}"[:400])
    return changed


async def isolation(w: World, app: Starlette, a_session: str) -> list[str]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as pages,
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as bare,
    ):
        pages.cookies.set(SESSION_COOKIE, w.b_session)
        c = Clients(pages, bare, "", app.state.ctx.jobs)
        await prepare(c, w, app, a_session)
        routes = app_routes(app)
        failures = await state_leaks(bare, w) + await run_probes(c, w, routes)
    jobs = app.state.ctx.jobs
    for _ in range(60):
        jobs.wait(1)
        if jobs.running() is None:
            break
    stale = sorted(set(PROBES) - set(routes))
    failures += [
        f"{m} {p}: in PROBES but the app has no such route (rename or remove it)" for m, p in stale
    ]
    return failures


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[tuple[World, Starlette, str]]:
    server = RoutesServer()
    settings = load_settings(
        env={},
        database_url=store_url,
        allow_private_networks=True,
        fulltext=False,
        story_river=False,
    )
    desk = Desk(settings)
    try:
        built, a_session = build_world(desk, server)
        app = create_app(settings, desk=desk)
        yield built, app, a_session
        app.state.ctx.jobs.close(timeout=30)
    finally:
        desk.close()
        server.stop()


def test_person_b_never_reaches_person_a(world: tuple[World, Starlette, str]) -> None:
    """Every route and method, as B against A's data: 403/404 or B's own data, nothing of A's
    shown, nothing of A's changed; admin routes 403."""
    failures = asyncio.run(isolation(*world))
    print("\n".join(failures))
    assert not failures, f"{len(failures)} isolation failures:\n" + "\n".join(failures)
