"""Delivering alerts: claim, send, record.

At most once: rows are claimed (status "sending", ``sent_at`` = when the claim was made) in one
transaction before anything is sent, and only the rows this run's UPDATE actually changed are
sent, so two runs at once never both send a row, and a run killed mid-send leaves its rows in
"sending" instead of sending them again. Such rows are marked "failed" (interrupted) once they
are older than any send could take. A failed send puts its rows back to "pending" with one more
attempt counted, for the next run, until ``settings.alert_attempts`` makes them "failed". Every
message is sent on its own: one broken channel does not stop the others.

Instant watchlists send one message per alert; hourly and daily ones one message per channel
listing every pending entry, once their period has passed since the last digest (or since the
watchlist was made).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from typing import Any

import aiohttp
from yarl import URL

from newsdesk.alerts.messages import (
    AlertEntry,
    HttpMessage,
    email_parts,
    ntfy_request,
    snippet,
    webhook_request,
)
from newsdesk.errors import BlockedAddressError, NewsdeskError
from newsdesk.fetch.guard import Network, check_url, make_resolver, parse_networks
from newsdesk.settings import Settings
from newsdesk.store.protocols.alerts import INTERRUPTED as INTERRUPTED  # the error of a stale claim
from newsdesk.store.protocols.alerts import AlertOutcome, AlertsStorage, ClaimPlan, PendingAlert
from newsdesk.store.watchlists import Watchlist

PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
CLAIM_LIMIT = 2000  # alerts claimed per run; the rest wait for the next one
CONCURRENCY = 8
_RESPONSE_BYTES = 64 * 1024


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0  # alerts delivered
    retrying: int = 0  # alerts whose send failed and will be tried again
    failed: int = 0  # alerts given up (attempts used up, channel removed, interrupted)
    messages: int = 0  # messages delivered (a digest carries several alerts)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        text = f"{self.sent} alert{'s' * (self.sent != 1)} sent in {self.messages} message"
        text += "s" * (self.messages != 1)
        if self.retrying:
            text += f", {self.retrying} to retry"
        if self.failed:
            text += f", {self.failed} failed"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "messages": self.messages,
            "errors": list(self.errors),
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class _Job:
    """One message: a watchlist, a channel, the alert rows it delivers."""

    watchlist: Watchlist
    channel: str
    event: str
    rows: list[tuple[int, int, int]]  # (alert id, entry id, attempts before this one)
    error: str | None = None
    state: str = "queued"  # queued → sending → done


class DeliveryError(NewsdeskError):
    """A channel did not take a message."""


# -- claim --------------------------------------------------------------------------------


def _digest_due(watchlist: Watchlist, now: datetime) -> bool:
    period = PERIODS.get(watchlist.mode)
    if period is None:
        return True
    since = watchlist.last_digest_at or watchlist.created_at
    return now - since >= period


def plan_claim(
    lists: Mapping[int, Watchlist], pending: Sequence[PendingAlert], now: datetime
) -> ClaimPlan:
    """Which pending alerts go out now: an instant watchlist's all, a digest's once its period
    has passed, and a retry's at once (its channel failed last time); those whose channel the
    watchlist no longer has fail."""
    plan = ClaimPlan()
    retry_channels = {(a.watchlist_id, a.channel) for a in pending if a.attempts > 0}
    for alert in pending:
        watchlist = lists[alert.watchlist_id]
        if alert.channel not in watchlist.channels:
            plan.orphans.append(alert.id)
        elif watchlist.mode == "instant" or _digest_due(watchlist, now):
            plan.send.append(alert.id)
            if watchlist.mode != "instant":
                plan.digests.add(watchlist.id)
        elif (alert.watchlist_id, alert.channel) in retry_channels:
            plan.send.append(alert.id)
    return plan


def _claim(
    store: AlertsStorage, settings: Settings, now: datetime, report: DeliveryReport
) -> list[_Job]:
    stale_before = now - timedelta(seconds=max(600.0, 10 * settings.alert_timeout))
    claim = store.claim_alerts(
        now,
        stale_before=stale_before,
        limit=CLAIM_LIMIT,
        plan=lambda lists, pending: plan_claim(lists, pending, now),
    )
    report.failed += claim.stale + claim.orphans
    jobs: list[_Job] = []
    grouped: dict[tuple[int, str], _Job] = {}
    for alert in claim.alerts:
        watchlist = claim.watchlists[alert.watchlist_id]
        item = (alert.id, alert.entry_id, alert.attempts)
        if watchlist.mode == "instant":
            jobs.append(_Job(watchlist, alert.channel, "alert", [item]))
            continue
        job = grouped.get((watchlist.id, alert.channel))
        if job is None:
            job = _Job(watchlist, alert.channel, "digest", [])
            grouped[(watchlist.id, alert.channel)] = job
            jobs.append(job)
        job.rows.append(item)
    return jobs


def load_entries(
    store: AlertsStorage, entry_ids: Iterable[int], person_id: int | None = None
) -> dict[int, AlertEntry]:
    """What a message to ``person_id`` says about each entry, newest first when iterated."""
    found = {
        r.id: AlertEntry(
            id=r.id,
            title=" ".join((r.title or "").split()) or None,
            url=r.url,
            feed=r.feed,
            published=r.published,
            story_id=r.story_id,
            snippet=snippet(r.text),
        )
        for r in store.alert_entries(entry_ids, person_id)
    }
    return dict(sorted(found.items(), key=lambda kv: (kv[1].published, kv[0]), reverse=True))


class _EncodedSubject(str):
    """A Subject folded as RFC 2047 encoded words by ``email.header.Header``. The stdlib's own
    folder drops the space between two encoded words when a long non-ASCII subject (an entry's
    title) is split across lines ("charged — “a lie”" arrives as "charged —“a lie”")."""

    name = "Subject"

    def fold(self, *, policy: Any) -> str:
        encoded = Header(str(self), "utf-8", header_name="Subject").encode(linesep=policy.linesep)
        return f"Subject: {encoded}{policy.linesep}"


def _send_mail(
    settings: Settings, recipients: Sequence[str], subject: str, text: str, html: str
) -> None:
    """As ``publish.mail.send_digest``, with the subject folded safely."""
    from newsdesk.process.addresses import check_address
    from newsdesk.publish.mail import build_message, send_message

    if not settings.smtp_host:
        raise NewsdeskError(
            "no SMTP server for e-mail alerts: set NEWSDESK_SMTP_HOST (and NEWSDESK_SMTP_PORT, "
            "NEWSDESK_SMTP_SECURITY, NEWSDESK_SMTP_USER, NEWSDESK_SMTP_PASSWORD)"
        )
    to = [check_address(r) for r in recipients]
    sender = settings.mail_from or settings.smtp_user
    if not sender or "@" not in sender:
        raise NewsdeskError("set NEWSDESK_MAIL_FROM to the address alerts are sent from")
    check_address(sender)
    message = build_message(sender=sender, recipients=to, subject="-", text=text, html=html)
    if subject.isascii():
        message.replace_header("Subject", subject)
    else:
        message.replace_header("Subject", _EncodedSubject(subject))
    send_message(settings, message)


# -- send -----------------------------------------------------------------------------------


class Sender:
    """Sends messages over HTTP (one aiohttp session, SSRF-guarded) and SMTP (in a thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._allowed: tuple[Network, ...] = parse_networks(settings.allowed_networks)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=CONCURRENCY,
                resolver=make_resolver(
                    allow_private=self.settings.allow_private_networks, allowed=self._allowed
                ),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.settings.user_agent},
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def post(self, message: HttpMessage) -> None:
        timeout = self.settings.alert_timeout
        try:
            url = URL(message.url)
            private = self.settings.allow_private_networks
            check_url(url, allow_private=private, allowed=self._allowed)
            async with asyncio.timeout(timeout):
                async with self._http().post(
                    url, data=message.body, headers=message.headers, allow_redirects=False
                ) as resp:
                    await resp.content.read(_RESPONSE_BYTES)
                    if not 200 <= resp.status < 300:
                        where = resp.headers.get("Location")
                        extra = f" (redirects to {where}: not followed)" if where else ""
                        raise DeliveryError(
                            f"HTTP {resp.status} {resp.reason or ''}".rstrip() + extra
                        )
        except TimeoutError:
            raise DeliveryError(f"no answer within {timeout:g} s (alert_timeout)") from None
        except BlockedAddressError as exc:
            raise DeliveryError(str(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or str(exc)
            raise DeliveryError(f"cannot connect to {exc.host}:{exc.port}: {reason}") from None
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"HTTP error: {exc.__class__.__name__}: {exc}") from None
        except (UnicodeError, ValueError) as exc:
            raise DeliveryError(f"invalid URL or header: {exc}") from None
        except OSError as exc:
            raise DeliveryError(f"network error: {exc}") from None

    async def mail(self, recipients: Sequence[str], subject: str, text: str, html: str) -> None:
        await asyncio.to_thread(_send_mail, self.settings, recipients, subject, text, html)

    async def send(
        self,
        watchlist: Watchlist,
        channel: str,
        items: Sequence[AlertEntry],
        *,
        event: str,
        now: datetime,
    ) -> None:
        """Send one message; raises NewsdeskError (DeliveryError) when it did not go out."""
        conf = watchlist.channels.get(channel)
        if conf is None:
            raise DeliveryError(f"the watchlist has no {channel} channel")
        if channel == "webhook":
            secret = str(conf.get("secret") or "")
            message = webhook_request(
                watchlist, items, event=event, now=now, url=str(conf["url"]), secret=secret
            )
            await self.post(message)
        elif channel == "ntfy":
            await self.post(ntfy_request(watchlist, items, event=event, conf=conf))
        elif channel == "email":
            subject, text, html = email_parts(watchlist, items, event=event)
            await self.mail(list(conf.get("to") or []), subject, text, html)
        else:
            raise DeliveryError(f"unknown channel {channel!r}")


def _load_for_owners(
    store: AlertsStorage, jobs: Sequence[_Job]
) -> dict[int | None, dict[int, AlertEntry]]:
    """The entries of the jobs as each watchlist owner names them."""
    wanted: dict[int | None, set[int]] = {}
    for job in jobs:
        wanted.setdefault(job.watchlist.user_id, set()).update(e for _, e, _ in job.rows)
    return {owner: load_entries(store, ids, owner) for owner, ids in wanted.items()}


async def _run(
    sender: Sender,
    jobs: Sequence[_Job],
    found: dict[int | None, dict[int, AlertEntry]],
    now: datetime,
) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(job: _Job) -> None:
        wanted = {entry_id for _, entry_id, _ in job.rows}
        owned = found.get(job.watchlist.user_id, {})
        items = [e for entry_id, e in owned.items() if entry_id in wanted]
        async with gate:
            job.state = "sending"
            try:
                if not items:
                    raise DeliveryError("the entries are gone")
                await sender.send(job.watchlist, job.channel, items, event=job.event, now=now)
            except NewsdeskError as exc:
                job.error = str(exc) or exc.__class__.__name__
            except Exception as exc:  # one broken channel must not stop the others
                job.error = f"{exc.__class__.__name__}: {exc}"
            job.state = "done"

    await asyncio.gather(*(one(job) for job in jobs))


# -- record ---------------------------------------------------------------------------------


def _record(
    store: AlertsStorage,
    settings: Settings,
    jobs: Sequence[_Job],
    now: datetime,
    report: DeliveryReport,
) -> None:
    limit = max(1, settings.alert_attempts)
    outcomes: list[AlertOutcome] = []
    for job in jobs:
        ids = [alert_id for alert_id, _, _ in job.rows]
        if job.state == "queued":  # never tried (the run was cancelled): free to try again
            outcomes.append(AlertOutcome(ids, "untried"))
            continue
        if job.state == "sending":  # may have gone out: left to turn "failed" as stale
            continue
        if job.error is None:
            outcomes.append(AlertOutcome(ids, "sent"))
            report.sent += len(ids)
            report.messages += 1
            continue
        report.errors.append(f"{job.watchlist.name} ({job.channel}): {job.error}")
        outcomes.append(AlertOutcome(ids, "error", job.error))
        for _, _, attempts in job.rows:
            if attempts + 1 >= limit:
                report.failed += 1
            else:
                report.retrying += 1
    store.record_outcomes(outcomes, now, attempts=limit)


# -- entry points ---------------------------------------------------------------------------


async def deliver_due_async(
    store: AlertsStorage, settings: Settings, *, now: datetime | None = None
) -> DeliveryReport:
    """Send every alert that is due now (see the module's docstring)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    jobs = await asyncio.to_thread(_claim, store, settings, now, report)
    if jobs:
        try:
            found = await asyncio.to_thread(_load_for_owners, store, jobs)
            async with Sender(settings) as sender:
                await _run(sender, jobs, found, now)
        finally:
            # Even when cancelled: sent rows are recorded, untried ones released. A shielded
            # thread, so the write happens although the awaiting task is being cancelled.
            await asyncio.shield(asyncio.to_thread(_record, store, settings, jobs, now, report))
    report.seconds = time.perf_counter() - started
    return report


def deliver_due(
    store: AlertsStorage, settings: Settings, *, now: datetime | None = None
) -> DeliveryReport:
    """Synchronous ``deliver_due_async`` (its own event loop)."""
    return asyncio.run(deliver_due_async(store, settings, now=now))


async def send_test_async(
    settings: Settings, watchlist: Watchlist, *, now: datetime | None = None
) -> dict[str, str | None]:
    """One test message on every channel of the watchlist; channel → error (None: delivered).
    Nothing is recorded."""
    now = now or datetime.now(UTC)
    results: dict[str, str | None] = {}
    async with Sender(settings) as sender:

        async def one(channel: str) -> None:
            try:
                await sender.send(watchlist, channel, [], event="test", now=now)
                results[channel] = None
            except NewsdeskError as exc:
                results[channel] = str(exc) or exc.__class__.__name__
            except Exception as exc:
                results[channel] = f"{exc.__class__.__name__}: {exc}"

        await asyncio.gather(*(one(c) for c in watchlist.channels))
    return {c: results.get(c) for c in watchlist.channels}


def send_test(
    settings: Settings, watchlist: Watchlist, *, now: datetime | None = None
) -> dict[str, str | None]:
    return asyncio.run(send_test_async(settings, watchlist, now=now))
