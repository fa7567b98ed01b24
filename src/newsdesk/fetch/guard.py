"""SSRF guard: which URLs and addresses Newsdesk may connect to.

Checked twice: on the URL of every hop (scheme, literal IP hosts), and on the address a host name
resolves to, inside the connector's resolver, so the address checked is the address connected to
(a DNS answer that changes between a check and the connect cannot slip through).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from newsdesk.errors import BlockedAddressError

ALLOWED_SCHEMES = frozenset({"http", "https"})
_HOW_TO_ALLOW = "set NEWSDESK_ALLOW_PRIVATE_NETWORKS=1 to allow private and loopback addresses"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: IPAddress) -> bool:
    """True when ``address`` is globally routable unicast (not loopback/private/link-local/…)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public_address(mapped)
        if address.teredo is not None:
            return False
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    return address.is_global


def check_address(host: str, address: str) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise BlockedAddressError(f"refused {host}: {address!r} is not an IP address") from None
    if not is_public_address(ip):
        raise BlockedAddressError(
            f"refused {host}: it resolves to {ip}, which is not a public address ({_HOW_TO_ALLOW})"
        )


def check_url(url: URL, *, allow_private: bool) -> None:
    """Refuse schemes other than http(s), and literal IP hosts that are not public."""
    if url.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(
            f"refused {url.human_repr()}: only http and https URLs can be fetched"
        )
    host = url.raw_host
    if not host:
        raise BlockedAddressError(f"refused {url.human_repr()}: the URL has no host")
    if allow_private:
        return
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: checked on the resolved address at connect time
    check_address(host, host.strip("[]"))


class GuardedResolver(ThreadedResolver):
    """A resolver that refuses names resolving to any non-public address."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        for result in results:
            check_address(host, result["host"])
        return results


def make_resolver(*, allow_private: bool) -> Any:
    return ThreadedResolver() if allow_private else GuardedResolver()
