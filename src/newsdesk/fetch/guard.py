"""SSRF guard: which URLs and addresses Newsdesk may connect to.

Checked twice: on the URL of every hop (scheme, literal IP hosts), and on the address a host name
resolves to, inside the connector's resolver, so the address checked is the address connected to
(a DNS answer that changes between a check and the connect cannot slip through).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from newsdesk.errors import BlockedAddressError

ALLOWED_SCHEMES = frozenset({"http", "https"})
_HOW_TO_ALLOW = (
    "list it in NEWSDESK_ALLOWED_NETWORKS, or set NEWSDESK_ALLOW_PRIVATE_NETWORKS=1 to allow "
    "every private and loopback address"
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: IPAddress) -> bool:
    """True when ``address`` is globally routable unicast (not loopback/private/link-local/…)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public_address(mapped)
        if address.teredo is not None:
            return False
        if address.is_site_local:
            # fec0::/10: deprecated (RFC 3879) yet still routed inside some sites; Python's
            # is_global calls it global.
            return False
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    return address.is_global


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address and port that may be fetched (``serve --demo``'s own sample server), while
    the rest of that address, other services on loopback included, stays refused."""

    address: IPAddress
    port: int


# An allowance: a whole network (any port) or one endpoint.
Network = ipaddress.IPv4Network | ipaddress.IPv6Network | Endpoint
_ENDPOINT = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<v4>[0-9.]+)):(?P<port>[0-9]+)$")


def _parse_allowance(part: str) -> Network:
    found = _ENDPOINT.match(part)
    if found is None:
        return ipaddress.ip_network(part, strict=False)
    port = int(found["port"])
    if not 0 < port < 65536:
        raise ValueError(f"{part!r}: the port must be 1 to 65535")
    return Endpoint(ipaddress.ip_address(found["v6"] or found["v4"]), port)


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"192.168.1.10/32, 10.0.0.0/24, 127.0.0.1:8123, [::1]:8123"`` → allowances (a network,
    or one address and port); raises ValueError on a bad entry."""
    return tuple(_parse_allowance(part.strip()) for part in spec.split(",") if part.strip())


def _allowed(ip: IPAddress, allowed: tuple[Network, ...], port: int | None) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for entry in allowed:
        if isinstance(entry, Endpoint):
            if entry.address == ip and entry.port == port:
                return True
        elif ip.version == entry.version and ip in entry:
            return True
    return False


def check_address(
    host: str,
    address: str,
    allowed: tuple[Network, ...] = (),
    port: int | None = None,
    *,
    literal: bool = False,
) -> None:
    """Refuse ``address`` unless public or allowed (``port``: the port connected to, for
    allowances of one address and port). The message names the address only when ``literal``
    (it was written in the URL): what a *name* resolves to stays unsaid, or anyone who may add a
    feed could map the internal DNS through the refusals."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise BlockedAddressError(f"refused {host}: the resolver gave no IP address") from None
    if not is_public_address(ip) and not _allowed(ip, allowed, port):
        what = f"{ip} is" if literal else "it resolves to an address that is"
        raise BlockedAddressError(f"refused {host}: {what} not a public address ({_HOW_TO_ALLOW})")


def check_url(url: URL, *, allow_private: bool, allowed: tuple[Network, ...] = ()) -> None:
    """Refuse schemes other than http(s), and literal IP hosts that are not public (unless in
    ``allowed``)."""
    if url.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(
            f"refused {url.human_repr()}: only http and https URLs can be fetched"
        )
    host = url.raw_host
    if not host:
        raise BlockedAddressError(f"refused {url.human_repr()}: the URL has no host")
    if allow_private:
        return
    literal = _literal_address(host)
    if literal is not None:  # else a name: checked on the resolved address at connect time
        check_address(host, literal, allowed, url.port, literal=True)


# Legacy IPv4 spellings (2130706433, 0x7f.1, 017700000001, 127.1) that inet_aton, and so the
# system resolver, maps onto an address.
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)


def _literal_address(host: str) -> str | None:
    bare = host.strip("[]")
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(bare):
        try:
            return socket.inet_ntoa(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return None
    return None


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and refuses names resolving to any non-public address (outside
    ``allowed``). The connector connects to exactly the addresses checked here."""

    def __init__(self, inner: AbstractResolver, allowed: tuple[Network, ...] = ()) -> None:
        self.inner = inner
        self.allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            check_address(host, result["host"], self.allowed, result["port"] or port)
        return results

    async def close(self) -> None:
        await self.inner.close()


def make_resolver(
    *,
    allow_private: bool,
    inner: AbstractResolver | None = None,
    allowed: tuple[Network, ...] = (),
) -> AbstractResolver:
    """The connector's resolver: ``inner`` (default: the system resolver, in threads), guarded
    unless private networks are allowed."""
    resolver = inner if inner is not None else ThreadedResolver()
    return resolver if allow_private else GuardedResolver(resolver, allowed)
