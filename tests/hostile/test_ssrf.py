"""SSRF: with the guard on, Newsdesk never connects to loopback, private, link-local, CGNAT or
metadata addresses, however the address is written, reached (redirects, DNS) or re-resolved.

Every case runs against a real loopback server on 127.0.0.1 (``private``) and ends by asserting
that server received no request: a refusal that happened only after the request went out would
still be an SSRF. ``public`` (127.0.0.2, allowed by the test settings) proves the harness itself
can connect, so a refusal is the guard's doing and not a broken test.
"""

from __future__ import annotations

import asyncio

import pytest

from newsdesk.desk import Desk
from newsdesk.errors import NewsdeskError
from newsdesk.fetch import HttpClient
from newsdesk.fetch.guard import check_address, is_public_address, parse_networks
from newsdesk.settings import Settings
from newsdesk.store import open_store

from .loopback import LoopbackServer, TableResolver

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Public</title>'
    "<item><title>hello</title><guid>1</guid><link>http://public.test/1</link></item>"
    "</channel></rss>"
)


async def fetch(settings: Settings, url: str, resolver: TableResolver | None = None) -> str | None:
    async with HttpClient(settings, resolver=resolver) as client:
        result = await client.fetch(url)
    return result.error


async def test_the_public_side_is_reachable(public: LoopbackServer, guarded: Settings) -> None:
    """Positive control: an allowed address and a name resolving to it both work."""
    public.static("/feed", FEED)
    resolver = TableResolver({"public.test": [public.host]})
    assert await fetch(guarded, public.url("/feed")) is None
    assert await fetch(guarded, f"http://public.test:{public.port}/feed", resolver) is None
    assert public.hits == ["/feed", "/feed"]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "127.0.0.1.",
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f.1",
        "0x7f000001",
        "017700000001",  # octal
        "127.1",
        "0",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:7f00:1]",
        "[::1]",
        "[::]",
    ],
)
async def test_loopback_in_any_spelling_is_refused(
    host: str, private: LoopbackServer, guarded: Settings
) -> None:
    private.static("/secret", "secret")
    error = await fetch(guarded, f"http://{host}:{private.port}/secret")
    assert error is not None
    assert private.hits == []


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "169.254.1.1",
        "100.64.0.1",  # CGNAT
        "192.0.0.1",
        "198.18.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "[fe80::1]",
        "[fc00::1]",
        "[fd00:ec2::254]",  # AWS metadata over IPv6
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[2001::1]",  # Teredo
    ],
)
async def test_private_literal_addresses_are_refused_before_connecting(
    address: str, guarded: Settings
) -> None:
    error = await fetch(guarded, f"http://{address}/latest/meta-data/")
    assert error is not None and error.startswith("refused"), error
    assert "not a public address" in error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
    ],
)
async def test_names_resolving_to_private_addresses_are_refused(
    address: str, private: LoopbackServer, guarded: Settings
) -> None:
    private.static("/secret", "secret")
    resolver = TableResolver({"innocent.test": [address]})
    error = await fetch(guarded, f"http://innocent.test:{private.port}/secret", resolver)
    assert error is not None and "not a public address" in error
    assert private.hits == []
    assert resolver.lookups, "the guard must judge the resolver's answer"


async def test_one_private_answer_among_public_ones_refuses_the_name(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings
) -> None:
    """Happy eyeballs could pick any answer: all of them must be acceptable."""
    public.static("/feed", FEED)
    resolver = TableResolver({"mixed.test": [public.host, private.host]})
    error = await fetch(guarded, f"http://mixed.test:{public.port}/feed", resolver)
    assert error is not None and "not a public address" in error
    assert public.hits == [] and private.hits == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{private}/secret",
        "http://localhost:{private}/secret",
        "http://internal.test:{private}/secret",
        "http://2130706433:{private}/secret",
        "http://[::ffff:127.0.0.1]:{private}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{private}/_GET%20/secret",
        "ftp://127.0.0.1:{private}/secret",
        "dict://127.0.0.1:{private}/",
    ],
)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_public_name_redirecting_to_a_private_address_is_refused(
    target: str, status: int, public: LoopbackServer, private: LoopbackServer, guarded: Settings
) -> None:
    private.static("/secret", "secret")
    location = target.format(private=private.port)
    public.redirect("/go", location, status)
    public.redirect("/hop", f"http://public.test:{public.port}/go", 301)
    resolver = TableResolver({"public.test": [public.host], "internal.test": ["127.0.0.1"]})
    error = await fetch(guarded, f"http://public.test:{public.port}/hop", resolver)
    assert error is not None and error.startswith("refused"), error
    assert public.hits == ["/hop", "/go"]  # the public hops were really made …
    assert private.hits == []  # … and the private one never was


async def test_dns_answers_that_change_between_lookups_are_judged_every_time(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings
) -> None:
    """DNS rebinding: the first answer is public, later ones private. Each lookup the
    connector makes is checked, so the private answer is never connected to."""
    public.static("/feed", FEED)
    private.static("/feed", "secret")
    answers = iter([[public.host]] + [[private.host]] * 10)
    resolver = TableResolver({"rebind.test": lambda: next(answers)})
    # One client: the first connection goes to the public answer …
    async with HttpClient(guarded, resolver=resolver) as client:
        first = await client.fetch(f"http://rebind.test:{public.port}/feed")
        # … a second port means a second lookup, which now answers the private address.
        second = await client.fetch(f"http://rebind.test:{private.port}/feed")
    assert first.error is None and b"Public" in first.body
    assert second.error is not None and "not a public address" in second.error
    # A fresh client (new DNS cache) for the same host and port: refused too.
    error = await fetch(guarded, f"http://rebind.test:{public.port}/feed", resolver)
    assert error is not None and "not a public address" in error
    assert [a for _, a in resolver.lookups] == [[public.host], [private.host], [private.host]]
    assert public.hits == ["/feed"]
    assert private.hits == []


async def test_rebinding_inside_one_redirect_chain(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings
) -> None:
    private.static("/secret", "secret")
    answers = iter([[public.host], [private.host]])
    resolver = TableResolver({"rebind.test": lambda: next(answers)})
    public.redirect("/start", f"http://rebind.test:{private.port}/secret")
    error = await fetch(guarded, f"http://rebind.test:{public.port}/start", resolver)
    assert error is not None and "not a public address" in error
    assert public.hits == ["/start"] and private.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.2/",
        "ftp://127.0.0.2/",
        "dict://127.0.0.2:11211/",
        "ldap://127.0.0.2/",
        "data:text/plain,hello",
        "jar:http://127.0.0.2/x.jar!/",
        "http:///no-host",
    ],
)
async def test_non_http_schemes_are_refused(url: str, guarded: Settings) -> None:
    error = await fetch(guarded, url)
    assert error is not None and error.startswith("refused"), error


async def test_short_link_expansion_never_follows_into_private_space(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings
) -> None:
    private.static("/admin", "secret")
    public.redirect("/t/abc", private.url("/admin"))
    async with HttpClient(guarded) as client:
        assert await client.expand(private.url("/admin")) == private.url("/admin")
        assert await client.expand(public.url("/t/abc")) == public.url("/t/abc")
    assert public.hits == ["/t/abc"]
    assert private.hits == []


def test_subscribing_to_a_private_url_saves_nothing(
    private: LoopbackServer, guarded: Settings, tmp_path: object
) -> None:
    private.static("/feed", FEED)
    settings = guarded.replace(database_url=f"sqlite:///{tmp_path}/n.db")
    desk = Desk(settings)
    try:
        with pytest.raises(NewsdeskError, match="not a public address"):
            asyncio.run(desk.subscribe(private.url("/feed")))
        with pytest.raises(NewsdeskError, match="refused"):
            asyncio.run(desk.subscribe(f"http://localhost:{private.port}/feed"))
        assert desk.store.list_feeds() == []
    finally:
        desk.close()
    assert private.hits == []


def test_refresh_and_full_text_never_reach_private_addresses(
    public: LoopbackServer, private: LoopbackServer, guarded: Settings, tmp_path: object
) -> None:
    """A public feed whose article links (fetched for full text) and whose subscription
    (added without a check) point into private space: refresh records errors, nothing leaks."""
    from newsdesk.refresh import refresh_sync

    private.static("/page", "<html><body><article><p>secret</p></article></body></html>")
    private.static("/feed", FEED)
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>'
        f"<item><title>An article</title><guid>a</guid><link>{private.url('/page')}</link>"
        "<description>short…</description></item>"
        f"<item><title>Another</title><guid>b</guid><link>http://localhost:{private.port}/page"
        "</link><description>short…</description></item></channel></rss>"
    )
    public.static("/feed", feed)
    settings = guarded.replace(fulltext=True, expand_links=True)
    store = open_store(f"sqlite:///{tmp_path}/n.db")
    try:
        store.add_feed(public.url("/feed"))
        bad = store.add_feed(private.url("/feed"))
        report = refresh_sync(store, settings)
        assert [o.feed_id for o in report.errors] == [bad.id]
        assert "not a public address" in (store.get_feed(bad.id).last_error or "")
        from newsdesk.store import EntryQuery

        entries = store.list_entries(EntryQuery())
        assert len(entries) == 2
        assert all(e.fulltext_status == "failed" for e in entries)
        assert all("secret" not in e.content_text for e in entries)
    finally:
        store.close()
    # The site icons are looked for too: the public site's, never the private feed's.
    assert sorted(public.hits) == ["/", "/favicon.ico", "/feed"]
    assert private.hits == []


def test_the_allowlist_is_exact() -> None:
    allowed = parse_networks("127.0.0.2/32, 192.168.7.0/24")
    check_address("h", "127.0.0.2", allowed)
    check_address("h", "::ffff:127.0.0.2", allowed)
    check_address("h", "192.168.7.200", allowed)
    for other in ("127.0.0.1", "127.0.0.3", "192.168.8.1", "::1", "169.254.169.254"):
        with pytest.raises(NewsdeskError):
            check_address("h", other, allowed)
    with pytest.raises(ValueError):
        parse_networks("not-a-network")


def test_public_addresses_are_public() -> None:
    import ipaddress

    for address in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"):
        assert is_public_address(ipaddress.ip_address(address))


async def test_guard_refusal_happens_without_any_connection_attempt(guarded: Settings) -> None:
    """A literal private IP is refused from its URL alone: the metadata address is never even
    dialled (the test would otherwise wait for a connect timeout)."""
    settings = guarded.replace(fetch_timeout=60.0)
    error = await fetch(settings, "http://169.254.169.254/latest/meta-data/iam/")
    assert error is not None and error.startswith("refused 169.254.169.254")


@pytest.mark.parametrize("address", ["fec0::1", "fed0::abcd", "feff:ffff::1"])
def test_deprecated_site_local_ipv6_is_not_public(address: str) -> None:
    """fec0::/10 (RFC 3879 deprecated it, but routers may still route it inside a site)."""
    import ipaddress

    assert not is_public_address(ipaddress.ip_address(address))
    with pytest.raises(NewsdeskError):
        check_address("intranet.test", address)


async def test_a_refusal_does_not_reveal_what_a_name_resolves_to(
    private: LoopbackServer, guarded: Settings
) -> None:
    """A refusal message is shown to whoever added the feed: naming the address would turn the
    guard into an oracle for the internal DNS."""
    resolver = TableResolver({"intranet.test": ["10.20.30.40"], "v6.test": ["fd12:3456::7"]})
    for host, address in (("intranet.test", "10.20.30.40"), ("v6.test", "fd12:3456::7")):
        error = await fetch(guarded, f"http://{host}:{private.port}/", resolver)
        assert error is not None and "not a public address" in error, error
        assert address not in error and "10.20" not in error and "fd12" not in error, error
    assert private.hits == []
