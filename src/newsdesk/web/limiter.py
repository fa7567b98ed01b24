"""The failed-login budget the login form and every API share (``store.throttle``)."""

from __future__ import annotations

import ipaddress

from newsdesk.store.throttle import ThrottlePolicy, ThrottleStore
from newsdesk.web.lanes import Lanes


class LoginLimiter:
    """The failed-login budget of the whole deployment (``store.throttle``, in the database),
    one per client address and one per account, shared by the login form, HTTP Basic, Google
    Reader's ClientLogin and Fever. ``attempts`` is read on every call (tests lift it)."""

    def __init__(self, throttle: ThrottleStore, attempts: int, lanes: Lanes | None = None) -> None:
        self.throttle = throttle
        self.attempts = attempts
        self.lanes = lanes or Lanes()

    @property
    def policy(self) -> ThrottlePolicy:
        return ThrottlePolicy(attempts=self.attempts)

    async def reserve(self, client: str, account: str | None) -> int:
        """Count an attempt before checking it; 0: check it, else seconds to wait."""
        keys = throttle_keys(client, account)
        return await self.lanes.run(True, self.throttle.reserve_attempt, keys, self.policy)

    async def succeeded(self, client: str, account: str | None) -> None:
        await self.lanes.run(True, self.throttle.clear_attempts, throttle_keys(client, account))

    async def retry_after(self, client: str) -> int:
        """For unguessable secrets (API keys, tokens): wait only if the address is blocked."""
        keys = throttle_keys(client, None)
        return await self.lanes.run(False, self.throttle.wait_for, keys, self.policy)

    async def failed(self, client: str) -> None:
        keys = throttle_keys(client, None)
        await self.lanes.run(True, self.throttle.record_failure, keys, self.policy)


def throttle_keys(client: str, account: str | None) -> list[str]:
    """An IPv6 client is counted by its /64: one host usually holds the whole network."""
    address = client
    try:
        ip = ipaddress.ip_address(client)
        if ip.version == 6:
            address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass
    keys = [f"address:{address[:120]}"]
    if account and account.strip():
        keys.append(f"account:{account.strip().lower()[:150]}")
    return keys
