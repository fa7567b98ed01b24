"""E-mail addresses, checked where they are given (alert channels, digests by mail)."""

from __future__ import annotations

from email.headerregistry import Address

from newsdesk.errors import NewsdeskError


def check_address(value: str) -> str:
    value = value.strip()
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError):
        raise NewsdeskError(f"{value!r} is not an e-mail address") from None
    if not address.domain or not address.username:
        raise NewsdeskError(f"{value!r} is not an e-mail address")
    return value
